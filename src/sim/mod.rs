//! The network simulator behind `slfsim run`, in two layers.
//!
//! `core/` is a domain-free discrete-event core (time, event queue, links,
//! routing, max-min fair sharing, flows, compute queues, topology
//! generators); it knows nothing of transceivers, alignment or scenarios.
//!
//! On top of it, the SLF world:
//! - `world`: the scenario's population expanded and resolved (users,
//!   links, pairs, timed changes, and the settings the loop needs).
//! - `lab`: the real work behind the numbers: LibTorch link evaluations and
//!   fine-tunings on a rayon pool, memoized and cached (`synthetic`: a
//!   model-free stand-in for benchmarks and tests of the loop);
//!   `job_cache`: their results on disk, shared by runs and processes.
//! - `engine`: the clock loop and the dispatch of events to handlers in
//!   `episodes` (joins, changes, onsets, messages, detection) and
//!   `alignment` (service, transfers, fine-tuning, installation), over the
//!   state in `state`, the queues in `service` and the accumulators in
//!   `metrics`; `events` types what `events.jsonl` records; `records`
//!   assembles the run's records at the end.
//! - `adaptive`: the adaptive policy's predictor and choice; `choice`: the
//!   policy in the loop (predicted times, decisions, their records);
//!   `escalate`: the escalating policy (ladders, pilot checks, attempts).
//! - `detect`: the monitor's confidence window and the detection score.
//! - `outcome`: episode, pair and user records, and aggregates computed
//!   from them.
//! - `bounds`: durations the world implies, checked against the clock.
//! - `simulate`: one run end to end (world, checkpoints, lab, loop).
//!
//! A physical world (radio, cells, mobility, churn; all optional):
//! - `physical`: the domain-free models (radio, fading, mobility, cells,
//!   churn, ε bins), pure functions and plain structs.
//! - `physical_world`: a scenario's stations, radio links, placements,
//!   motions and churn resolved by `world::build`.
//! - `physical_state`, `physical_events`: the loop's state and handlers
//!   (radio ticks, handovers, decoder caches, churn, drift of ε);
//!   `physical_records` and `physical_output`: what such a run records.

pub mod core;

pub mod adaptive;
mod alignment;
pub mod bounds;
pub mod choice;
pub mod detect;
pub mod engine;
mod episodes;
pub mod escalate;
pub mod events;
pub mod job_cache;
pub mod lab;
mod lab_jobs;
mod metrics;
pub mod outcome;
pub mod physical;
mod physical_events;
pub mod physical_output;
mod physical_records;
mod physical_state;
pub mod physical_world;
mod records;
mod service;
pub mod simulate;
mod split_service;
mod state;
pub mod synthetic;
pub mod world;

pub use detect::{DetectionRule, DetectionScore, Monitor};
pub use events::{EventKind, EventRecord};
pub use outcome::Cause;
