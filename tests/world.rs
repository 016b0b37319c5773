//! `slfsim run` with a physical world: a small city (cells, radio, walking
//! and driving users, churn, monitor detection) replays byte for byte on 1
//! and 2 threads and its world records agree with its events; bad physical
//! sections and bad traces get one error line naming the field, or the
//! trace file and line. Runs use the embedded data and 2 fine-tuning steps.

mod common;

use std::path::Path;

use common::{assert_clean_error, root, slfsim, stderr, write};
use serde_json::Value;

fn city(trace: &str) -> String {
    format!(
        r#"Scenario(
    name: "town",
    seed: 13,
    profiles: [
        (name: "mnist_e0_s1", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 1),
        (name: "mnist_e0_s2", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 2),
        (name: "mnist_e10_s2", data: (dataset: mnist), channel: (kind: index, epsilon: 0.1), seed: 2),
    ],
    eval: (test_images: 200),
    align: (budget: (steps: 20, eval_every: 0, batch_size: 32, curve_images: 100)),
    network: (
        users: [
            (name: "bs", count: 3, profile: "mnist_e0_s1", compute: fixed(1e12)),
            (name: "walk", count: 12, profile: "mnist_e0_s2"),
            (name: "car", count: 8, profile: "mnist_e10_s2", compute: fixed(100e9)),
            (name: "local", count: 4, profile: "mnist_e0_s1"),
        ],
        topology: (kind: cells(stations: "bs", cell: Some((down_bps: 10e6, up_bps: 5e6, latency_s: 0.001)), cache: 2)),
        radio: (area: (width_m: 900.0, height_m: 300.0), bandwidth_hz: 200e3, shadowing_db: 4.0,
                decorrelation_m: 30.0, fading: rayleigh(coherence_s: 0.01), bins: [0.0, 0.05, 0.1, 0.2, 0.3]),
        mobility: [
            (group: "walk", motion: random_waypoint(speed_mps: (1.0, 2.0), pause_s: (0.0, 10.0))),
            (group: "car", motion: random_waypoint(speed_mps: (10.0, 15.0), pause_s: (0.0, 5.0))),
        ],
        churn: [{trace}on_off(group: "walk", mean_on_s: 40.0, mean_off_s: 15.0)],
        traffic: [(from: "walk", to: "bs", rate_hz: 1.0), (from: "car", to: "bs", rate_hz: 1.0),
                  (from: "local", to: "bs", rate_hz: 1.0)],
        detection: monitor(window: 5, threshold: 0.8),
        policy: (method: slf(freeze: 2, side: output), max_concurrent: 4),
        fidelity: memoized,
        horizon_s: 90.0,
    ),
)"#
    )
}

