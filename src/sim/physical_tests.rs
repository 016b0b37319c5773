//! The physical world in the event loop, on a `SyntheticLab` (no models):
//! handovers and the stations' decoder caches, churn, and drift of ε.

use crate::scenario::{parse, Scenario};
use crate::sim::engine::{run, RunOutput};
use crate::sim::events::{EventKind, EventRecord};
use crate::sim::physical::bins::Bins;
use crate::sim::physical::radio::{epsilon_index, Modulation, PathLoss};
use crate::sim::synthetic::SyntheticLab;
use crate::sim::world;

/// Two stations of profile `a` 800 m apart; one user of `ue_profile`.
/// Path loss 40 + 30·log10(d) dB, no shadowing or fading: within 450 m of
/// its station a user's ε stays in bin 0.
fn scenario(ue_profile: &str, cache: usize, ue: &str, extra: &str) -> Scenario {
    let text = format!(
        r#"(
    name: "cells",
    seed: 5,
    profiles: [
        (name: "a", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 1),
        (name: "b", data: (dataset: mnist), channel: (kind: index, epsilon: 0.0), seed: 2),
    ],
    eval: (test_images: 10),
    align: (budget: (steps: 10, eval_every: 0, batch_size: 64)),
    network: (
        users: [(name: "bs", count: 2, profile: "a"), (name: "ue", profile: "{ue_profile}", compute: fixed(50e9))],
        topology: (kind: cells(stations: "bs", placement: explicit([(100.0, 100.0), (900.0, 100.0)]),
                               hysteresis_db: 3.0, time_to_trigger_s: 1.0, cache: {cache})),
        radio: (area: (width_m: 1000.0, height_m: 200.0),
                path_loss: log_distance(pl0_db: 40.0, d0_m: 1.0, exponent: 3.0),
                shadowing_db: 0.0, tick_s: 1.0, bins: [0.0, 0.02, 0.05, 0.1, 0.2, 0.3]),
        mobility: [(group: "ue", motion: {ue})],
        traffic: [(from: "ue", to: "bs", rate_hz: 1.0)],
        detection: oracle(delay_s: 1.0),
        policy: (method: slf(freeze: 2, side: output)),
        fidelity: memoized,
        horizon_s: 400.0,
        {extra}
    ),
)"#
    );
    parse(&text, std::path::Path::new("cells.ron")).unwrap_or_else(|e| panic!("{e}"))
}

/// A run's output and its events.
struct Out {
    run: RunOutput,
    events: Vec<EventRecord>,
}

impl std::ops::Deref for Out {
    type Target = RunOutput;
    fn deref(&self) -> &RunOutput {
        &self.run
    }
}

fn simulate(sc: &Scenario) -> Out {
    simulate_on(sc, SyntheticLab::new)
}

fn simulate_on(sc: &Scenario, lab: impl Fn(&world::World) -> SyntheticLab) -> Out {
    let w = world::build(sc).unwrap_or_else(|(f, m)| panic!("{f}: {m}"));
    let mut events = Vec::new();
    let run = run(&w, &mut lab(&w), &mut events, |_| {}).unwrap();
    Out { run, events }
}

/// (cause, rx) of every episode, in order.
fn episodes(out: &RunOutput) -> Vec<(String, String)> {
    out.summary.episodes.iter().map(|e| (e.cause.as_str().to_string(), e.rx.clone())).collect()
}

fn count(out: &Out, k: EventKind) -> usize {
    out.events.iter().filter(|e| e.event == k).count()
}

/// Out to the far station and back again.
const THERE_AND_BACK: &str =
    "path([(0.0, 100.0, 100.0), (100.0, 900.0, 100.0), (150.0, 900.0, 100.0), (250.0, 100.0, 100.0)])";

