//! Checkpoints: `<dir>/<profile>.safetensors` (weights) next to
//! `<dir>/<profile>.json` (config hash, weight checksum, metrics, training
//! time). Both are written to a temporary file and renamed, so an interrupted
//! write never leaves a half checkpoint that looks valid.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tch::Tensor;

use super::config::Profile;
use super::model::Transceiver;
use super::train::TrainReport;

/// Bumped when the checkpoint layout or the training algorithm changes, so
/// old checkpoints stop counting as up to date.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub slfsim_version: String,
    pub format: u32,
    pub profile: Profile,
    pub config_hash: String,
    pub weights_sha256: String,
    pub report: TrainReport,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("no checkpoint for profile {profile}: {path} is missing (run `slfsim train`)")]
    Missing { profile: String, path: PathBuf },
    #[error("checkpoint {path} is out of date for profile {profile} (config changed; run `slfsim train`)")]
    Stale { profile: String, path: PathBuf },
    #[error("checkpoint {path} is corrupt: {msg}")]
    Corrupt { path: PathBuf, msg: String },
    #[error("checkpoint {path}: tensor {name} has shape {found:?}, expected {expected:?} for profile {profile}")]
    Shape { path: PathBuf, profile: String, name: String, found: Vec<i64>, expected: Vec<i64> },
    #[error("checkpoint {path}: tensor {name} is missing")]
    MissingTensor { path: PathBuf, name: String },
    #[error("cannot write checkpoint {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// (weights, metadata) paths of a profile's checkpoint in `dir`.
pub fn checkpoint_paths(dir: &Path, profile: &Profile) -> (PathBuf, PathBuf) {
    (dir.join(format!("{}.safetensors", profile.name)), dir.join(format!("{}.json", profile.name)))
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(hex::encode(Sha256::digest(crate::bounded::read(path, crate::bounded::MAX_CHECKPOINT)?)))
}

/// The SHA-256 of a profile's weights as its metadata records it (cheap:
/// the weights themselves are checked when loaded). Keys cached jobs.
pub fn checkpoint_digest(dir: &Path, profile: &Profile) -> Result<String, CheckpointError> {
    Ok(read_meta(&checkpoint_paths(dir, profile).1)?.weights_sha256)
}

fn read_meta(path: &Path) -> Result<CheckpointMeta, CheckpointError> {
    let bytes = crate::bounded::read(path, crate::bounded::MAX_CHECKPOINT)
        .map_err(|e| CheckpointError::Corrupt { path: path.into(), msg: e.to_string() })?;
    parse_meta(&bytes, path)
}

/// Checkpoint metadata from its JSON bytes; `path` only labels errors.
pub fn parse_meta(bytes: &[u8], path: &Path) -> Result<CheckpointMeta, CheckpointError> {
    serde_json::from_slice(bytes).map_err(|e| CheckpointError::Corrupt { path: path.into(), msg: e.to_string() })
}

/// Parses safetensors bytes and checks, without LibTorch, that every
/// `expected` (name, shape) tensor is there as f32 of exactly that shape, so
/// that turning the views into tensors cannot fail. `path` labels errors.
pub fn parse_weights<'a>(
    bytes: &'a [u8],
    path: &Path,
    profile: &str,
    expected: &[(String, Vec<i64>)],
) -> Result<safetensors::SafeTensors<'a>, CheckpointError> {
    let corrupt = |msg: String| CheckpointError::Corrupt { path: path.into(), msg };
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| corrupt(format!("{e:?}")))?;
    for (name, shape) in expected {
        let view =
            st.tensor(name).map_err(|_| CheckpointError::MissingTensor { path: path.into(), name: name.clone() })?;
        let found: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        if &found != shape {
            return Err(CheckpointError::Shape {
                path: path.into(),
                profile: profile.into(),
                name: name.clone(),
                found,
                expected: shape.clone(),
            });
        }
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(corrupt(format!("tensor {name} has dtype {:?}, expected F32", view.dtype())));
        }
    }
    Ok(st)
}