fn run(scenario: &Path, out: &Path, threads: &str) -> Value {
    let args =
        ["--threads", threads, "run", scenario.to_str().unwrap(), "--steps", "2", "--out", out.to_str().unwrap()];
    let o = slfsim(&args);
    assert!(o.status.success(), "slfsim {args:?} failed: {}", stderr(&o));
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const FILES: [&str; 8] = [
    "summary.json",
    "events.jsonl",
    "pairs.csv",
    "timeseries.csv",
    "stations.csv",
    "handovers.csv",
    "world_timeseries.csv",
    "positions.csv",
];

#[test]
fn a_small_city_replays_byte_for_byte_and_its_world_records_agree_with_its_events() {
    let d = tempfile::tempdir().unwrap();
    let sc = d.path().join("town.ron");
    write(&sc, &city(""));
    let (a, b) = (d.path().join("t1"), d.path().join("t2"));
    let s = run(&sc, &a, "1");
    run(&sc, &b, "2");
    for f in FILES {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{f} differs between --threads 1 and 2");
    }
    for plot in ["world_map", "world_causes", "world_activity"] {
        for ext in ["svg", "png"] {
            assert!(a.join(format!("{plot}.{ext}")).metadata().unwrap().len() > 0, "{plot}.{ext}");
        }
    }
    let ev = events(&a);
    let kind = |k: &str| ev.iter().filter(|e| e["event"] == k).count();
    let w = &s["world"];
    // 3 stations, 24 users: 3 x 24 pairs, each user talking to the station serving it.
    assert_eq!(w["stations"], 3);
    assert_eq!(s["pairs"].as_array().unwrap().len(), 72);
    assert_eq!(w["handovers"].as_u64().unwrap() as usize, kind("handover"));
    assert!(kind("handover") > 0, "cars at 10-15 m/s cross cells");
    let handovers = std::fs::read_to_string(a.join("handovers.csv")).unwrap();
    assert_eq!(handovers.lines().count(), 1 + kind("handover"));
    assert_eq!(w["leaves"].as_u64().unwrap() as usize, kind("user_left"));
    assert!(kind("user_left") > 0, "walkers churn");
    assert_eq!(w["evictions"].as_u64().unwrap() as usize, kind("decoder_evicted"));
    // Every episode ends one way: its decoder installed, ended unaligned, or open at the horizon.
    let episodes = s["episodes"].as_array().unwrap();
    let (mut installed, mut ended) = (0, 0);
    for e in episodes {
        match (e["aligned_s"].as_f64(), e["ended_s"].as_f64()) {
            (Some(_), None) => installed += 1,
            (None, Some(_)) => ended += 1,
            (None, None) => {}
            (Some(_), Some(_)) => panic!("installed and ended: {e}"),
        }
    }
    assert_eq!(installed, kind("aligned_installed"));
    assert_eq!(ended, kind("episode_abandoned"));
    assert_eq!(s["aggregate"]["abandoned"].as_u64().unwrap_or(0) as usize, ended);
    assert!(installed > 0);
    let causes: std::collections::BTreeSet<&str> = episodes.iter().map(|e| e["cause"].as_str().unwrap()).collect();
    assert!(causes.contains("initial"), "{causes:?}");
    // Messages of a user go to one station at a time: the one serving it (after a handover or a rejoin).
    let mut serving: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for e in &ev {
        match e["event"].as_str().unwrap() {
            "handover" => {
                let to = e["detail"].as_str().unwrap().split(" -> ").nth(1).unwrap().split(' ').next().unwrap();
                serving.insert(e["user"].as_str().unwrap().to_string(), to.to_string());
            }
            // A user coming back attaches to the strongest station at once.
            "user_joined" => {
                if let Some(at) = e["detail"].as_str().and_then(|d| d.strip_prefix("at ")) {
                    serving.insert(e["user"].as_str().unwrap().to_string(), at.to_string());
                }
            }
            "message_sent" => {
                let (tx, rx) = (e["tx"].as_str().unwrap(), e["rx"].as_str().unwrap());
                if let Some(st) = serving.get(tx) {
                    assert_eq!(st, rx, "{e}");
                }
            }
            _ => {}
        }
    }
}

#[test]
fn the_shipped_city_checks() {
    let o = slfsim(&["check", "scenarios/network/city.ron"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(root().join("scenarios/network/city.ron").is_file());
}

#[test]
fn bad_physical_sections_and_traces_get_one_error_line() {
    let d = tempfile::tempdir().unwrap();
    let trace = d.path().join("churn.csv");
    let good = city(&format!("trace(file: {:?}), ", trace.to_str().unwrap()));
    let cases: Vec<(&str, String, &str, Vec<String>)> = vec![
        (
            "row",
            good.clone(),
            "t_s,user,event\n5,walk0,leave\n9,walk0,sleep\n",
            vec!["churn.csv:3:".into(), "sleep".into()],
        ),
        ("user", good.clone(), "t_s,user,event\n5,ghost,leave\n", vec!["churn.csv:2:".into(), "ghost".into()]),
        ("header", good.clone(), "time,user,event\n", vec!["churn.csv:1:".into(), "t_s,user,event".into()]),
        ("station", good.clone(), "t_s,user,event\n5,bs1,leave\n", vec!["churn.csv:2:".into(), "station".into()]),
        (
            "bins",
            good.replace("bins: [0.0, 0.05,", "bins: [0.05, 0.0,"),
            "t_s,user,event\n",
            vec!["network.radio.bins[1]".into()],
        ),
        (
            "speed",
            good.replace("speed_mps: (10.0, 15.0)", "speed_mps: (0.0, 15.0)"),
            "t_s,user,event\n",
            vec!["network.mobility[1].motion.speed_mps".into()],
        ),
        (
            "no cells",
            good.replace(
                r#"kind: cells(stations: "bs", cell: Some((down_bps: 10e6, up_bps: 5e6, latency_s: 0.001)), cache: 2)"#,
                r#"kind: star(center: "bs0")"#,
            ),
            "t_s,user,event\n",
            vec!["network.radio".into(), "cells topology".into()],
        ),
        (
            "stations",
            good.replace(r#"cells(stations: "bs""#, r#"cells(stations: "bts""#),
            "t_s,user,event\n",
            vec!["network.topology.kind.stations".into(), "bts".into()],
        ),
    ];
    for (name, text, rows, needles) in cases {
        std::fs::write(&trace, rows).unwrap();
        let f = d.path().join("town.ron");
        write(&f, &text);
        let n: Vec<&str> = needles.iter().map(String::as_str).collect();
        let out = d.path().join("out");
        assert_clean_error(&slfsim(&["check", f.to_str().unwrap()]), &n);
        assert_clean_error(&slfsim(&["run", f.to_str().unwrap(), "--out", out.to_str().unwrap()]), &n);
        assert!(!d.path().join("out").exists(), "{name}: wrote output");
    }
}
