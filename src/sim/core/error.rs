//! Errors of the network model: bad link specifications and misuse by the caller.

use super::links::LinkId;
use super::network::FlowId;
use super::time::SimTime;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetError {
    #[error("link spec {spec}: node {node} out of range (network has {n_nodes} nodes)")]
    NodeOutOfRange { spec: usize, node: usize, n_nodes: usize },
    #[error("node {node} out of range (network has {n_nodes} nodes)")]
    UnknownNode { node: usize, n_nodes: usize },
    #[error("link spec {spec}: a link from node {node} to itself")]
    SelfLoop { spec: usize, node: usize },
    #[error("link spec {spec}: rate {rate} bit/s must be a finite number > 0")]
    InvalidRate { spec: usize, rate: f64 },
    #[error("link spec {spec}: latency {latency} s must be a finite number >= 0")]
    InvalidLatency { spec: usize, latency: f64 },
    #[error("no route from node {src} to node {dst}")]
    Disconnected { src: usize, dst: usize },
    #[error("unknown link {0:?}")]
    UnknownLink(LinkId),
    #[error("link {0:?} appears twice in one flow's route")]
    RepeatedLink(LinkId),
    #[error("unknown flow {0:?}")]
    UnknownFlow(FlowId),
    #[error("flow {id:?} completed at {now} ns with {remaining_bits} bits still to send")]
    NotFinished { id: FlowId, now: SimTime, remaining_bits: f64 },
    #[error("time went backwards: {now} ns is before the last update at {last} ns")]
    TimeWentBackwards { now: SimTime, last: SimTime },
}
