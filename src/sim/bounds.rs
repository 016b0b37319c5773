//! Durations the expanded world implies, checked before the clock starts:
//! one model transfer alone on a link, one fine-tuning alone on a user's
//! compute. Each must fit the nanosecond clock (`scenario::limits::MAX_TIME_S`);
//! a link or a budget so small that it does not cannot be simulated.

use super::world::World;
use crate::scenario::limits::{show, MAX_TIME_S};

type Invalid = (String, String);

pub fn check_durations(w: &World) -> Result<(), Invalid> {
    let s = &w.settings;
    let used: Vec<usize> = {
        let mut v: Vec<usize> = w.users.iter().map(|u| u.profile).collect();
        v.sort();
        v.dedup();
        v
    };
    let bytes = used
        .iter()
        .map(|&p| s.profiles[p].job.cost.download_bytes.max(s.profiles[p].job.cost.upload_bytes))
        .max()
        .unwrap_or(0);
    let name = |n: usize| w.users.get(n).map_or_else(|| "the relay hub".to_string(), |u| u.name.clone());
    for l in &w.links {
        let rate = l.rate_ab_bps.min(l.rate_ba_bps);
        let t = bytes as f64 * 8.0 / rate;
        if t.is_nan() || t > MAX_TIME_S {
            return Err((
                "network.topology".into(),
                format!(
                    "the link {}–{} at {} bit/s takes {} s for one transfer of {} bytes, above the limit of {} s (the nanosecond clock)",
                    name(l.a),
                    name(l.b),
                    show(rate),
                    show(t.round()),
                    show(bytes as f64),
                    show(MAX_TIME_S)
                ),
            ));
        }
    }
    for u in &w.users {
        let job = &s.profiles[u.profile].job;
        let t = job.cost.flops_per_step as f64 * job.budget.steps as f64 / u.flops_per_s;
        if t.is_nan() || t > MAX_TIME_S {
            return Err((
                "network.users".into(),
                format!(
                    "{} (group {:?}) at {} FLOP/s takes {} s for one fine-tuning, above the limit of {} s (the nanosecond clock)",
                    u.name,
                    u.group,
                    show(u.flops_per_s),
                    show(t.round()),
                    show(MAX_TIME_S)
                ),
            ));
        }
    }
    Ok(())
}

/// `scenario::limits::estimate` with the expanded world's exact counts
/// (`slfsim check` prints it).
pub fn estimate(sc: &crate::scenario::Scenario, w: &World) -> crate::scenario::limits::Estimate {
    let rate: f64 = w.pairs.iter().map(|p| p.rate_hz).sum();
    let n = w.users.len() as f64;
    crate::scenario::limits::finish(sc, n, w.links.len() as f64, 0.0, w.pairs.len() as f64, rate)
}
