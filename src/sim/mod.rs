//! The simulation engine: a deterministic discrete-event core.
//!
//! - `queue`: the event queue. Time is integer nanoseconds (`SimTime`);
//!   events pop in (time, insertion sequence) order, so runs replay exactly.
//! - `network`: nodes joined by directed links; flows routed by latency share
//!   link bandwidth max-min fairly (progressive filling), with exact
//!   predicted finish times. See `NETWORK.md` for the algorithm.
//! - `topology`: star, complete, random geometric, Erdős–Rényi or explicit
//!   graphs from a seeded stream, and connectivity checks.
//! - `detect`: the `oracle` and `monitor` detection rules (confidence window)
//!   and the false-alarm / missed-detection score.
//! - `compute`: per-user FIFO compute queues; a job's duration is its FLOPs
//!   over the user's FLOP/s budget.
//!
//! The engine knows nothing of transceivers or training: a caller pops
//! events, activates and completes flows, and schedules what follows.

pub mod compute;
pub mod detect;
pub mod engine;
pub mod lab;
pub mod network;
pub mod outcome;
pub mod queue;
pub mod simulate;
pub mod synthetic;
pub mod topology;
pub mod world;

pub use compute::{ComputeQueue, Job, Scheduled};
pub use detect::{DetectionRule, DetectionScore, Monitor};
pub use network::{FlowDone, FlowId, Link, LinkId, LinkSpec, NetError, Network, Route};
pub use queue::{ns_to_secs, secs_to_ns, EventQueue, QueueError, SimTime};
pub use topology::{connected, generate, LinkParams, TopologyKind};
