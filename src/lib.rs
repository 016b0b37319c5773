//! slfsim: a simulator of semantic misalignment between neural transceivers
//! (VQ-VAE DeepJSCC) and its repair by split learning with layer freezing (SLF).
//!
//! The modules follow the pipeline, and data flows one way through them:
//! `atomic`, `bounded`, `cancel`, `seed` (shared by all) -> `data` -> `transceiver` -> `align` ->
//! `scenario` -> `sim` (a domain-free discrete-event core, then the SLF
//! world) -> `study` -> `report` -> the CLI (in the binary). A lower module
//! never imports a higher one.

pub mod align;
pub mod atomic;
pub mod bounded;
pub mod cancel;
pub mod data;
pub mod fuzzing;
pub mod report;
pub mod scenario;
pub mod seed;
pub mod sim;
pub mod study;
pub mod transceiver;
