//! Which parameters a fine-tuning trains. Its own file so that the methods
//! (method.rs) and the cost model (cost.rs) both depend on it, one way.

use serde::{Deserialize, Serialize};

/// Which parameters a fine-tuning trains: the encoder always; the codebook
/// and each decoder layer as flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trainable {
    pub codebook: bool,
    /// One flag per decoder layer, input side first.
    pub decoder: Vec<bool>,
}
