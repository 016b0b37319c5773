//! Alignment between transceivers trained apart: measuring misalignment (the
//! map over all pairs), the SLF method and its baselines, and their costs.

pub mod cost;
mod map;
mod method;
mod payload;
mod pilot;
mod slf;
mod split;
mod trainable;

pub use map::{misalignment_map, MisalignmentMap, PairMetrics};
pub use method::{FreezeSide, MapKind, Method};
pub use payload::{download_payload, hand_over, install, payload_bytes, upload_payload, Payload};
pub use pilot::{fit_latent_map, index_table, pilot_message_bytes, LatentMap};
pub use slf::{
    align, exchange, gap_recovered, headline_judge, judge_stream, start_finetune, AlignInputs, AlignResult, Aligned,
    Budget, CurvePoint, Exchange, Handed, Judge, Judged,
};
pub use split::{split_step, CutTraffic};
pub use trainable::Trainable;
