//! `slfsim run`: the shipped network scenarios, reproducibility across thread
//! counts, the star's scaling with TX count and frozen layers ℓ, detection,
//! and rejection of malformed scenarios. Runs use the embedded data and the
//! shipped checkpoints, with few fine-tuning steps (`--steps`): the timing
//! comes from the cost model and the network, the accuracies from real runs.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{assert_clean_error, root, slfsim, stderr};
use serde_json::Value;

fn write(p: &Path, s: &str) {
    std::fs::write(p, s).unwrap();
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs `slfsim run` and returns summary.json; panics with stderr on failure.
fn run(scenario: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = slfsim(&args);
    assert!(o.status.success(), "slfsim {args:?} failed: {}", stderr(&o));
    read_json(&out.join("summary.json"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The numbers of summary.json against the event log: onset, detection,
/// phase and installation times, bytes and FLOPs.
fn assert_summary_matches_events(dir: &Path, s: &Value) {
    let ev = events(dir);
    let mut last = 0.0;
    for e in &ev {
        let t = f(&e["t_s"]);
        assert!(t >= last, "events.jsonl is not time-ordered at {e}");
        last = t;
    }
    // (event, pair, episode) -> times it happened.
    let mut at: HashMap<(String, u64, u64), Vec<f64>> = HashMap::new();
    let (mut bytes, mut flops) = (0u64, 0u64);
    for e in &ev {
        if let (Some(p), Some(k)) = (e["pair"].as_u64(), e["episode"].as_u64()) {
            at.entry((e["event"].as_str().unwrap().to_string(), p, k)).or_default().push(f(&e["t_s"]));
        }
        match e["event"].as_str().unwrap() {
            "download_started" | "upload_started" => bytes += e["bytes"].as_u64().unwrap(),
            "finetune_started" => flops += e["flops"].as_u64().unwrap(),
            _ => {}
        }
    }
    let episodes = s["episodes"].as_array().unwrap();
    for (i, e) in episodes.iter().enumerate() {
        let key = |name: &str| (name.to_string(), e["pair"].as_u64().unwrap(), i as u64);
        let one = |name: &str| at.get(&key(name)).and_then(|v| v.last().copied());
        assert_eq!(Some(f(&e["onset_s"])), one("misalignment_onset"), "onset of {e}");
        assert_eq!(e["detected_s"].as_f64(), one("misalignment_detected"), "detection of {e}");
        assert_eq!(e["download_start_s"].as_f64(), one("download_started"), "download start of {e}");
        assert_eq!(e["aligned_s"].as_f64(), one("aligned_installed"), "installation of {e}");
        if let Some(r) = e["recovery_time_s"].as_f64() {
            assert!((r - (f(&e["aligned_s"]) - f(&e["onset_s"]))).abs() < 1e-9, "recovery time of {e}");
        }
    }
    let a = &s["aggregate"];
    let served_bytes: u64 =
        episodes.iter().map(|e| e["download_bytes"].as_u64().unwrap() + e["upload_bytes"].as_u64().unwrap()).sum();
    assert_eq!(a["total_bytes"].as_u64().unwrap(), served_bytes);
    // Every transfer started is accounted to an episode once it has finished.
    assert!(bytes >= served_bytes, "events moved {bytes} bytes, episodes account {served_bytes}");
    assert!(flops >= a["total_flops"].as_u64().unwrap());
    let recovered = episodes.iter().filter(|e| e["aligned_s"].is_f64()).count();
    assert_eq!(a["recovered"].as_u64().unwrap() as usize, recovered);
    assert_eq!(recovered, ev.iter().filter(|e| e["event"] == "aligned_installed").count());
}

#[test]
fn shipped_network_scenarios_recover_every_pair_and_agree_with_their_events() {
    let d = tempfile::tempdir().unwrap();
    let dir = root().join("scenarios/network");
    // city.ron (a physical world of 1,000 users, minutes of LibTorch work, episodes
    // still open at its horizon) is checked in tests/world.rs and measured in README.
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_stem().is_some_and(|s| s != "city"))
        .collect();
    files.push(root().join("scenarios/quickstart.ron"));
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for file in &files {
        let name = file.file_stem().unwrap().to_str().unwrap();
        let out = d.path().join(name);
        let s = run(file, &out, &["--steps", "3"]);
        let a = &s["aggregate"];
        assert!(a["episodes"].as_u64().unwrap() > 0, "{name}: no misalignment at all");
        assert_eq!(a["unrecovered"], 0, "{name}: episodes left misaligned: {a}");
        assert_summary_matches_events(&out, &s);
        for plot in ["recovery_cdf", "timeline", "network", "phases"] {
            for ext in ["svg", "png"] {
                assert!(out.join(format!("{plot}.{ext}")).metadata().unwrap().len() > 0, "{name}: {plot}.{ext}");
            }
        }
        for csv in ["pairs.csv", "timeseries.csv"] {
            let text = std::fs::read_to_string(out.join(csv)).unwrap();
            assert!(text.lines().count() > 1, "{name}: {csv} is empty");
        }
        let causes: Vec<&str> =
            s["episodes"].as_array().unwrap().iter().map(|e| e["cause"].as_str().unwrap()).collect();
        match name {
            "dynamic" => {
                for c in ["channel", "join", "data"] {
                    assert!(causes.contains(&c), "dynamic: no {c} episode in {causes:?}");
                }
            }
            "population1000" => {
                assert_eq!(s["users"].as_array().unwrap().len(), 1000);
                // Memoized: one real fine-tuning per class (3 misaligned TX profiles).
                assert_eq!(a["fine_tunings"], 3, "{a}");
                assert_eq!(a["episodes"], 750);
            }
            "mesh16" => assert!(a["detection"]["true_detections"].as_u64().unwrap() > 0, "{a}"),
            _ => {}
        }
        // Alignment helps: mean accuracy after beats before.
        assert!(f(&a["accuracy_after_mean"]) > f(&a["accuracy_before_mean"]), "{name}: {a}");
    }
}

#[test]
fn thread_count_does_not_change_a_single_byte() {
    let d = tempfile::tempdir().unwrap();
    let sc = root().join("scenarios/quickstart.ron");
    let (a, b) = (d.path().join("t1"), d.path().join("t2"));
    run(&sc, &a, &["--steps", "6", "--threads", "1"]);
    run(&sc, &b, &["--steps", "6", "--threads", "2"]);
    for file in ["summary.json", "events.jsonl", "pairs.csv", "timeseries.csv"] {
        let (x, y) = (std::fs::read(a.join(file)).unwrap(), std::fs::read(b.join(file)).unwrap());
        assert!(x == y, "{file} differs between --threads 1 and --threads 2");
    }
}

/// A star: one base station, `n` TX of one profile trained apart from it,
/// all behind one shared radio link.
fn star(n: usize, freeze: usize) -> String {
    format!(
        r#"(
    name: "star_n{n}_l{freeze}",
    seed: 3,
    profiles: [
        (name: "mnist_e0_s1", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 1),
        (name: "mnist_e0_s2", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 2),
    ],
    eval: (test_images: 200),
    align: (budget: (steps: 10, eval_every: 0, curve_images: 100)),
    network: (
        users: [
            (name: "bs", profile: "mnist_e0_s1"),
            (name: "tx", count: {n}, profile: "mnist_e0_s2", compute: fixed(50e9)),
        ],
        topology: (kind: star(center: "bs", shared: (down_bps: 4e6, up_bps: 2e6, latency_s: 0.005)), link: (down_bps: 50e6, up_bps: 20e6, latency_s: 0.01)),
        traffic: [(from: "tx", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 0.5),
        policy: (method: slf(freeze: {freeze}, side: output)),
        fidelity: memoized,
        horizon_s: 300.0,
    ),
)"#
    )
}

fn mean_recovery(d: &Path, n: usize, freeze: usize) -> f64 {
    let f_ = d.join(format!("star_{n}_{freeze}.ron"));
    write(&f_, &star(n, freeze));
    let s = run(&f_, &d.join(format!("out_{n}_{freeze}")), &["--threads", "2"]);
    assert_eq!(s["aggregate"]["recovered"].as_u64().unwrap() as usize, n);
    f(&s["aggregate"]["recovery_mean_s"])
}

#[test]
fn star_recovery_grows_with_tx_count_and_shrinks_with_frozen_layers() {
    let d = tempfile::tempdir().unwrap();
    let by_n: Vec<f64> = [1, 2, 4, 8].iter().map(|&n| mean_recovery(d.path(), n, 2)).collect();
    for w in by_n.windows(2) {
        assert!(w[1] > w[0], "recovery time must grow with TX sharing the link: {by_n:?}");
    }
    let by_l: Vec<f64> = [0, 2, 4].iter().map(|&l| mean_recovery(d.path(), 8, l)).collect();
    for w in by_l.windows(2) {
        assert!(w[1] < w[0], "recovery time must shrink with more frozen layers: {by_l:?}");
    }
}

#[test]
fn monitor_detects_misaligned_links_from_decoded_messages() {
    let d = tempfile::tempdir().unwrap();
    // Three users: a0 and a1 share one transceiver (aligned); b was trained apart.
    let text = star(1, 2)
        .replace(
            r#"(name: "bs", profile: "mnist_e0_s1"),
            (name: "tx", count: 1, profile: "mnist_e0_s2", compute: fixed(50e9)),"#,
            r#"(name: "a", count: 2, profile: "mnist_e0_s1"),
            (name: "b", profile: "mnist_e0_s2"),"#,
        )
        .replace(
            r#"kind: star(center: "bs", shared: (down_bps: 4e6, up_bps: 2e6, latency_s: 0.005))"#,
            "kind: complete",
        )
        .replace(
            r#"traffic: [(from: "tx", to: "bs", rate_hz: 1.0)]"#,
            r#"traffic: [(from: "*", to: "*", rate_hz: 4.0)]"#,
        )
        .replace("oracle(delay_s: 0.5)", "monitor(window: 8, threshold: 0.6)")
        .replace("steps: 10,", "steps: 60,")
        .replace("horizon_s: 300.0", "horizon_s: 120.0");
    let file = d.path().join("monitor.ron");
    write(&file, &text);
    let out = d.path().join("out");
    let s = run(&file, &out, &[]);
    let a = &s["aggregate"];
    // Four misaligned pairs (a_i <-> b), two aligned (a0 <-> a1).
    assert_eq!(a["pairs"], 6);
    let det = &a["detection"];
    assert_eq!(det["true_detections"], 4, "{a}");
    assert_eq!(det["missed"], 0, "{a}");
    assert_eq!(a["unrecovered"], 0, "{a}");
    let episodes = s["episodes"].as_array().unwrap();
    // Declarations on aligned links are false alarms, each served as an episode.
    let false_alarms = episodes.iter().filter(|e| e["cause"] == "false_alarm").count();
    assert_eq!(det["false_alarms"].as_u64().unwrap() as usize, false_alarms);
    assert_eq!(a["false_alarm_episodes"].as_u64().unwrap() as usize, false_alarms);
    for e in episodes {
        // The jointly trained pair a0 <-> a1 is confident: never declared.
        assert!(e["tx"].as_str().unwrap().starts_with('b') || e["rx"] == "b", "{e}");
        // A declaration needs a full window of received messages.
        assert!(e["cause"] != "initial" || f(&e["detected_s"]) > 0.0, "{e}");
    }
    assert_summary_matches_events(&out, &s);
}

#[test]
fn malformed_network_scenarios_are_rejected_before_anything_runs() {
    let d = tempfile::tempdir().unwrap();
    let good = star(2, 2);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("syntax", good.replacen("users: [", "users: [[", 1), vec!["bad_syntax.ron:"]),
        (
            "profile",
            good.replace(r#"profile: "mnist_e0_s2", compute"#, r#"profile: "nope", compute"#),
            vec!["network.users[1].profile", "no profile named \"nope\""],
        ),
        ("rate", good.replace("rate_hz: 1.0", "rate_hz: -2.0"), vec!["network.traffic[0].rate_hz", "must be > 0"]),
        ("link", good.replace("down_bps: 4e6", "down_bps: -4e6"), vec!["network.topology.kind.shared.down_bps"]),
        (
            "epsilon",
            good.replace(
                "horizon_s: 300.0",
                r#"horizon_s: 300.0, dynamics: [(at_s: 5.0, change: channel(user: "tx0", epsilon: 1.5))]"#,
            ),
            vec!["network.dynamics[0].change.epsilon", "outside [0, 1)"],
        ),
        ("freeze", good.replace("slf(freeze: 2", "slf(freeze: 9"), vec!["network.policy.method", "9"]),
        (
            "disconnected",
            good.replace(
                r#"kind: star(center: "bs", shared: (down_bps: 4e6, up_bps: 2e6, latency_s: 0.005))"#,
                r#"kind: explicit(edges: [(a: "bs", b: "tx0")])"#,
            ),
            vec!["network.traffic[0]", "tx1 and bs are not connected"],
        ),
        ("user", good.replace(r#"from: "tx""#, r#"from: "ghost""#), vec!["network.traffic[0].from", "ghost"]),
    ];
    for (name, text, needles) in cases {
        let file = d.path().join(format!("bad_{name}.ron"));
        write(&file, &text);
        let out = d.path().join(format!("out_{name}"));
        for cmd in ["check", "run"] {
            let mut args = vec![cmd, file.to_str().unwrap()];
            if cmd == "run" {
                args.extend(["--out", out.to_str().unwrap()]);
            }
            let o = slfsim(&args);
            assert_clean_error(&o, &needles);
        }
        assert!(!out.exists(), "{name}: a rejected scenario wrote {}", out.display());
    }
}
