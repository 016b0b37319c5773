//! The command line as a user meets it: the binary runs LibTorch without
//! LD_LIBRARY_PATH, `align` and `two-user` end to end on the embedded data,
//! and bad input gives one clear error line and exit 1.

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

fn json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn binary_runs_without_ld_library_path() {
    let o = slfsim(&["--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("slfsim "));
    // Real LibTorch work through the binary, still without LD_LIBRARY_PATH (see `slfsim`):
    // a matched pair judged on the embedded data's first 1,000 MNIST test images.
    let d = tempfile::tempdir().unwrap();
    let j = d.path().join("a.json");
    let (out, js) = (d.path().to_str().unwrap(), j.to_str().unwrap());
    let args = ["align", "scenarios/quickstart.ron", "--tx", "mnist_e0_s1", "--rx", "mnist_e0_s1"];
    let o = slfsim(&[&args[..], &["--method", "none", "--out", out, "--json", js]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let before = &json(&j)["before"];
    assert!(num(&before["accuracy_rx"]) > 0.9 && num(&before["mse"]) < 0.01, "{before}");
}

#[test]
fn align_command_end_to_end_slf_improves_a_misaligned_pair() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let j = d.path().join("a.json");
    let base = ["align", "scenarios/quickstart.ron", "--tx", "mnist_e0_s2", "--rx", "mnist_e0_s1"];
    let o = slfsim(
        &[
            &base[..],
            &["--method", "slf", "--freeze", "2", "--steps", "30", "--out", out.to_str().unwrap()],
            &["--json", j.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("slf-l2 mnist_e0_s2 -> mnist_e0_s1: 30 steps"), "{stdout}");
    let r = json(&j);
    assert!(
        std::fs::read(out.join("align_mnist_e0_s2_mnist_e0_s1_slf-l2.json")).unwrap() == std::fs::read(&j).unwrap()
    );
    for f in ["svg", "png"] {
        assert!(out.join(format!("align_mnist_e0_s2_mnist_e0_s1_slf-l2_curve.{f}")).metadata().unwrap().len() > 0);
    }
    assert_eq!(
        (r["tx"].as_str(), r["rx"].as_str(), r["method"].as_str()),
        (Some("mnist_e0_s2"), Some("mnist_e0_s1"), Some("slf-l2"))
    );
    assert_eq!((r["freeze"].as_u64(), r["steps"].as_u64(), r["headline"].as_str()), (Some(2), Some(30), Some("rx")));
    // Curve points every eval_every = 50 steps, and at the last step.
    let steps: Vec<u64> = r["curve"].as_array().unwrap().iter().map(|c| c["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, [0, 30]);
    // ℓ = 2 of L = 4: the layers 0 and 1 (64·16·9+64 and 64·64·16+64 parameters) and the
    // codebook (64·16) go up; the whole decoder (+ 32·64·16+32 and 1·32·9+1) and codebook come down.
    let up = 4 * (64 * 16 * 9 + 64 + 64 * 64 * 16 + 64 + 64 * 16);
    assert_eq!(r["upload_bytes"].as_u64(), Some(up));
    assert_eq!(r["download_bytes"].as_u64(), Some(up + 4 * (64 * 32 * 16 + 32 + 32 * 9 + 1)));
    assert_eq!((r["per_step_up_bytes"].as_u64(), r["per_step_down_bytes"].as_u64()), (Some(0), Some(0)));
    let t = num(&r["download_s"]) + num(&r["compute_s"]) + num(&r["upload_s"]);
    assert!((num(&r["recovery_time_s"]) - t).abs() < 1e-9, "{r}");
    assert_eq!(r["finetune_flops"].as_u64(), r["flops_per_step"].as_u64().map(|f| 30 * f));
    let (b, a) = (&r["before"], &r["after"]);
    println!("slfsim align, 30 steps: {b} -> {a}");
    // Measured: 0.114 -> 0.558 (RX classifier), MSE 0.137 -> 0.036; the bounds leave about
    // half the gain as margin.
    assert!(num(&b["accuracy_rx"]) < 0.3, "{b}");
    assert!(num(&a["accuracy_rx"]) > num(&b["accuracy_rx"]) + 0.25, "{b} -> {a}");
    assert!(num(&a["mse"]) < 0.5 * num(&b["mse"]), "{b} -> {a}");
    for k in ["accuracy_tx", "psnr_db"] {
        assert!(num(&a[k]).is_finite(), "{a}");
    }
}

#[test]
fn align_command_end_to_end_latent_map_improves_a_misaligned_pair() {
    let d = tempfile::tempdir().unwrap();
    let (j, js) = (d.path().join("p.json"), d.path().join("slf.json"));
    let out = d.path().to_str().unwrap();
    let base = ["align", "scenarios/quickstart.ron", "--tx", "mnist_e0_s2", "--rx", "mnist_e0_s1", "--out", out];
    let o = slfsim(
        &[
            &base[..],
            &["--method", "latent-map", "--pilots", "4", "--map", "procrustes", "--json"],
            &[j.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&j);
    assert_eq!(r["method"].as_str(), Some("latent-map-procrustes-p4"));
    // The same JSON fields as SLF's.
    let o = slfsim(&[&base[..], &["--method", "slf", "--steps", "1", "--json", js.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&r), keys(&json(&js)));
    // 4 pilot messages of 64 six-bit indices (48 B) and TX's codebook (64 × 16 f32) go up; nothing
    // comes down, nothing trains.
    assert_eq!((r["upload_bytes"].as_u64(), r["download_bytes"].as_u64()), (Some(4 * 48 + 4096), Some(0)));
    assert_eq!((r["steps"].as_u64(), r["flops_per_step"].as_u64()), (Some(0), Some(0)));
    assert!(r["finetune_flops"].as_u64().unwrap() > 0, "the pilots' encoding and the fit cost FLOPs");
    let acc = |k: &str| num(&r[k]["accuracy_rx"]);
    println!("latent-map p4: {} -> {} (matched {})", acc("before"), acc("after"), acc("matched"));
    // Measured on ./data: 0.114 -> 0.814 (matched 0.973); the bound leaves half the gain as margin.
    assert!(acc("before") < 0.3 && acc("after") > acc("before") + 0.35, "{r}");
    let share = (acc("after") - acc("before")) / (acc("matched") - acc("before"));
    assert!((num(&r["gap_recovered"]) - share).abs() < 1e-12, "{r}");
    // Pilots must leave the judge's 1,000 images alone: the embedded test split has 2,000.
    let o = slfsim(&[&base[..], &["--method", "index-map", "--pilots", "1001"]].concat());
    assert_clean_error(&o, &["pilots", "disjoint"]);
}

#[test]
fn two_user_command_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("scenarios/quickstart.ron")).unwrap();
    let two_user = r#"two_user: (pairs: [(study: "seed", tx: "mnist_e0_s2", rx: "mnist_e0_s1")],
                                 methods: [slf(freeze: 2, side: output), split_learning,
                                           latent_map(pilots: 4, map: procrustes), index_map(pilots: 16)]),
    network: ("#;
    let sc = d.path().join("two.ron");
    write(&sc, &text.replacen("network: (", two_user, 1));
    let out = d.path().join("out");
    let o = slfsim(&["two-user", sc.to_str().unwrap(), "--steps", "30", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let runs = json(&out.join("two_user_runs.json"));
    let rows = runs.as_array().unwrap_or_else(|| panic!("{runs}"));
    let method = |r: &serde_json::Value| r["result"]["method"].as_str().unwrap().to_string();
    let names = ["none", "slf-l2", "split-learning", "latent-map-procrustes-p4", "index-map-p16"];
    assert_eq!(rows.iter().map(method).collect::<Vec<_>>(), names);
    let acc = |r: &serde_json::Value, when: &str| num(&r["result"][when]["accuracy_rx"]);
    // none changes nothing; both methods lift the misaligned pair.
    assert_eq!(acc(&rows[0], "before"), acc(&rows[0], "after"));
    for r in &rows[1..3] {
        assert_eq!(r["study"].as_str(), Some("seed"));
        assert_eq!(r["result"]["steps"].as_u64(), Some(30));
        // Measured: slf-l2 0.114 -> 0.558 (as `slfsim align` with the same seed), split learning
        // 0.114 -> 0.816.
        println!("two-user {}: {} -> {}", method(r), acc(r, "before"), acc(r, "after"));
        assert!(acc(r, "after") > acc(r, "before") + 0.25, "{}", r["result"]);
    }
    // The pilot aligners train nothing. Measured: latent map 0.114 -> 0.814, index map (16 pilots)
    // 0.114 -> 0.760, as `slfsim align`; the bound leaves half the gain as margin.
    for r in &rows[3..] {
        println!("two-user {}: {} -> {}", method(r), acc(r, "before"), acc(r, "after"));
        assert_eq!(r["result"]["steps"].as_u64(), Some(0));
        assert!(acc(r, "after") > acc(r, "before") + 0.3, "{}", r["result"]);
    }
    // Gap recovered, by hand from the row's own numbers.
    for r in rows {
        let share = (acc(r, "after") - acc(r, "before")) / (acc(r, "matched") - acc(r, "before"));
        assert!((num(&r["result"]["gap_recovered"]) - share).abs() < 1e-12, "{}", r["result"]);
    }
    // Split learning's per-step traffic: 64 images x (z 16·8·8 + image 32·32) f32 each way.
    assert_eq!(rows[2]["result"]["per_step_up_bytes"].as_u64(), Some(64 * (1024 + 1024) * 4));
    let csv = std::fs::read_to_string(out.join("two_user_runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(csv.lines().next().unwrap().contains(",gap_recovered,"), "{csv}");
    let summary = std::fs::read_to_string(out.join("two_user_summary.md")).unwrap();
    assert!(summary.contains("slf-l2") && summary.contains("split-learning"), "{summary}");
    assert!(summary.contains("gap recovered %") && summary.contains("latent-map-procrustes-p4"), "{summary}");
    assert_eq!(std::fs::read_to_string(out.join("two_user_summary.csv")).unwrap().lines().count(), 6);
    for plot in ["accuracy_vs_freeze", "mse_vs_freeze", "time_vs_freeze", "accuracy_vs_time"] {
        assert!(out.join(format!("two_user_{plot}.png")).metadata().unwrap().len() > 0, "{plot}");
    }
    // The calibration for `run`: only slf-l2 is an adaptive candidate here (the pilot
    // aligners use other P than the policy's 64); its value is the row's accuracy.
    let cal = std::fs::read_to_string(out.join("calibration.csv")).unwrap();
    let data: Vec<&str> = cal.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(data.len(), 2, "{cal}");
    assert_eq!(data[0], "kind,tx_dataset,rx_dataset,method,accuracy");
    assert_eq!(data[1], format!("seed,mnist,mnist,slf-l2,{}", acc(&rows[1], "after")), "{cal}");
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
