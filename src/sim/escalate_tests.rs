//! The escalating policy on a `SyntheticLab` whose methods reach known
//! accuracies (and pilot checks), and its ordering and skipping rules alone.

use super::*;
use crate::scenario::Scenario;
use crate::sim::engine::{run, RunOutput};
use crate::sim::events::EventRecord;
use crate::sim::synthetic::SyntheticLab;
use crate::sim::world::{self, World};

/// Judged accuracy (and, unless overridden, pilot check) of each candidate.
const ACCURACY: [(&str, f64); 7] = [
    ("slf-l0", 0.95),
    ("slf-l1", 0.94),
    ("slf-l2", 0.93),
    ("slf-l3", 0.85),
    ("slf-l4", 0.80),
    ("latent-map-procrustes-p64", 0.82),
    ("index-map-p64", 0.70),
];

/// Cheapest first on an idle star, as the predicted times rank them.
const COST_ORDER: [&str; 7] =
    ["index-map-p64", "latent-map-procrustes-p64", "slf-l4", "slf-l3", "slf-l2", "slf-l1", "slf-l0"];

/// `n` TX of profile b behind one RX of profile a serving one at a time,
/// plus `extra` network fields.
fn scenario(n: usize, target: f64, extra: &str) -> Scenario {
    crate::sim::engine::tests::scenario(&format!(
        r#"
        users: [(name: "bs", profile: "a"), (name: "tx", count: {n}, profile: "b", compute: fixed(50e9))],
        topology: (kind: star(center: "bs"), link: (down_bps: 8e6, up_bps: 4e6, latency_s: 0.01)),
        traffic: [(from: "tx", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 1.0),
        policy: (method: escalate(target_accuracy: {target}), max_concurrent: 1),
        fidelity: memoized,
        horizon_s: 1000.0,
        {extra}
    "#
    ))
}

struct Out {
    world: World,
    o: RunOutput,
    events: Vec<EventRecord>,
}

fn simulate(n: usize, target: f64, checks: &[(&str, f64)]) -> Out {
    simulate_with(n, target, checks, "")
}

fn simulate_with(n: usize, target: f64, checks: &[(&str, f64)], extra: &str) -> Out {
    let world = world::build(&scenario(n, target, extra)).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
    let mut lab = SyntheticLab::new(&world).with_accuracies(&ACCURACY).with_checks(checks);
    let mut events = Vec::new();
    let o = run(&world, &mut lab, &mut events, |_| {}).unwrap();
    Out { world, o, events }
}

impl Out {
    /// Methods tried in episode `ep` (of all pairs, in order).
    fn tried(&self, ep: usize) -> Vec<&str> {
        let e = &self.o.summary.episodes[ep];
        self.o
            .attempts
            .iter()
            .filter(|a| a.pair == e.pair && a.episode == e.episode)
            .map(|a| a.method.as_str())
            .collect()
    }

    /// (download, upload) bytes of `methods` by the cost model, plus the
    /// check's pilot messages after each SLF.
    fn bytes(&self, methods: &[&str]) -> (u64, u64) {
        let info = &self.world.settings.profiles[1];
        let mut sum = (0, 0);
        for m in methods {
            let job = info.candidates.iter().find(|j| j.method.label() == *m).unwrap();
            sum.0 += job.cost.download_bytes;
            sum.1 += job.cost.upload_bytes + if job.method.pilots().is_none() { info.check.up_bytes } else { 0 };
        }
        sum
    }

    fn events(&self, kind: EventKind) -> Vec<&EventRecord> {
        self.events.iter().filter(|e| e.event == kind).collect()
    }
}

#[test]
fn the_cheapest_candidate_that_passes_its_check_is_the_only_attempt() {
    let out = simulate(2, 0.65, &[]);
    assert_eq!(out.o.summary.episodes.len(), 2);
    for ep in 0..2 {
        assert_eq!(out.tried(ep), ["index-map-p64"]);
        let e = &out.o.summary.episodes[ep];
        assert_eq!(e.accuracy_after, Some(0.70));
        assert_eq!((e.download_bytes, e.upload_bytes), out.bytes(&["index-map-p64"]));
    }
    assert!(out.o.attempts.iter().all(|a| a.passed == Some(true) && a.ending == AttemptEnding::Passed && a.installed));
    assert!(out.o.attempts.iter().all(|a| a.check_bytes == 0 && a.check_flops > 0), "pilots crossed already");
    assert!(out.events(EventKind::Escalated).is_empty());
    assert_eq!(out.events(EventKind::MethodChosen).len(), 2);
    let s = out.o.summary.escalation.as_ref().expect("summary");
    assert_eq!((s.attempts, s.passed, s.exhausted, s.attempts_per_episode_mean), (2, 2, 0, Some(1.0)));
    assert_eq!(s.rungs[0].share_passed, Some(1.0));
}

#[test]
fn rx_runs_the_check_on_its_compute_after_the_pilot_fit() {
    // One TX; RX computes at 1 GFLOP/s, so its share of the repair shows.
    let sc = crate::sim::engine::tests::scenario(
        r#"
        users: [(name: "bs", profile: "a", compute: fixed(1e9)), (name: "tx", profile: "b", compute: fixed(50e9))],
        topology: (kind: star(center: "bs"), link: (down_bps: 8e6, up_bps: 4e6, latency_s: 0.01)),
        traffic: [(from: "tx", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 1.0),
        policy: (method: escalate(target_accuracy: 0.65)),
        fidelity: memoized,
        horizon_s: 1000.0,
    "#,
    );
    let world = world::build(&sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
    let mut lab = SyntheticLab::new(&world).with_accuracies(&ACCURACY);
    let mut events = Vec::new();
    let o = run(&world, &mut lab, &mut events, |_| {}).unwrap();
    let info = &world.settings.profiles[1];
    let job = info.candidates.iter().find(|j| j.method.label() == "index-map-p64").unwrap();
    let rx_flops = job.cost.pilot_rx_flops + info.check.rx_flops;
    assert!(info.check.rx_flops > 0 && job.cost.pilot_rx_flops > 0);
    let at = |kind: EventKind| events.iter().find(|e| e.event == kind).map(|e| e.t_s).unwrap();
    let installed = at(EventKind::UploadFinished) + rx_flops as f64 / 1e9;
    assert!(
        (at(EventKind::AlignedInstalled) - installed).abs() < 2e-9,
        "{} vs {installed}",
        at(EventKind::AlignedInstalled)
    );
    assert_eq!(o.attempts[0].check_flops, info.check.rx_flops);
}

#[test]
fn a_missed_check_moves_to_the_next_costlier_candidate_and_the_episode_sums_both() {
    let out = simulate(1, 0.8, &[]);
    assert_eq!(out.tried(0), ["index-map-p64", "latent-map-procrustes-p64"]);
    let a = &out.o.attempts;
    assert!(a[0].predicted_time_s < a[1].predicted_time_s, "cost order");
    assert_eq!((a[0].check_accuracy, a[0].ending, a[0].installed), (Some(0.70), AttemptEnding::Escalated, true));
    assert_eq!((a[1].check_accuracy, a[1].ending, a[1].rung), (Some(0.82), AttemptEnding::Passed, 1));
    let e = &out.o.summary.episodes[0];
    assert_eq!(e.accuracy_after, Some(0.82), "the second is installed");
    assert_eq!((e.download_bytes, e.upload_bytes), out.bytes(&["index-map-p64", "latent-map-procrustes-p64"]));
    // Recovery ends at the passing check, which is the installation.
    let end = a[1].t_s + a[1].time_s.unwrap();
    assert!((e.aligned_s.unwrap() - end).abs() < 1e-9, "{e:?} {:?}", a[1]);
    let esc = out.events(EventKind::Escalated);
    assert_eq!(esc.len(), 1);
    let detail = esc[0].detail.as_deref().unwrap();
    assert!(detail.contains("from=index-map-p64") && detail.contains("to=latent-map") && detail.contains("0.7"));
    assert_eq!(out.events(EventKind::AlignedInstalled).len(), 1, "one installation closes the episode");
    assert_eq!(out.events(EventKind::DownloadStarted).len(), 2, "one service per attempt");
}

#[test]
fn after_slf_the_check_pilots_go_up_and_a_worse_result_is_not_installed() {
    // 0.9: index-map, latent-map, ℓ = 4 (0.80, below the installed 0.82), ℓ = 3 (0.85), ℓ = 2 passes.
    let out = simulate(1, 0.9, &[]);
    let tried = out.tried(0);
    assert_eq!(tried, COST_ORDER[..5]);
    let installed: Vec<bool> = out.o.attempts.iter().map(|a| a.installed).collect();
    assert_eq!(installed, [true, true, false, true, true]);
    let e = &out.o.summary.episodes[0];
    assert_eq!(e.accuracy_after, Some(0.93));
    assert_eq!((e.download_bytes, e.upload_bytes), out.bytes(&tried));
    let check = out.world.settings.profiles[1].check;
    assert_eq!(check.up_bytes, 64 * 48, "64 pilot messages of 64 indices of 6 bits");
    let pilots_up =
        out.events(EventKind::UploadStarted).iter().filter(|e| e.detail.as_deref() == Some("check pilots")).count();
    assert_eq!(pilots_up, 3, "after each SLF attempt");
    assert!(out.o.attempts.iter().filter(|a| a.method.starts_with("slf")).all(|a| a.check_bytes == check.up_bytes));
    // Rungs are tried in cost order: predicted times increase along the ladder.
    let t: Vec<f64> = out.o.attempts.iter().map(|a| a.predicted_time_s).collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "{t:?}");
}

#[test]
fn when_every_check_misses_all_are_tried_and_the_best_by_check_is_kept() {
    // ℓ = 0 is judged the most accurate but checks worst: the check decides.
    let out = simulate(1, 0.99, &[("slf-l0", 0.5)]);
    assert_eq!(out.tried(0), COST_ORDER);
    let a = &out.o.attempts;
    assert_eq!(a.last().unwrap().ending, AttemptEnding::Exhausted);
    let kept: Vec<&str> = a.iter().filter(|a| a.installed).map(|a| a.method.as_str()).collect();
    assert_eq!(kept.last(), Some(&"slf-l1"));
    let e = &out.o.summary.episodes[0];
    assert_eq!(e.accuracy_after, Some(0.94), "slf-l1's judged accuracy");
    assert!(e.aligned_s.is_some(), "the episode ends");
    let esc = out.events(EventKind::Escalated);
    assert_eq!(esc.len(), 7);
    assert!(esc[6].detail.as_deref().unwrap().contains("to=none keeps=slf-l1"));
    let s = out.o.summary.escalation.as_ref().unwrap();
    assert_eq!((s.exhausted, s.passed, s.attempts_per_episode_max), (1, 0, 7));
    assert!(s.rungs.iter().all(|r| r.share_passed == Some(0.0)));
}

#[test]
fn a_pair_that_missed_goes_back_to_the_queue_so_ladders_interleave() {
    let out = simulate(2, 0.9, &[]);
    let order: Vec<(usize, &str)> = out.o.attempts.iter().map(|a| (a.pair, a.method.as_str())).collect();
    // Fifo at one alignment at a time: the second pair's first rung runs right after the first pair's.
    assert_eq!(&order[..4], [(0, COST_ORDER[0]), (1, COST_ORDER[0]), (0, COST_ORDER[1]), (1, COST_ORDER[1])]);
    for ep in 0..2 {
        // ℓ = 4 is skipped by neither: the first pair tried it while unmeasured; the
        // second had already queued it (a rung is chosen at the check before it).
        assert_eq!(out.tried(ep), COST_ORDER[..5]);
        assert_eq!(out.o.summary.episodes[ep].accuracy_after, Some(0.93));
    }
    // Each installation closes its episode; every other check sent its pair back.
    assert_eq!(out.events(EventKind::Escalated).len(), 8);
    assert_eq!(out.events(EventKind::AlignedInstalled).len(), 2);
}

#[test]
fn a_later_pair_of_the_class_skips_the_known_misses() {
    // The second TX joins once the first pair's ladder is done.
    let out = simulate_with(2, 0.9, &[], r#"dynamics: [(at_s: 500.0, change: join(user: "tx1"))],"#);
    assert_eq!(out.tried(0), COST_ORDER[..5]);
    // Its first rung is always tried; then latent-map (0.82), ℓ = 4 (0.80) and ℓ = 3 (0.85)
    // are known misses while ℓ = 2 is known to reach 0.9.
    assert_eq!(out.tried(1), ["index-map-p64", "slf-l2"]);
    let second: Vec<&AttemptRecord> = out.o.attempts.iter().filter(|a| a.episode == 0 && a.pair == 1).collect();
    assert_eq!(second[1].rung, 4);
    assert_eq!((second[1].predicted_accuracy, second[1].accuracy_source), (0.93, Source::Class));
}

fn pred(accuracy: f64, time_s: f64) -> Prediction {
    Prediction { method: String::new(), accuracy, source: Source::Prior, gap_share: None, time_s }
}

#[test]
fn the_ladder_is_cheapest_first_ties_in_candidate_order() {
    let preds = [pred(1.0, 3.0), pred(1.0, 0.5), pred(1.0, 3.0), pred(1.0, 0.1)];
    assert_eq!(cost_order(&preds), [3, 1, 0, 2]);
}

#[test]
fn the_next_rung_skips_what_cannot_improve_and_known_misses() {
    let order = [0, 1, 2, 3];
    let (prior, class) = (Source::Prior, Source::Class);
    // Unmeasured candidates are never skipped.
    assert_eq!(next_rung(&order, 0, &[(0.6, class), (1.0, prior), (1.0, prior), (1.0, prior)], 0.6, 0.9), Some(1));
    // Measured at or below the best so far: skipped.
    assert_eq!(next_rung(&order, 0, &[(0.6, class), (0.6, class), (0.5, class), (0.7, class)], 0.6, 0.9), Some(3));
    // A known miss is skipped while a costlier one is predicted to reach the target...
    assert_eq!(next_rung(&order, 0, &[(0.6, class), (0.8, class), (0.95, class), (0.7, class)], 0.6, 0.9), Some(2));
    // ... and tried when none is (it still improves on what is installed).
    assert_eq!(next_rung(&order, 0, &[(0.6, class), (0.8, class), (0.85, class), (0.7, class)], 0.6, 0.9), Some(1));
    // Nothing left.
    assert_eq!(next_rung(&order, 3, &[(0.6, class); 4], 0.6, 0.9), None);
    assert_eq!(next_rung(&order, 0, &[(0.6, class), (0.5, class), (0.6, Source::Kind), (0.1, class)], 0.6, 0.9), None);
}
