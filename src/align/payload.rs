//! What crosses the link between TX and RX, as tensors: the parameters RX
//! hands TX before a fine-tuning (download), the parameters TX hands RX after
//! it (upload), and installing either into a transceiver. Every hand-over is a
//! copy made through bytes, so nothing but the values crosses, and its size is
//! counted on what was actually sent.

use tch::Tensor;

use super::method::Method;
use super::trainable::Trainable;
use crate::transceiver::Transceiver;

/// Named parameter tensors in checkpoint names (`codebook`, `decoder.i.weight`, ...).
pub type Payload = Vec<(String, Tensor)>;

/// A copy of `t` as the receiving side rebuilds it from the f32 values sent:
/// a new contiguous tensor with no autograd link to the sender's graph.
/// Adds the bytes sent to `bytes`.
pub fn hand_over(t: &Tensor, bytes: &mut u64) -> Tensor {
    let values: Vec<f32> = Vec::try_from(t.detach().to_kind(tch::Kind::Float).flatten(0, -1))
        .expect("a float tensor converts to f32 values");
    *bytes += (values.len() * std::mem::size_of::<f32>()) as u64;
    Tensor::from_slice(&values).reshape(t.size())
}

fn payload(m: &Transceiver, which: &Trainable) -> Payload {
    let mut v = Vec::new();
    if which.codebook {
        v.push(("codebook".to_string(), m.codebook.weight.shallow_clone()));
    }
    for (i, l) in m.decoder.layers.iter().enumerate() {
        if which.decoder[i] {
            v.push((format!("decoder.{i}.weight"), l.weight.shallow_clone()));
            v.push((format!("decoder.{i}.bias"), l.bias.shallow_clone()));
        }
    }
    v.into_iter().map(|(n, t)| (n, hand_over(&t, &mut 0))).collect()
}

/// What RX sends TX before a fine-tuning: its codebook and decoder φ_j for
/// SLF and encoder-only, its codebook alone for split learning (φ_j stays at
/// RX), nothing for `none` and `retrain`.
pub fn download_payload(rx: &Transceiver, method: &Method) -> Payload {
    payload(rx, &method.downloads(rx.decoder.layers.len()))
}

/// The parameters that leave TX after an alignment, by name: the decoder
/// layers TX trained and (if trained) the codebook. Nothing else is ever
/// sent: not the encoder θ, not a frozen layer, not TX's data.
pub fn upload_payload(aligned: &Transceiver, method: &Method) -> Payload {
    payload(aligned, &method.uploads(aligned.decoder.layers.len()))
}

/// Bytes of a payload on the air (f32 values).
pub fn payload_bytes(p: &Payload) -> u64 {
    p.iter().map(|(_, t)| t.numel() as u64 * std::mem::size_of::<f32>() as u64).sum()
}

/// A copy of `base` with every tensor of `p` written over the one of the
/// same name. Errors on a name `base` does not have or a shape that differs.
pub fn install(base: &Transceiver, p: &Payload) -> Result<Transceiver, String> {
    let m = base.deep_clone();
    let named = m.named_tensors();
    for (name, t) in p {
        let (_, dst) =
            named.iter().find(|(n, _)| n == name).ok_or_else(|| format!("payload names an unknown tensor {name}"))?;
        if dst.size() != t.size() {
            return Err(format!("payload tensor {name} has shape {:?}, expected {:?}", t.size(), dst.size()));
        }
        // Shares storage with the field of `m`, so the copy lands there.
        let mut dst = dst.shallow_clone();
        tch::no_grad(|| dst.copy_(t));
    }
    Ok(m)
}
