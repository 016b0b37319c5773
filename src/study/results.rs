//! A study's numbers: one row per run (axes, seed, aggregate metrics of its
//! summary) and one per point (mean, standard deviation and 95% confidence
//! interval of each metric over replications). Pure functions of the runs'
//! summaries, so a merged set of shards gives the same bytes as one study.

use super::stats::{mean_std, t975};
use super::sweep::RunSpec;
use crate::sim::outcome::RunSummary;

/// The metrics of a run, by name, in table order (None: undefined, e.g. no
/// episode recovered).
pub fn run_metrics(s: &RunSummary) -> Metrics {
    let a = &s.aggregate;
    let mut m: Vec<(String, Option<f64>)> = vec![
        ("users".into(), Some(s.users.len() as f64)),
        ("pairs".into(), Some(a.pairs as f64)),
        ("episodes".into(), Some(a.episodes as f64)),
        ("recovered".into(), Some(a.recovered as f64)),
        ("unrecovered".into(), Some(a.unrecovered as f64)),
        ("recovery_mean_s".into(), a.recovery_mean_s),
        ("recovery_median_s".into(), a.recovery_median_s),
        ("recovery_p95_s".into(), a.recovery_p95_s),
        ("recovery_max_s".into(), a.recovery_max_s),
        ("makespan_s".into(), a.makespan_s),
        ("total_bytes".into(), Some(a.total_bytes as f64)),
        ("total_flops".into(), Some(a.total_flops as f64)),
        ("time_avg_accuracy".into(), Some(a.time_avg_accuracy).filter(|v| v.is_finite())),
        ("accuracy_before_mean".into(), Some(a.accuracy_before_mean).filter(|v| v.is_finite())),
        ("accuracy_after_mean".into(), a.accuracy_after_mean),
        ("mse_before_mean".into(), Some(a.mse_before_mean).filter(|v| v.is_finite())),
        ("mse_after_mean".into(), a.mse_after_mean),
        ("fine_tunings".into(), Some(a.fine_tunings as f64)),
        ("events".into(), Some(a.events as f64)),
    ];
    for name in ["detection", "queue", "download", "compute wait", "fine-tune", "upload"] {
        let v = a.phases.iter().find(|p| p.phase == name).map(|p| p.mean_s);
        m.push((format!("phase_{}_s", name.replace([' ', '-'], "_")), v));
    }
    m
}

/// Mean, standard deviation and 95% CI half-width over replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointStat {
    pub mean: f64,
    pub std: f64,
    pub ci95: f64,
    pub n: usize,
}

pub fn point_stat(v: &[f64]) -> PointStat {
    let s = mean_std(v);
    let ci95 = if s.n >= 2 { t975(s.n - 1) * s.std / (s.n as f64).sqrt() } else { f64::NAN };
    PointStat { mean: s.mean, std: s.std, ci95, n: s.n }
}

/// One point of the study: its axis values and each metric's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSummary {
    pub point: usize,
    pub values: Vec<String>,
    pub runs: usize,
    pub metrics: Vec<(String, PointStat)>,
}

/// A run's metrics by name; `None` where a metric is undefined for the run.
pub type Metrics = Vec<(String, Option<f64>)>;

/// Groups runs by point (in point order) and summarises each metric over
/// the runs where it is defined.
pub fn summarise_points(runs: &[(RunSpec, Metrics)]) -> Vec<PointSummary> {
    let mut points: Vec<usize> = runs.iter().map(|(r, _)| r.point).collect();
    points.sort();
    points.dedup();
    points
        .into_iter()
        .map(|p| {
            let here: Vec<&(RunSpec, Metrics)> = runs.iter().filter(|(r, _)| r.point == p).collect();
            let names: Vec<String> = here[0].1.iter().map(|(n, _)| n.clone()).collect();
            let metrics = names
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    let v: Vec<f64> = here.iter().filter_map(|(_, m)| m[k].1).collect();
                    (n.clone(), point_stat(&v))
                })
                .collect();
            PointSummary { point: p, values: here[0].0.values.clone(), runs: here.len(), metrics }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_interval_by_hand() {
        // 1, 2, 3: mean 2, sd 1, half-width t(2) * 1 / sqrt(3) = 4.3027 / 1.7321.
        let s = point_stat(&[1.0, 2.0, 3.0]);
        assert_eq!((s.mean, s.std, s.n), (2.0, 1.0, 3));
        assert!((s.ci95 - 4.302_652_73 / 3f64.sqrt()).abs() < 1e-8, "{}", s.ci95);
        assert!(point_stat(&[5.0]).ci95.is_nan());
    }
}