#[test]
fn a_decoder_kept_in_the_cache_is_reused_when_the_user_returns_and_realigned_once_evicted() {
    let s = |e: &[(&str, &str)]| e.iter().map(|(c, r)| (c.to_string(), r.to_string())).collect::<Vec<_>>();
    // Cache of one idle decoder: aligned with bs0 at the start, with bs1 after
    // the first handover; back at bs0 its decoder is still there.
    let kept = simulate(&scenario("b", 1, THERE_AND_BACK, ""));
    assert_eq!(episodes(&kept), s(&[("initial", "bs0"), ("handover", "bs1")]));
    assert!(kept.summary.episodes.iter().all(|e| e.aligned_s.is_some()), "{:?}", kept.summary.episodes);
    let w = kept.physical.as_ref().unwrap();
    assert_eq!(
        w.handovers.iter().map(|h| (h.to.as_str(), h.cached)).collect::<Vec<_>>(),
        [("bs1", false), ("bs0", true)]
    );
    assert_eq!(w.summary.handovers_to_cached, 1);
    assert_eq!(w.stations[0].peak_decoders, 1);
    assert_eq!(count(&kept, EventKind::DecoderEvicted), 0);
    // Handovers happen past the midpoint (3 dB hysteresis: d_A / d_B > 10^(3/30)).
    let first = w.handovers[0].t_s;
    assert!(first > 50.0 && first < 60.0, "{first}");
    // No idle decoder kept: bs0 drops the user's when it leaves, and the
    // user's return costs a new alignment.
    let evicted = simulate(&scenario("b", 0, THERE_AND_BACK, ""));
    assert_eq!(episodes(&evicted), s(&[("initial", "bs0"), ("handover", "bs1"), ("handover", "bs0")]));
    assert!(evicted.summary.episodes.iter().all(|e| e.aligned_s.is_some()));
    assert_eq!(count(&evicted, EventKind::DecoderEvicted), 2, "bs0's then bs1's");
    assert_eq!(evicted.physical.as_ref().unwrap().summary.handovers_to_cached, 0);
    // A user of the stations' own profile never needs a decoder: no episode at all.
    let own = simulate(&scenario("a", 0, THERE_AND_BACK, ""));
    assert_eq!(episodes(&own), s(&[]));
    assert_eq!(own.physical.as_ref().unwrap().summary.handovers, 2);
}

#[test]
fn a_station_holds_every_decoder_an_escalating_ladder_installs() {
    // Index map (check 0.70) and Procrustes map (0.82) miss 0.9 but each beats
    // what was installed; SLF ℓ = 4 (0.80) does not; ℓ = 3 (0.95) passes.
    let mut sc = scenario("b", 1, "path([(0.0, 100.0, 100.0)])", "");
    sc.network.policy.method = crate::scenario::PolicyMethod::Escalate { target_accuracy: 0.9 };
    let checks = [("index-map-p64", 0.70), ("latent-map-procrustes-p64", 0.82), ("slf-l4", 0.80), ("slf-l3", 0.95)];
    let out = simulate_on(&sc, |w| SyntheticLab::new(w).with_checks(&checks));
    let installed: Vec<bool> = out.attempts.iter().map(|a| a.installed).collect();
    assert_eq!(installed, [true, true, false, true], "{:?}", out.attempts);
    let w = out.physical.as_ref().unwrap();
    assert_eq!((w.stations[0].installed, w.stations[1].installed), (3, 0));
    assert_eq!(w.stations[0].peak_decoders, 1, "one decoder per TX, replaced");
    assert_eq!(out.summary.episodes.len(), 1, "the partial installs kept the episode open");
    assert!(out.summary.episodes[0].aligned_s.is_some());
}

#[test]
fn messages_go_to_the_serving_station_only() {
    let out = simulate(&scenario("b", 1, THERE_AND_BACK, ""));
    let w = out.physical.as_ref().unwrap();
    let (h1, h2) = (w.handovers[0].t_s, w.handovers[1].t_s);
    for e in out.events.iter().filter(|e| e.event == EventKind::MessageSent) {
        let rx = e.rx.as_deref().unwrap();
        let want = if e.t_s < h1 || e.t_s >= h2 { "bs0" } else { "bs1" };
        assert_eq!(rx, want, "message at {} s", e.t_s);
    }
}

