//! The command line as a user meets it: the binary runs without
//! LD_LIBRARY_PATH, and bad input gives one clear error line and exit 1.

mod common;
use common::*;

const TINY: &str = r#"Scenario(
    name: "tiny",
    profiles: [
        (name: "t1", data: (dataset: mnist, partition: iid(size: 256)), channel: (kind: index, epsilon: 0.1), seed: 5,
         train: (steps: 4, classifier_steps: 4, batch_size: 16, eval_images: 50), model: (latent_dim: 8)),
    ],
    eval: (test_images: 50),
)
"#;

#[test]
fn binary_runs_without_ld_library_path() {
    let o = slfsim(&["--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("slfsim "));
}

#[test]
fn check_accepts_shipped_scenarios() {
    let o = slfsim(&["check", "scenarios/quickstart.ron", "scenarios/transceivers.ron"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn check_reports_syntax_errors_with_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("bad.ron");
    write(&f, &TINY.replace("seed: 5,", "seed: 5,,"));
    let o = slfsim(&["check", f.to_str().unwrap()]);
    assert_clean_error(&o, &[&format!("{}:4:", f.display())]);
}

#[test]
fn check_reports_rule_violations_with_the_field_path() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("bad.ron");
    write(&f, &TINY.replace("epsilon: 0.1", "epsilon: 1.0"));
    let o = slfsim(&["check", f.to_str().unwrap()]);
    assert_clean_error(&o, &["profiles[0].channel.epsilon", "outside [0, 1)"]);
}

#[test]
fn missing_scenario_and_missing_data_dir_are_clear_errors() {
    let o = slfsim(&["check", "no/such.ron"]);
    assert_clean_error(&o, &["no/such.ron"]);
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("tiny.ron");
    write(&f, TINY);
    let o = slfsim(&["train", f.to_str().unwrap(), "--data-dir", "/no/such/dir"]);
    assert_clean_error(&o, &["/no/such/dir"]);
}

#[test]
fn corrupt_data_files_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("tiny.ron");
    write(&f, TINY);
    let data = d.path().join("data");
    let mnist = data.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let src = embedded_data().join("mnist");
    for name in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
        std::fs::copy(src.join(name), mnist.join(name)).unwrap();
    }
    let args = |models: &std::path::Path| {
        vec![
            "train".to_string(),
            f.to_str().unwrap().into(),
            "--data-dir".into(),
            data.to_str().unwrap().into(),
            "--models-dir".into(),
            models.to_str().unwrap().into(),
        ]
    };
    let run = |a: Vec<String>| slfsim(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    // Missing file.
    let o = run(args(d.path()));
    assert_clean_error(&o, &["train-images-idx3-ubyte"]);
    // Wrong magic number: a labels file where images are expected.
    std::fs::copy(src.join("train-labels-idx1-ubyte.gz"), mnist.join("train-images-idx3-ubyte.gz")).unwrap();
    let o = run(args(d.path()));
    assert_clean_error(&o, &["train-images-idx3-ubyte", "magic"]);
    // Truncated file (raw, cut short).
    std::fs::remove_file(mnist.join("train-images-idx3-ubyte.gz")).unwrap();
    let raw = {
        use std::io::Read;
        let mut v = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(src.join("train-images-idx3-ubyte.gz")).unwrap())
            .read_to_end(&mut v)
            .unwrap();
        v
    };
    std::fs::write(mnist.join("train-images-idx3-ubyte"), &raw[..raw.len() / 2]).unwrap();
    let o = run(args(d.path()));
    assert_clean_error(&o, &["train-images-idx3-ubyte", "truncated"]);
    // No checkpoint was written by the failed runs.
    assert!(!d.path().join("t1.safetensors").exists());
}

#[test]
fn bad_checkpoints_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("tiny.ron");
    write(&f, TINY);
    let models = d.path().join("models");
    let data = embedded_data();
    let (fs, ds, ms) = (f.to_str().unwrap(), data.to_str().unwrap(), models.to_str().unwrap());
    // No checkpoint yet.
    let o = slfsim(&["eval", fs, "--data-dir", ds, "--models-dir", ms]);
    assert_clean_error(&o, &["t1", "slfsim train"]);
    let o = slfsim(&["train", fs, "--data-dir", ds, "--models-dir", ms]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.path().join("out");
    let o = slfsim(&["eval", fs, "--data-dir", ds, "--models-dir", ms, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("misalignment.json").is_file());

    // A checkpoint of the wrong shape: the weights of latent_dim 8 under the
    // metadata (config hash) of a latent_dim 16 profile.
    let wide = TINY.replace("model: (latent_dim: 8)", "model: (latent_dim: 16)");
    let f16 = d.path().join("wide.ron");
    write(&f16, &wide);
    let p16 = slfsim::scenario::load(&f16).unwrap().profiles.remove(0);
    let meta_path = models.join("t1.json");
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["config_hash"] = serde_json::Value::String(p16.config_hash());
    std::fs::write(&meta_path, serde_json::to_string(&meta).unwrap()).unwrap();
    let o = slfsim(&["eval", f16.to_str().unwrap(), "--data-dir", ds, "--models-dir", ms]);
    assert_clean_error(&o, &["t1.safetensors", "shape", "expected"]);

    // A stale checkpoint (config changed since training).
    let o = slfsim(&["eval", fs, "--data-dir", ds, "--models-dir", ms]);
    assert_clean_error(&o, &["out of date"]);

    // Corrupt weights (cut short) after retraining.
    let o = slfsim(&["train", fs, "--force", "--data-dir", ds, "--models-dir", ms]);
    assert!(o.status.success(), "{}", stderr(&o));
    let w = models.join("t1.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, &bytes[..bytes.len() / 3]).unwrap();
    let o = slfsim(&["eval", fs, "--data-dir", ds, "--models-dir", ms]);
    assert_clean_error(&o, &["t1.safetensors", "corrupt"]);
}

#[test]
fn readme_scenario_example_is_valid() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme.split("## Scenario files").nth(1).expect("README has a Scenario files section");
    let block = section.split("```ron\n").nth(1).and_then(|b| b.split("```").next()).expect("a ron block");
    let sc = slfsim::scenario::parse(block, std::path::Path::new("README.md")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.two_user.methods.len(), 5);
    // The `network` example, spliced into the first one, parses and expands.
    let net = section.split("```ron\n").nth(2).and_then(|b| b.split("```").next()).expect("a second ron block");
    let full = format!("{}{net})", block.trim_end().strip_suffix(')').expect("the example ends with ')'"));
    let sc = slfsim::scenario::parse(&full, std::path::Path::new("README.md")).unwrap_or_else(|e| panic!("{e}"));
    let w = slfsim::sim::world::build(&sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
    assert_eq!((w.users.len(), w.pairs.len(), w.changes.len()), (9, 8, 3));
    // The star's shared link adds one relay node.
    assert_eq!(w.nodes, 10);
}
