//! What `events.jsonl` holds: one line per state change of the network, in
//! time order, with a typed kind (serialised to the snake_case names users
//! see) and the pair, users, bytes and FLOPs where they apply.

use serde::Serialize;

use super::core::{ns_to_secs, SimTime};

/// The kinds of events a run records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    UserJoined,
    ChannelChanged,
    DataChanged,
    MessageSent,
    MessageReceived,
    MisalignmentOnset,
    MisalignmentDetected,
    DownloadStarted,
    DownloadFinished,
    FinetuneStarted,
    FinetuneFinished,
    UploadStarted,
    UploadFinished,
    AlignedInstalled,
    StaleAlignmentDiscarded,
    /// Physical worlds: a user hands over to another station.
    Handover,
    /// A user leaves the network (churn).
    UserLeft,
    /// A station drops an idle aligned decoder (its cache is full).
    DecoderEvicted,
    /// An episode ends unaligned (the pair stopped talking, or its channel came back).
    EpisodeAbandoned,
    /// A user's compute speed changes (trace).
    ComputeChanged,
}

/// One line of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    pub t_s: f64,
    pub event: EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rx: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flops: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl EventRecord {
    /// An event at `t` with no fields set yet.
    pub fn new(t: SimTime, event: EventKind) -> EventRecord {
        EventRecord {
            t_s: ns_to_secs(t),
            event,
            pair: None,
            tx: None,
            rx: None,
            user: None,
            episode: None,
            bytes: None,
            flops: None,
            detail: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialise_to_their_snake_case_names() {
        let name = |k: EventKind| serde_json::to_string(&k).unwrap();
        assert_eq!(name(EventKind::MisalignmentOnset), "\"misalignment_onset\"");
        assert_eq!(name(EventKind::StaleAlignmentDiscarded), "\"stale_alignment_discarded\"");
        let line = serde_json::to_string(&EventRecord::new(1_500_000_000, EventKind::UserJoined)).unwrap();
        assert_eq!(line, r#"{"t_s":1.5,"event":"user_joined"}"#);
    }
}