fn churn_trace(dir: &std::path::Path) -> String {
    let f = dir.join("churn.csv");
    std::fs::write(&f, "t_s,user,event\n20,ue,leave\n30,ue,join\n").unwrap();
    format!("churn: [trace(file: {:?})],", f.to_str().unwrap())
}

#[test]
fn a_user_who_leaves_and_comes_back_keeps_its_decoder_only_while_cached() {
    let d = tempfile::tempdir().unwrap();
    let still = "static";
    let trace = churn_trace(d.path());
    let kept = simulate(&scenario("b", 1, still, &trace));
    assert_eq!(episodes(&kept).len(), 1, "{:?}", kept.summary.episodes);
    assert_eq!((count(&kept, EventKind::UserLeft), count(&kept, EventKind::UserJoined)), (1, 1));
    // Silent while away.
    assert!(!kept.events.iter().any(|e| e.event == EventKind::MessageSent && e.t_s > 20.0 && e.t_s < 30.0));
    let evicted = simulate(&scenario("b", 0, still, &trace));
    let e = episodes(&evicted);
    assert_eq!(e.len(), 2);
    assert_eq!(e[1].0, "join");
    assert_eq!(evicted.summary.episodes[1].onset_s, 30.0);
    assert!(evicted.summary.episodes.iter().all(|e| e.aligned_s.is_some()));
}

/// ε of the test radio at `d` metres from the serving station (QPSK, K = 64).
fn epsilon_at(d: f64) -> f64 {
    let snr_db = 23.0 - PathLoss::LogDistance { pl0_db: 40.0, d0_m: 1.0, exponent: 3.0 }.db(d) + 107.0;
    epsilon_index(Modulation::Qpsk.ber_awgn(10f64.powf(snr_db / 10.0)), 6)
}

#[test]
fn a_link_whose_channel_drifts_is_realigned_at_its_new_bin_and_keeps_it_coming_back() {
    let bins = Bins::new(&[0.0, 0.02, 0.05, 0.1, 0.2, 0.3]).unwrap();
    assert_eq!(bins.nearest(epsilon_at(100.0)), 0.0);
    assert_eq!(bins.nearest(epsilon_at(560.0)), 0.05, "{}", epsilon_at(560.0));
    // One station; the user (its own profile: aligned from the start) walks
    // from 100 m to 560 m away and back. The synthetic lab loses 2 points per
    // 0.01 of ε: 10 points at bin 0.05, beyond the 5-point tolerance.
    let sc = scenario(
        "a",
        1,
        "path([(0.0, 200.0, 100.0), (50.0, 660.0, 100.0), (150.0, 660.0, 100.0), (200.0, 200.0, 100.0)])",
        "",
    );
    let sc = {
        let mut sc = sc;
        if let crate::scenario::TopologyShape::Cells { placement, .. } = &mut sc.network.topology.kind {
            *placement = crate::scenario::StationPlacement::Explicit(vec![(100.0, 100.0), (100.0, 150.0)]);
        }
        sc
    };
    let out = simulate(&sc);
    let eps: Vec<_> = out.summary.episodes.iter().filter(|e| e.rx == "bs0").collect();
    assert_eq!(eps.len(), 1, "{:?}", out.summary.episodes);
    let e = eps[0];
    assert_eq!(e.cause.as_str(), "channel");
    assert!(e.onset_s > 30.0 && e.onset_s < 50.0, "{e:?}");
    assert!((e.accuracy_before - 0.8).abs() < 1e-9, "aligned link at bin 0.05: {e:?}");
    assert_eq!(e.accuracy_after, Some(0.9));
    assert!(out.summary.aggregate.unrecovered == 0);
    // Back near the station the decoder fitted for 0.05 serves bin 0 as well: no new episode.
    assert!(out.summary.pairs.iter().filter(|p| p.rx == "bs0").all(|p| p.aligned_at_end));
}
