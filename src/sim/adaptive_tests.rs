//! The adaptive policy on a `SyntheticLab` whose methods reach known
//! accuracies: RX serves one TX at a time, so each decision sees the
//! previous ones' results.

use crate::scenario::Scenario;
use crate::sim::engine::{run, RunOutput};
use crate::sim::synthetic::SyntheticLab;
use crate::sim::world;

/// Accuracy each candidate reaches on the synthetic lab.
const ACCURACY: [(&str, f64); 7] = [
    ("slf-l0", 0.95),
    ("slf-l1", 0.94),
    ("slf-l2", 0.93),
    ("slf-l3", 0.85),
    ("slf-l4", 0.80),
    ("latent-map-procrustes-p64", 0.82),
    ("index-map-p64", 0.70),
];

/// `n` TX of profile b (another seed than RX's a) behind one RX that
/// serves one alignment at a time.
fn scenario(n: usize, target: f64, extra: &str) -> Scenario {
    scenario_with(n, &format!("adaptive(target_accuracy: {target})"), extra)
}

fn scenario_with(n: usize, method: &str, extra: &str) -> Scenario {
    crate::sim::engine::tests::scenario(&format!(
        r#"
        users: [(name: "bs", profile: "a"), (name: "tx", count: {n}, profile: "b", compute: fixed(50e9))],
        topology: (kind: star(center: "bs"), link: (down_bps: 8e6, up_bps: 4e6, latency_s: 0.01)),
        traffic: [(from: "tx", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 1.0),
        policy: (method: {method}, max_concurrent: 1{extra}),
        fidelity: memoized,
        horizon_s: 1000.0,
    "#
    ))
}

fn simulate(sc: &Scenario) -> RunOutput {
    let w = world::build(sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
    let mut lab = SyntheticLab::new(&w).with_accuracies(&ACCURACY);
    run(&w, &mut lab, &mut Vec::new(), |_| {}).unwrap()
}

fn chosen(o: &RunOutput) -> Vec<&str> {
    o.decisions.iter().map(|d| d.candidates[d.chosen].method.as_str()).collect()
}

/// Every decision is the rule applied to its own predictions, and (one
/// alignment at a time on an idle network) the predicted time is the realised one.
fn check_rule(o: &RunOutput, target: f64) {
    for d in &o.decisions {
        let c = &d.candidates;
        let meets: Vec<usize> = (0..c.len()).filter(|&i| c[i].accuracy >= target).collect();
        let want = if meets.is_empty() {
            (0..c.len()).max_by(|&i, &j| c[i].accuracy.total_cmp(&c[j].accuracy)).unwrap()
        } else {
            *meets.iter().min_by(|&&i, &&j| c[i].time_s.total_cmp(&c[j].time_s)).unwrap()
        };
        assert_eq!(d.chosen, want, "decision {}: {c:?}", d.decision);
        let realised = d.realised_time_s.expect("installed");
        assert!((realised - c[d.chosen].time_s).abs() < 1e-6, "{realised} vs {:?}", c[d.chosen]);
        let want_acc = ACCURACY.iter().find(|(l, _)| *l == c[d.chosen].method).unwrap().1;
        assert_eq!(d.realised_accuracy, Some(want_acc));
    }
}

#[test]
fn adaptive_tries_the_cheapest_first_then_keeps_the_cheapest_that_meets_the_target() {
    let o = simulate(&scenario(7, 0.9, ""));
    check_rule(&o, 0.9);
    // Optimistic prior: the cheapest untried candidate until one measures >= 0.9 (SLF ℓ = 2),
    // which is then kept; ℓ = 1 and 0 (costlier, also predicted 1.0) are never needed.
    assert_eq!(
        chosen(&o),
        ["index-map-p64", "latent-map-procrustes-p64", "slf-l4", "slf-l3", "slf-l2", "slf-l2", "slf-l2"]
    );
    let last = &o.decisions[6];
    let pred = |m: &str| last.candidates.iter().find(|c| c.method == m).unwrap().clone();
    assert_eq!((pred("slf-l2").accuracy, pred("slf-l2").source.to_string()), (0.93, "class".into()));
    assert_eq!((pred("slf-l1").accuracy, pred("slf-l1").source.to_string()), (1.0, "prior".into()));
    assert!(pred("index-map-p64").time_s < pred("slf-l2").time_s && pred("slf-l2").time_s < pred("slf-l0").time_s);
    assert_eq!(o.summary.method, "adaptive(target_accuracy=0.9)");
}

#[test]
fn when_no_candidate_meets_the_target_adaptive_takes_the_most_accurate() {
    let o = simulate(&scenario(8, 0.99, ""));
    check_rule(&o, 0.99);
    // Every candidate is tried once, cheapest first; then the most accurate (ℓ = 0) is kept.
    let c = chosen(&o);
    assert_eq!(&c[5..], ["slf-l1", "slf-l0", "slf-l0"], "{c:?}");
    let mut tried = c[..7].to_vec();
    tried.sort();
    assert_eq!(tried.len(), 7);
    tried.dedup();
    assert_eq!(tried.len(), 7, "each candidate once: {c:?}");
}

#[test]
fn a_calibration_file_replaces_the_prior() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cal.csv");
    std::fs::write(
        &f,
        "kind,dataset,method,accuracy\nseed,mnist,index-map-p64,0.7\nseed,mnist,latent-map-procrustes-p64,0.8\nseed,mnist,slf-l4,0.8\nseed,mnist,slf-l3,0.86\n",
    )
    .unwrap();
    let o = simulate(&scenario(2, 0.9, &format!(", calibration: {:?}", f.display().to_string())));
    check_rule(&o, 0.9);
    assert_eq!(chosen(&o), ["slf-l2", "slf-l2"]);
    let first = &o.decisions[0];
    assert_eq!(first.candidates.iter().filter(|c| c.source.to_string() == "file").count(), 4);
}

#[test]
fn a_gap_share_target_reads_each_candidate_against_the_matched_link() {
    // Every candidate calibrated, so nothing is explored. TX b meets RX a:
    // before 0.1 (misaligned), matched 0.9 (b's own link), so a candidate
    // reaching x recovers (x - 0.1) / 0.8 of the gap: the Procrustes map's
    // 0.82 recovers 90%, index_map's 0.70 75%, SLF ℓ = 2's 0.93 104%.
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cal.csv");
    let mut text = String::from("kind,tx_dataset,rx_dataset,method,accuracy\n");
    for (m, a) in ACCURACY {
        text += &format!("seed,mnist,mnist,{m},{a}\n");
    }
    std::fs::write(&f, text).unwrap();
    let cal = format!(", calibration: {:?}", f.display().to_string());
    let gap = simulate(&scenario_with(2, "adaptive(target_gap_share: 0.89)", &cal));
    assert_eq!(chosen(&gap), ["latent-map-procrustes-p64", "latent-map-procrustes-p64"]);
    // The same number as an accuracy target asks for more: SLF ℓ = 2 (0.93).
    let acc = simulate(&scenario(2, 0.89, &cal));
    assert_eq!(chosen(&acc), ["slf-l2", "slf-l2"]);
    for d in &gap.decisions {
        assert_eq!((d.before_accuracy, d.matched_accuracy), (Some(0.1), Some(0.9)));
        for c in &d.candidates {
            let want = (c.accuracy - 0.1) / 0.8;
            assert!((c.gap_share.unwrap() - want).abs() < 1e-12, "{c:?}");
        }
        assert!((d.realised_gap_share.unwrap() - 0.9).abs() < 1e-12, "{:?}", d.realised_gap_share);
        assert_eq!(d.target, crate::scenario::AdaptiveTarget::GapShare(0.89));
    }
    assert!(acc.decisions.iter().all(|d| d.before_accuracy.is_none() && d.realised_gap_share.is_none()));
    assert_eq!(gap.summary.method, "adaptive(target_gap_share=0.89)");
}
