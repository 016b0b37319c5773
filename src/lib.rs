//! slfsim: a simulator of semantic misalignment between neural transceivers
//! (VQ-VAE DeepJSCC) and its repair by split learning with layer freezing (SLF).
//!
//! The modules follow the pipeline, and data flows one way through them:
//! `data` -> `transceiver` -> `align` -> `scenario` -> `study` -> `report` -> CLI.
//! A lower module never imports a higher one.

pub mod atomic;
pub mod seed;
pub mod data;
pub mod transceiver;
pub mod align;
pub mod scenario;
pub mod sim;
pub mod study;
pub mod report;
