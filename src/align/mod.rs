//! Alignment between transceivers trained apart. For now: measuring
//! misalignment (the `none` method) as a map over every (TX, RX) pair.

mod map;

pub use map::{misalignment_map, MisalignmentMap, PairMetrics};
