"""PyTorch eager reference for benches/train_step.rs: the same default
transceiver (encoder θ, K=64 codebook with straight-through, index channel
ε=0.1, L=4 decoder φ), batch 64, Adam. Prints samples/s.

Run with slfsim's LibTorch venv:  ~/.cache/slfsim/venv/bin/python benches/reference_train_step.py [threads]
"""
import sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
K, D, EPS = 64, 16, 0.1

enc = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Conv2d(64, D, 1))
dec = nn.Sequential(nn.Conv2d(D, 64, 3, 1, 1), nn.ReLU(), nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(),
                    nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 1, 3, 1, 1))
x = torch.rand(64, 1, 32, 32)
with torch.no_grad():
    flat0 = enc(x).permute(0, 2, 3, 1).reshape(-1, D)
codebook = nn.Parameter(flat0[torch.randint(0, flat0.shape[0], (K,))].clone())
opt = torch.optim.Adam(list(enc.parameters()) + [codebook] + list(dec.parameters()), lr=1e-3)

def step():
    flat = enc(x).permute(0, 2, 3, 1).reshape(-1, D)
    with torch.no_grad():
        dist = (codebook ** 2).sum(1)[None, :] - 2 * flat @ codebook.t()
        idx = dist.argmin(1)
        # Symmetric index channel on the CPU, as slfsim does it.
        flip = torch.rand(idx.shape) < EPS
        shift = torch.randint(1, K, idx.shape)
        rx = torch.where(flip, (idx + shift) % K, idx)
    q = codebook[idx]
    loss_cb = F.mse_loss(q, flat.detach())
    loss_commit = F.mse_loss(flat, q.detach())
    z = flat + (codebook[rx].detach() - flat).detach()
    x_hat = dec(z.reshape(-1, 8, 8, D).permute(0, 3, 1, 2))
    loss = F.mse_loss(x_hat, x) + loss_cb + 0.25 * loss_commit
    opt.zero_grad()
    loss.backward()
    opt.step()

for _ in range(10):
    step()
n = 100
t = time.perf_counter()
for _ in range(n):
    step()
dt = (time.perf_counter() - t) / n
print(f"pytorch eager, threads={threads}: {dt*1000:.2f} ms/step, {64/dt:.0f} samples/s")
