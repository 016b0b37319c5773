//! The files of a run with a physical world, beside the usual ones:
//! `stations.csv`, `handovers.csv`, `world_timeseries.csv`, `positions.csv`
//! and the plots `world_map`, `world_activity`, `world_causes`.

use std::path::{Path, PathBuf};

use super::world_plots::{world_causes, world_map};
use super::{line_chart, write_csv_atomic, ReportError, Series};
use crate::sim::physical_output::{PhysicalOutput, WorldPoint, CAUSES};

fn num(v: f64) -> String {
    if v.is_finite() {
        v.to_string()
    } else {
        String::new()
    }
}

/// Writes the physical world's files under `out`; returns the paths.
pub fn write_world(out: &Path, scenario: &str, w: &PhysicalOutput) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    let headers = [
        "station",
        "x_m",
        "y_m",
        "handovers_in",
        "handovers_out",
        "installed",
        "evictions",
        "peak_decoders",
        "peak_bytes",
        "decoders_end",
    ];
    let rows: Vec<Vec<String>> = w
        .stations
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                num(s.x_m),
                num(s.y_m),
                s.handovers_in.to_string(),
                s.handovers_out.to_string(),
                s.installed.to_string(),
                s.evictions.to_string(),
                s.peak_decoders.to_string(),
                s.peak_bytes.to_string(),
                s.decoders_end.to_string(),
            ]
        })
        .collect();
    let p = out.join("stations.csv");
    write_csv_atomic(&p, &headers, &rows)?;
    written.push(p);

    let rows: Vec<Vec<String>> = w
        .handovers
        .iter()
        .map(|h| vec![num(h.t_s), h.user.clone(), h.from.clone(), h.to.clone(), h.cached.to_string()])
        .collect();
    let p = out.join("handovers.csv");
    write_csv_atomic(&p, &["t_s", "user", "from", "to", "cached"], &rows)?;
    written.push(p);

    let mut headers: Vec<String> =
        ["t_s", "present", "mean_epsilon", "mean_snr_db", "network_accuracy", "active_pairs"]
            .map(String::from)
            .to_vec();
    headers.extend(CAUSES.iter().map(|c| format!("misaligned_{c}")));
    headers.extend(["handovers", "installed"].map(String::from));
    let rows: Vec<Vec<String>> = w
        .timeseries
        .iter()
        .map(|t| {
            let mut r = vec![
                num(t.t_s),
                t.present.to_string(),
                num(t.mean_epsilon),
                num(t.mean_snr_db),
                num(t.network_accuracy),
                t.active_pairs.to_string(),
            ];
            r.extend(t.misaligned.iter().map(|m| m.to_string()));
            r.extend([t.handovers.to_string(), t.installed.to_string()]);
            r
        })
        .collect();
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    let p = out.join("world_timeseries.csv");
    write_csv_atomic(&p, &h, &rows)?;
    written.push(p);

    let mut rows = Vec::new();
    for s in &w.snapshots {
        for u in &s.users {
            let station = u.3.map(|k| w.stations[k].name.clone()).unwrap_or_default();
            rows.push(vec![num(s.t_s), u.0.clone(), num(u.1), num(u.2), station, num(u.4), u.5.to_string()]);
        }
    }
    let p = out.join("positions.csv");
    write_csv_atomic(&p, &["t_s", "user", "x_m", "y_m", "station", "epsilon", "in_episode"], &rows)?;
    written.push(p);

    written.extend(world_map(
        &out.join("world_map"),
        &format!("{scenario}: stations and users (colour: serving station; red ring: in an episode)"),
        w.area,
        &w.stations,
        &w.snapshots,
    )?);
    written.extend(world_causes(
        &out.join("world_causes"),
        &format!("{scenario}: network accuracy and pairs in an episode by cause"),
        &w.timeseries,
    )?);
    // Events per minute over time, from the cumulative counts of the ticks.
    let ts = &w.timeseries;
    let t_end = ts.last().map_or(0.0, |p| p.t_s);
    let width = (t_end / 40.0).max(1.0);
    let per_min = |count: &dyn Fn(&WorldPoint) -> usize| -> Vec<(f64, f64)> {
        let at = |t: f64| ts.iter().take_while(|p| p.t_s <= t).last().map_or(0, count);
        let mut pts = Vec::new();
        let mut start = 0.0;
        while start < t_end {
            let end = (start + width).min(t_end);
            pts.push(((start + end) / 2.0, (at(end) - at(start)) as f64 * 60.0 / (end - start)));
            start = end;
        }
        pts
    };
    let series = vec![
        Series { name: "handovers".into(), points: per_min(&|p| p.handovers), band: None },
        Series { name: "aligned decoders installed".into(), points: per_min(&|p| p.installed), band: None },
    ];
    written.extend(line_chart(
        &out.join("world_activity"),
        &format!("{scenario}: handovers and re-alignments"),
        "simulated time (s)",
        "per minute",
        &series,
        false,
    )?);
    Ok(written)
}
