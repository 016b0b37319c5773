//! Entry points of the fuzz targets (`tests/fuzz`, run with
//! `cargo +nightly fuzz run --fuzz-dir tests/fuzz TARGET`) and of the stable
//! test that replays their committed corpora (`tests/fuzz_replay.rs`):
//! hostile bytes through the same parsing and checking code the commands
//! use. Each returns normally on every input; a panic, a hang or a runaway
//! allocation is a bug.

use std::path::Path;
use std::sync::OnceLock;

use crate::scenario::limits::{self, Limits};

/// Small caps, so that every accepted input expands in milliseconds (the
/// code path is the same as with the default caps).
pub const LIMITS: Limits = Limits {
    users: 2_000.0,
    links: 20_000.0,
    pairs: 20_000.0,
    topology_checks: 2e6,
    events: 1e6,
    memory_bytes: 256e6,
    study_runs: 16.0,
    steps: 1e6,
};

/// Scenario text (RON) through parsing, validation, the size estimate and
/// the network's expansion and checks.
pub fn scenario_text(data: &[u8]) {
    limits::set(LIMITS);
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(sc) = crate::scenario::parse(text, Path::new("fuzz.ron")) {
        let _ = limits::estimate(&sc);
        if !sc.network.users.is_empty() {
            let _ = crate::sim::world::build(&sc);
        }
    }
}

/// Study text (RON) through parsing and expansion into validated runs, on
/// the shipped base scenarios (`scenario: "star_base.ron"` and others in
/// `scenarios/studies/`).
pub fn study_text(data: &[u8]) {
    limits::set(LIMITS);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/studies/fuzz.ron");
    let _ = crate::study::sweep::plan_text(text, &path);
}

/// Data files: the first byte chooses the reader (IDX images, IDX labels,
/// CIFAR-10 records, each raw or gzip-compressed), the rest is the file.
pub fn data_file(data: &[u8]) {
    use crate::data::{cifar, idx, read, ColorMode, DatasetKind, Split};
    let Some((&sel, rest)) = data.split_first() else { return };
    let path = Path::new("fuzz.bin");
    let bytes = if sel & 0x80 != 0 {
        match read::gunzip(path, rest) {
            Ok(b) => b,
            Err(_) => return,
        }
    } else {
        rest.to_vec()
    };
    let color = if sel & 0x40 != 0 { ColorMode::Rgb } else { ColorMode::Grey };
    match sel % 3 {
        0 => {
            if let Ok((n, raw)) = idx::parse_images(path, &bytes) {
                let _ = idx::convert(raw, n, color.channels());
            }
        }
        1 => {
            let _ = idx::parse_labels(path, &bytes);
        }
        _ => {
            if cifar::check_records(path, &bytes).is_ok() {
                let _ = cifar::decode(&[bytes], DatasetKind::Cifar10, Split::Test, color);
            }
        }
    }
}

/// Checkpoint files: the first two bytes (little endian) give the length of
/// the JSON metadata, the rest is the safetensors weights, checked against
/// the default transceiver's tensors and, when they match, loaded into
/// LibTorch tensors as `load_checkpoint` does.
pub fn checkpoint_files(data: &[u8]) {
    use crate::transceiver::{parse_meta, parse_weights};
    if data.len() < 2 {
        return;
    }
    let n = (u16::from_le_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (json, weights) = data[2..].split_at(n);
    let path = Path::new("fuzz.safetensors");
    if let Ok(meta) = parse_meta(json, path) {
        let _ = meta.profile.model.validate();
    }
    let expected = default_shapes();
    if let Ok(st) = parse_weights(weights, path, "fuzz", expected) {
        for (name, _) in expected {
            if let Ok(view) = st.tensor(name) {
                let _ = tch::Tensor::try_from(view);
            }
        }
    }
}

/// (name, shape) of every tensor of the default transceiver.
fn default_shapes() -> &'static [(String, Vec<i64>)] {
    static SHAPES: OnceLock<Vec<(String, Vec<i64>)>> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let profile: crate::transceiver::Profile =
            serde_json::from_value(serde_json::json!({"name": "fuzz", "data": {"dataset": "mnist"}, "channel": {"kind": "index", "epsilon": 0.0}, "seed": 1}))
                .expect("a default profile");
        let model = crate::transceiver::Transceiver::new(&profile);
        model.named_tensors().into_iter().map(|(n, t)| (n, t.size())).collect()
    })
}
