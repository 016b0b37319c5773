//! Alignment between transceivers trained apart: measuring misalignment (the
//! map over all pairs), the SLF method and its baselines, and their costs.

pub mod cost;
mod map;
mod method;
mod slf;

pub use map::{misalignment_map, MisalignmentMap, PairMetrics};
pub use method::{FreezeSide, Method};
pub use slf::{align, start_finetune, upload_payload, AlignInputs, AlignResult, Budget, CurvePoint, Judge, Judged};
