//! What a run with a physical world records besides its episodes: stations
//! and their decoder caches, handovers, the network over time with
//! misaligned pairs by cause, and snapshots of where everybody was. Plain
//! data; `report` writes it to files and plots.

use serde::{Deserialize, Serialize};

/// Totals of the physical world (`summary.json`'s `world`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct WorldSummary {
    pub stations: usize,
    pub handovers: usize,
    /// Handovers to a station that still held an aligned decoder for the user.
    pub handovers_to_cached: usize,
    pub evictions: u64,
    /// Users leaving and coming back (churn).
    pub leaves: usize,
    pub rejoins: usize,
    /// Times a user's ε moved to another bin.
    pub epsilon_changes: usize,
    /// The most aligned decoders any station held at once, and their bytes
    /// (each holds the unfrozen layers and the codebook: the upload).
    pub peak_decoders: usize,
    pub peak_decoder_bytes: u64,
    /// Mean ε and uplink SNR over present users, averaged over ticks.
    pub mean_epsilon: f64,
    pub mean_snr_db: f64,
    /// Time share of present users per ε bin (bins as configured).
    pub epsilon_bins: Vec<f64>,
    pub epsilon_share: Vec<f64>,
}

/// One station at the end of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationRecord {
    pub name: String,
    pub x_m: f64,
    pub y_m: f64,
    pub handovers_in: usize,
    pub handovers_out: usize,
    /// Aligned decoders installed at the station.
    pub installed: usize,
    pub evictions: u64,
    pub peak_decoders: usize,
    pub peak_bytes: u64,
    pub decoders_end: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoverRecord {
    pub t_s: f64,
    pub user: String,
    pub from: String,
    pub to: String,
    /// The new station held an aligned decoder for the user.
    pub cached: bool,
}

/// The order of `WorldPoint::misaligned`.
pub const CAUSES: [&str; 6] = ["initial", "join", "channel", "data", "handover", "false_alarm"];

/// The world at one tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldPoint {
    pub t_s: f64,
    pub present: usize,
    pub mean_epsilon: f64,
    pub mean_snr_db: f64,
    /// Mean accuracy over active pairs (NaN when none).
    pub network_accuracy: f64,
    pub active_pairs: usize,
    /// Active pairs in an open episode, by cause (`CAUSES` order).
    pub misaligned: [usize; 6],
    /// Since the start.
    pub handovers: usize,
    pub installed: usize,
}

/// Where users were at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub t_s: f64,
    /// Per non-station user: (name, x, y, serving station index or None when
    /// absent, ε, in an open episode).
    pub users: Vec<(String, f64, f64, Option<usize>, f64, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhysicalOutput {
    pub summary: WorldSummary,
    pub area: (f64, f64),
    pub stations: Vec<StationRecord>,
    pub handovers: Vec<HandoverRecord>,
    pub timeseries: Vec<WorldPoint>,
    pub snapshots: Vec<Snapshot>,
}