/// True when the checkpoint exists, was trained from this exact config and
/// its weights file is the one the metadata describes.
pub fn is_up_to_date(dir: &Path, profile: &Profile) -> bool {
    let (w, m) = checkpoint_paths(dir, profile);
    match read_meta(&m) {
        Ok(meta) => {
            meta.config_hash == profile.config_hash()
                && sha256_file(&w).map(|h| h == meta.weights_sha256).unwrap_or(false)
        }
        Err(_) => false,
    }
}

pub fn save_checkpoint(
    dir: &Path,
    model: &Transceiver,
    report: &TrainReport,
) -> Result<(PathBuf, PathBuf), CheckpointError> {
    let profile = &model.profile;
    let (w, m) = checkpoint_paths(dir, profile);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckpointError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp_w = dir.join(format!(".{}.safetensors.tmp{}", profile.name, std::process::id()));
    let named: Vec<(String, Tensor)> = model.named_tensors().into_iter().map(|(n, t)| (n, t.detach())).collect();
    Tensor::write_safetensors(&named, &tmp_w)
        .map_err(|e| CheckpointError::Io { path: w.clone(), source: std::io::Error::other(e.to_string()) })?;
    let meta = CheckpointMeta {
        slfsim_version: env!("CARGO_PKG_VERSION").to_string(),
        format: FORMAT_VERSION,
        profile: profile.clone(),
        config_hash: profile.config_hash(),
        weights_sha256: sha256_file(&tmp_w).map_err(io(&tmp_w))?,
        report: report.clone(),
    };
    let mut builder = tempfile::Builder::new();
    // Checkpoints are shared files (tempfile's default mode is 0600).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp_m = builder.tempfile_in(dir).map_err(io(dir))?;
    let mut text = serde_json::to_string_pretty(&meta).expect("metadata serialises");
    text.push('\n');
    tmp_m.write_all(text.as_bytes()).map_err(io(&m))?;
    tmp_m.as_file().sync_all().map_err(io(&m))?;
    // Weights first: metadata that names a checksum only appears once the
    // weights it describes are in place.
    std::fs::rename(&tmp_w, &w).map_err(io(&w))?;
    tmp_m.persist(&m).map_err(|e| CheckpointError::Io { path: m.clone(), source: e.error })?;
    Ok((w, m))
}

/// Loads a profile's checkpoint, checking the config hash, the weights'
/// checksum and every tensor's shape against a freshly built model.
pub fn load_checkpoint(dir: &Path, profile: &Profile) -> Result<(Transceiver, CheckpointMeta), CheckpointError> {
    let (w, m) = checkpoint_paths(dir, profile);
    for p in [&w, &m] {
        if !p.exists() {
            return Err(CheckpointError::Missing { profile: profile.name.clone(), path: p.clone() });
        }
    }
    let meta = read_meta(&m)?;
    if meta.config_hash != profile.config_hash() {
        return Err(CheckpointError::Stale { profile: profile.name.clone(), path: m });
    }
    let bytes = crate::bounded::read(&w, crate::bounded::MAX_CHECKPOINT)
        .map_err(|e| CheckpointError::Corrupt { path: w.clone(), msg: e.to_string() })?;
    let sum = hex::encode(Sha256::digest(&bytes));
    if sum != meta.weights_sha256 {
        return Err(CheckpointError::Corrupt {
            path: w,
            msg: format!("sha256 {sum} does not match {} recorded in {}", meta.weights_sha256, m.display()),
        });
    }
    let model = Transceiver::new(profile);
    {
        let expected = model.named_tensors();
        let shapes: Vec<(String, Vec<i64>)> = expected.iter().map(|(n, t)| (n.clone(), t.size())).collect();
        let st = parse_weights(&bytes, &w, &profile.name, &shapes)?;
        for (name, target) in &expected {
            let view =
                st.tensor(name).map_err(|e| CheckpointError::Corrupt { path: w.clone(), msg: format!("{e:?}") })?;
            let t =
                Tensor::try_from(view).map_err(|e| CheckpointError::Corrupt { path: w.clone(), msg: e.to_string() })?;
            tch::no_grad(|| {
                let mut target = target.shallow_clone();
                target.copy_(&t);
            });
        }
    }
    Ok((model, meta))
}
