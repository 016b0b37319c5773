//! A domain-free discrete-event core: nothing here knows of transceivers,
//! alignment or scenarios, so it can be tested (and replaced) on its own.
//!
//! - `time`: simulated time as integer nanoseconds, and conversions.
//! - `queue`: the event queue, ordered by (time, insertion sequence).
//! - `links`: nodes joined by directed links with rates and latencies.
//! - `routing`: lowest-latency routes with exact tie-breaks; connectivity.
//! - `fair_share`: max-min fair rates by progressive filling.
//! - `network`: flows over routes sharing links fairly, with exact predicted
//!   finish times and epochs to drop stale completion events (`NETWORK.md`),
//!   updated incrementally: `sharing` (max-min rates of the touched
//!   components only, bitwise equal to progressive filling) and `clocks`
//!   (one virtual clock per rate group, no per-flow rescans).
//! - `reference`: the network recomputed from scratch at every change, the
//!   oracle `network` is tested against.
//! - `chacha`: `ChaCha8Rng`'s exact word stream from a smaller state.
//! - `compute`: per-node FIFO compute queues (duration = FLOPs / budget).
//! - `topology`: star, complete, random geometric, Erdős–Rényi and explicit
//!   graphs from a seeded stream.

pub mod chacha;
mod clocks;
pub mod compute;
pub mod error;
pub mod fair_share;
pub mod links;
pub mod network;
pub mod queue;
pub mod reference;
pub mod routing;
mod sharing;
pub mod time;
pub mod topology;

pub use chacha::SmallChaCha8;
pub use compute::{ComputeQueue, Job, Scheduled};
pub use error::NetError;
pub use links::{Graph, Link, LinkId, LinkSpec, Route};
pub use network::{FlowDone, FlowId, Network};
pub use queue::{prefetch, EventQueue, QueueError, NO_HINT};
pub use reference::ReferenceNetwork;
pub use routing::{components, connected, RouteTable};
pub use time::{ns_to_secs, secs_to_ns, SimTime, NS_PER_SEC};
pub use topology::{edge, generate, EdgeParams, TopologyKind};

#[cfg(test)]
mod network_tests;
