//! The neural transceiver: a VQ-VAE "DeepJSCC" link.
//!
//! ```text
//! image --encoder θ--> latents z_e (8x8xD) --codebook--> indices (64 of log2 K bits)
//!       --channel ε--> received indices --codebook lookup--> z_q --decoder φ (L layers)--> image
//! ```
//! A classifier at the receiver judges reconstructions. A transceiver is
//! trained end to end *through its own channel*, so its decoder expects the
//! codebook and the noise it was trained with; two transceivers trained apart
//! share neither, which is the semantic misalignment SLF repairs.

mod channel;
mod checkpoint;
mod classifier;
mod codebook;
mod config;
mod layers;
mod link;
mod model;
mod train;

pub use channel::{apply_channel, ChannelKind, ChannelSpec};
pub use checkpoint::{
    checkpoint_digest, checkpoint_paths, is_up_to_date, load_checkpoint, parse_meta, parse_weights, save_checkpoint,
    CheckpointError, CheckpointMeta,
};
pub use classifier::Classifier;
pub use codebook::{Codebook, CodebookUsage};
pub use config::{DataSpec, ModelConfig, Profile, TrainConfig};
pub use layers::{Conv, ConvKind};
pub use link::{
    classifier_accuracy, encode_messages, judge_messages, judge_messages_seen, link_confidences, message_confidences,
    Messages,
};
pub use link::{evaluate_link, evaluate_link_judged, LinkMetrics, TestBatch};
pub use model::{Decoder, Encoder, Transceiver};
pub use train::{
    adam, decode_images, local_data, local_data_of, local_images_bytes, test_batch, train_classifier, train_profile,
    vq_step, Progress, TrainError, TrainReport,
};
