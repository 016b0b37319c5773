//! One VQ-VAE training step (batch 64) of the default transceiver: encoder θ,
//! quantisation, index channel ε=0.1, decoder φ, loss, backward, Adam.
//! Compare with `benches/reference_train_step.py` (same network in PyTorch eager).
//! Then one SLF fine-tuning step at ℓ = 0 and ℓ = 4.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use slfsim::align::{start_finetune, FreezeSide, Method};
use slfsim::data::{ColorMode, DatasetKind, Partition};
use slfsim::transceiver::{
    adam, vq_step, ChannelKind, ChannelSpec, DataSpec, ModelConfig, Profile, TrainConfig, Transceiver,
};
use tch::{Kind, Tensor};

fn profile() -> Profile {
    Profile {
        name: "bench".into(),
        data: DataSpec { dataset: DatasetKind::Mnist, partition: Partition::All, color: ColorMode::Grey },
        channel: ChannelSpec { kind: ChannelKind::Index, epsilon: 0.1 },
        seed: 1,
        train: TrainConfig::default(),
        model: ModelConfig::default(),
    }
}

fn bench(c: &mut Criterion) {
    let threads: i32 = std::env::var("SLFSIM_BENCH_THREADS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    tch::set_num_threads(threads);
    let p = profile();
    let mut model = Transceiver::new(&p);
    tch::manual_seed(0);
    let x = Tensor::rand([64, 1, 32, 32], (Kind::Float, tch::Device::Cpu));
    let mut rng = slfsim::seed::stream(1, "bench", &[]);
    let flat = tch::no_grad(|| model.flat_latents(&x));
    model.codebook.init_from(&flat, &mut rng);
    let opt = adam(&model.vq_params(), 1e-3).unwrap();
    let mut g = c.benchmark_group("train_step");
    g.throughput(Throughput::Elements(64));
    g.sample_size(30);
    g.bench_function(format!("vqvae_batch64_threads{threads}"), |b| {
        b.iter(|| vq_step(&model, &x, &opt, &mut rng).unwrap())
    });
    g.finish();

    // One SLF fine-tuning step: TX's encoder against a copy of RX's decoder
    // with ℓ = 0 (all layers train) and ℓ = 4 (all frozen) of L = 4.
    let mut rx = Transceiver::new(&Profile { seed: 2, ..p.clone() });
    let flat = tch::no_grad(|| rx.flat_latents(&x));
    rx.codebook.init_from(&flat, &mut rng);
    let mut g = c.benchmark_group("slf_step");
    g.throughput(Throughput::Elements(64));
    g.sample_size(30);
    for freeze in [0usize, 4] {
        let m = Method::Slf { freeze, side: FreezeSide::Output };
        let (tx_side, opt) = start_finetune(&model, &rx, &m, 1e-3).unwrap();
        g.bench_function(format!("freeze{freeze}_batch64_threads{threads}"), |b| {
            b.iter(|| vq_step(&tx_side, &x, &opt, &mut rng).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
