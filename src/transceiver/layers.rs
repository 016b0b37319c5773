//! Convolution layers whose weights are initialised from a seeded ChaCha
//! stream, not from LibTorch's global generator (which parallel jobs would
//! race on). Each layer is addressable by name so SLF can freeze, send and
//! swap exactly the layers it needs.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvKind {
    Conv,
    /// Transposed convolution (upsampling in the decoder).
    Transpose,
}

#[derive(Debug)]
pub struct Conv {
    pub kind: ConvKind,
    pub in_ch: i64,
    pub out_ch: i64,
    pub k: i64,
    pub stride: i64,
    pub pad: i64,
    /// Conv: (out, in, k, k); transposed: (in, out, k, k), as in PyTorch.
    pub weight: Tensor,
    pub bias: Tensor,
}

/// Uniform(-b, b) tensor of `shape` drawn from `rng`.
pub fn uniform(shape: &[i64], bound: f64, rng: &mut ChaCha8Rng) -> Tensor {
    let n: i64 = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| (rng.random::<f64>() * 2.0 - 1.0) as f32 * bound as f32).collect();
    Tensor::from_slice(&v).reshape(shape)
}

impl Conv {
    /// PyTorch's default initialisation (kaiming-uniform with a=√5, i.e.
    /// U(±1/√fan_in) for weights and biases), drawn from `rng`.
    pub fn new(kind: ConvKind, in_ch: i64, out_ch: i64, k: i64, stride: i64, pad: i64, rng: &mut ChaCha8Rng) -> Conv {
        let shape = match kind {
            ConvKind::Conv => [out_ch, in_ch, k, k],
            ConvKind::Transpose => [in_ch, out_ch, k, k],
        };
        // PyTorch takes fan_in from weight dim 1 for both kinds.
        let fan_in = (shape[1] * k * k) as f64;
        let bound = 1.0 / fan_in.sqrt();
        let weight = uniform(&shape, bound, rng).set_requires_grad(true);
        let bias = uniform(&[out_ch], bound, rng).set_requires_grad(true);
        Conv { kind, in_ch, out_ch, k, stride, pad, weight, bias }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        match self.kind {
            ConvKind::Conv => x.conv2d(&self.weight, Some(&self.bias), [self.stride], [self.pad], [1], 1),
            ConvKind::Transpose => {
                x.conv_transpose2d(&self.weight, Some(&self.bias), [self.stride], [self.pad], [0], 1, [1])
            }
        }
    }

    pub fn params(&self) -> Vec<&Tensor> {
        vec![&self.weight, &self.bias]
    }

    /// Number of parameters (weights and biases).
    pub fn numel(&self) -> i64 {
        self.weight.numel() as i64 + self.bias.numel() as i64
    }

    /// Output side for an input side `h`.
    pub fn out_side(&self, h: i64) -> i64 {
        match self.kind {
            ConvKind::Conv => (h + 2 * self.pad - self.k) / self.stride + 1,
            ConvKind::Transpose => (h - 1) * self.stride - 2 * self.pad + self.k,
        }
    }

    /// A deep copy (new storage), trainable.
    pub fn deep_clone(&self) -> Conv {
        Conv {
            weight: self.weight.detach().copy().set_requires_grad(true),
            bias: self.bias.detach().copy().set_requires_grad(true),
            ..*self
        }
    }
}

/// A linear layer y = x Wᵀ + b with the same seeded initialisation.
#[derive(Debug)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Tensor,
}

impl Linear {
    pub fn new(inp: i64, out: i64, rng: &mut ChaCha8Rng) -> Linear {
        let bound = 1.0 / (inp as f64).sqrt();
        Linear {
            weight: uniform(&[out, inp], bound, rng).set_requires_grad(true),
            bias: uniform(&[out], bound, rng).set_requires_grad(true),
        }
    }
    pub fn deep_clone(&self) -> Linear {
        Linear {
            weight: self.weight.detach().copy().set_requires_grad(true),
            bias: self.bias.detach().copy().set_requires_grad(true),
        }
    }
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }
}

/// Random indices into 0..n from a seeded stream, as an i64 tensor.
pub fn batch_indices(n: usize, batch: usize, rng: &mut ChaCha8Rng) -> Tensor {
    let v: Vec<i64> = (0..batch).map(|_| rng.random_range(0..n as i64)).collect();
    Tensor::from_slice(&v)
}
