//! The loop's state of the physical world: per pair, whether a message
//! chain is pending and whether the link's channel drifted from where it
//! was aligned; with radio, every user's motion, shadowing, fading and
//! attachment, every station's decoder cache, and what the run records.

use rand_chacha::ChaCha8Rng;

use super::physical::cells::{Attachment, IdleLru};
use super::physical::fading::{BlockFading, Shadowing};
use super::physical::mobility::Mover;
use super::physical_output::{HandoverRecord, Snapshot, WorldPoint};
use super::world::World;
use crate::seed::stream;

/// A user's radio: how it moves, its shadowing to each station, its fading.
pub(super) struct UserRadio {
    pub mover: Mover,
    pub move_rng: ChaCha8Rng,
    pub shadow: Vec<Shadowing>,
    pub shadow_rng: ChaCha8Rng,
    pub fading: Option<BlockFading>,
    pub attach: Attachment,
    /// Local-mean received power from each station (dBm), last tick.
    pub power_dbm: Vec<f64>,
    /// Uplink SNR to the serving station (dB, fading included) and the
    /// exact ε it gives, last tick.
    pub snr_db: f64,
    pub epsilon: f64,
}

#[derive(Default)]
pub(super) struct StationTally {
    pub handovers_in: usize,
    pub handovers_out: usize,
    pub installed: usize,
}

pub(super) struct RadioState {
    /// Per user; None for stations.
    pub users: Vec<Option<UserRadio>>,
    pub caches: Vec<IdleLru>,
    /// Per user and station: the pair from the user to it, if any.
    pub pair_to: Vec<Vec<Option<usize>>>,
    pub tally: Vec<StationTally>,
    pub handovers: Vec<HandoverRecord>,
    pub handovers_to_cached: usize,
    pub timeseries: Vec<WorldPoint>,
    pub snapshots: Vec<Snapshot>,
    /// Ticks at which a snapshot is taken.
    pub snapshot_ticks: Vec<u64>,
    pub ticks: u64,
    pub installed: usize,
    pub leaves: usize,
    pub rejoins: usize,
    pub epsilon_changes: usize,
    /// Sums over ticks, for the summary's means and bin shares.
    pub eps_sum: f64,
    pub snr_sum: f64,
    pub samples: usize,
    pub bin_count: Vec<u64>,
}

pub(super) struct PhysState {
    /// Per pair: a `MessageSent` is scheduled (so a pair that stops and
    /// starts again never runs two message chains).
    pub chain: Vec<bool>,
    /// Per pair: aligned, but its accuracy at the current ε bin fell more
    /// than the tolerance below its accuracy when aligned.
    pub drifted: Vec<bool>,
    /// Per pair: (aligned job, accuracy when aligned), the drift reference.
    pub reference: Vec<Option<(Option<usize>, f64)>>,
    pub radio: Option<RadioState>,
}

impl PhysState {
    pub fn new(world: &World) -> PhysState {
        let n_pairs = world.pairs.len();
        let radio = world.physical.as_ref().map(|ph| {
            let r = &ph.radio;
            let users = (0..world.users.len())
                .map(|u| {
                    if ph.station_of[u].is_some() {
                        return None;
                    }
                    let name = world.users[u].name.as_str();
                    let seed = world.settings.seed;
                    let mut move_rng = stream(seed, "mobility", &[name]);
                    let mover = Mover::new(&ph.motions[ph.user_motion[u]], &ph.area, ph.start[u], &mut move_rng);
                    let mut shadow_rng = stream(seed, "shadowing", &[name]);
                    let shadow = (0..ph.stations.len())
                        .map(|_| Shadowing::new(r.shadowing_db, r.decorrelation_m, &mut shadow_rng))
                        .collect();
                    // Per-tick draws only when a block lasts at least a tick; shorter blocks are averaged.
                    let fading = r
                        .coherence_s
                        .filter(|&c| c >= r.tick_s)
                        .map(|c| BlockFading::new(c, stream(seed, "fading", &[name])));
                    Some(UserRadio {
                        mover,
                        move_rng,
                        shadow,
                        shadow_rng,
                        fading,
                        attach: Attachment::initial(&vec![0.0; ph.stations.len()]),
                        power_dbm: vec![f64::NEG_INFINITY; ph.stations.len()],
                        snr_db: f64::NAN,
                        epsilon: 0.0,
                    })
                })
                .collect();
            let mut pair_to = vec![vec![None; ph.stations.len()]; world.users.len()];
            for (i, p) in world.pairs.iter().enumerate() {
                if let Some(k) = ph.station_of[p.rx] {
                    pair_to[p.tx][k] = Some(i);
                }
            }
            let ticks = (world.settings.horizon / r.tick).max(1);
            RadioState {
                users,
                caches: (0..ph.stations.len()).map(|_| IdleLru::new(ph.cache)).collect(),
                pair_to,
                tally: (0..ph.stations.len()).map(|_| StationTally::default()).collect(),
                handovers: Vec::new(),
                handovers_to_cached: 0,
                timeseries: Vec::new(),
                snapshots: Vec::new(),
                snapshot_ticks: vec![0, ticks / 3, 2 * ticks / 3, ticks],
                ticks: 0,
                installed: 0,
                leaves: 0,
                rejoins: 0,
                epsilon_changes: 0,
                eps_sum: 0.0,
                snr_sum: 0.0,
                samples: 0,
                bin_count: vec![0; r.bins.values().len()],
            }
        });
        PhysState { chain: vec![false; n_pairs], drifted: vec![false; n_pairs], reference: vec![None; n_pairs], radio }
    }

    pub fn drifted(&self, p: usize) -> bool {
        self.drifted[p]
    }

    /// Bytes of the per-pair vectors (chain, drift, reference).
    pub fn pair_bytes(&self) -> usize {
        self.chain.capacity()
            + self.drifted.capacity()
            + self.reference.capacity() * std::mem::size_of::<Option<(Option<usize>, f64)>>()
    }
}
