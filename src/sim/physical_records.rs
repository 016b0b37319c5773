//! What a run with a physical world records: the world's state at every
//! tick (accuracy, misaligned pairs by cause, handovers, positions) and, at
//! the end, the stations, handovers and summary (`physical_output`).

use super::core::{ns_to_secs, SimTime};
use super::engine::Engine;
use super::outcome::Cause;
use super::physical_output::{PhysicalOutput, Snapshot, StationRecord, WorldPoint, WorldSummary};

impl Engine<'_> {
    /// Appends the world's state at `now` to the run's records.
    pub(super) fn record_tick(&mut self, now: SimTime) {
        let Some(ph) = &self.world.physical else { return };
        let (mut acc, mut active, mut by_cause) = (0.0, 0, [0usize; 6]);
        for pr in &self.pairs {
            if pr.active {
                acc += pr.acc;
                active += 1;
                if let Some(ep) = pr.open {
                    by_cause[cause_index(self.episodes[ep].cause)] += 1;
                }
            }
        }
        let users = &self.users;
        let episodes_open: Vec<bool> = (0..users.len())
            .map(|u| {
                self.pairs_of[self.pairs_at[u] as usize..self.pairs_at[u + 1] as usize].iter().any(|&p| {
                    let pr = &self.pairs[p as usize];
                    pr.tx == u && pr.active && pr.open.is_some()
                })
            })
            .collect();
        let Some(rs) = self.phys.radio.as_mut() else { return };
        let (mut n, mut eps, mut snr) = (0, 0.0, 0.0);
        for (u, ur) in rs.users.iter().enumerate() {
            if let Some(ur) = ur {
                if users[u].present {
                    n += 1;
                    eps += ur.epsilon;
                    snr += ur.snr_db;
                    rs.bin_count[ph.radio.bins.index(ur.epsilon)] += 1;
                }
            }
        }
        let mean = |s: f64| if n > 0 { s / n as f64 } else { f64::NAN };
        if n > 0 {
            rs.eps_sum += mean(eps);
            rs.snr_sum += mean(snr);
            rs.samples += 1;
        }
        rs.timeseries.push(WorldPoint {
            t_s: ns_to_secs(now),
            present: n,
            mean_epsilon: mean(eps),
            mean_snr_db: mean(snr),
            network_accuracy: if active > 0 { acc / active as f64 } else { f64::NAN },
            active_pairs: active,
            misaligned: by_cause,
            handovers: rs.handovers.len(),
            installed: rs.installed,
        });
        if rs.snapshot_ticks.contains(&rs.ticks) {
            let users = rs
                .users
                .iter()
                .enumerate()
                .filter_map(|(u, ur)| {
                    let ur = ur.as_ref()?;
                    let p = ur.mover.position();
                    let serving = users[u].present.then_some(ur.attach.serving);
                    Some((self.world.users[u].name.clone(), p.x, p.y, serving, ur.epsilon, episodes_open[u]))
                })
                .collect();
            rs.snapshots.push(Snapshot { t_s: ns_to_secs(now), users });
        }
        rs.ticks += 1;
    }

    /// The physical world's records, at the end of the run.
    pub(super) fn physical_finish(&mut self) -> Option<PhysicalOutput> {
        let ph = self.world.physical.as_ref()?;
        let rs = self.phys.radio.take()?;
        let bytes = |k: usize| -> u64 {
            let u = ph.stations[k];
            // A decoder held for TX profile P is P's upload: the unfrozen layers and the codebook.
            let tx_profile = self.world.pairs.iter().find(|p| p.rx == u).map(|p| self.world.users[p.tx].profile);
            tx_profile.map_or(0, |t| self.world.settings.profiles[t].job.cost.upload_bytes)
        };
        let stations: Vec<StationRecord> = (0..ph.stations.len())
            .map(|k| StationRecord {
                name: self.world.users[ph.stations[k]].name.clone(),
                x_m: ph.station_pos[k].x,
                y_m: ph.station_pos[k].y,
                handovers_in: rs.tally[k].handovers_in,
                handovers_out: rs.tally[k].handovers_out,
                installed: rs.tally[k].installed,
                evictions: rs.caches[k].evictions(),
                peak_decoders: rs.caches[k].peak(),
                peak_bytes: rs.caches[k].peak() as u64 * bytes(k),
                decoders_end: rs.caches[k].len(),
            })
            .collect();
        let total: u64 = rs.bin_count.iter().sum();
        let summary = WorldSummary {
            stations: stations.len(),
            handovers: rs.handovers.len(),
            handovers_to_cached: rs.handovers_to_cached,
            evictions: stations.iter().map(|s| s.evictions).sum(),
            leaves: rs.leaves,
            rejoins: rs.rejoins,
            epsilon_changes: rs.epsilon_changes,
            peak_decoders: stations.iter().map(|s| s.peak_decoders).max().unwrap_or(0),
            peak_decoder_bytes: stations.iter().map(|s| s.peak_bytes).max().unwrap_or(0),
            mean_epsilon: if rs.samples > 0 { rs.eps_sum / rs.samples as f64 } else { f64::NAN },
            mean_snr_db: if rs.samples > 0 { rs.snr_sum / rs.samples as f64 } else { f64::NAN },
            epsilon_bins: ph.radio.bins.values().to_vec(),
            epsilon_share: rs.bin_count.iter().map(|&c| c as f64 / total.max(1) as f64).collect(),
        };
        Some(PhysicalOutput {
            summary,
            area: (ph.area.width_m, ph.area.height_m),
            stations,
            handovers: rs.handovers,
            timeseries: rs.timeseries,
            snapshots: rs.snapshots,
        })
    }
}

fn cause_index(c: Cause) -> usize {
    match c {
        Cause::Initial => 0,
        Cause::Join => 1,
        Cause::Channel => 2,
        Cause::Data => 3,
        Cause::Handover => 4,
        Cause::FalseAlarm => 5,
    }
}
