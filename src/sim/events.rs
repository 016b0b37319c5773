//! What `events.jsonl` holds: one line per state change of the network, in
//! time order, with a typed kind (serialised to the snake_case names users
//! see) and the pair, users, bytes and FLOPs where they apply.
//!
//! The engine does not keep its events: it hands each one, as an
//! `EventLine` borrowing the names from the world, to an `EventSink` (a
//! file streamed to disk, a `Vec` in tests, nothing in studies), which can
//! decline whole kinds (`EventVolume`) before the line is even built.

use std::io::Write;

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
    /// The adaptive policy picks a pair's method as its service starts (the
    /// escalating policy: its first rung).
    MethodChosen,
    /// The escalating policy's check of an attempt missed the target: the
    /// pair moves to a costlier candidate (or keeps its best, `to=none`).
    Escalated,
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

/// One event as the engine emits it: names borrowed, nothing allocated.
/// Serialises to exactly the JSON of the equivalent `EventRecord`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EventLine<'a> {
    pub t_s: f64,
    pub event: EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rx: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episode: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flops: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
}

impl EventLine<'_> {
    pub fn to_record(&self) -> EventRecord {
        let own = |s: Option<&str>| s.map(str::to_string);
        EventRecord {
            t_s: self.t_s,
            event: self.event,
            pair: self.pair,
            tx: own(self.tx),
            rx: own(self.rx),
            user: own(self.user),
            episode: self.episode,
            bytes: self.bytes,
            flops: self.flops,
            detail: own(self.detail),
        }
    }
}

/// Which events a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventVolume {
    /// Every event.
    #[default]
    All,
    /// Everything but `message_sent` and `message_received` (which are most
    /// of a large run's events): joins, changes, and every step of every
    /// episode.
    Episodes,
    /// None.
    None,
}

impl EventVolume {
    pub fn includes(self, kind: EventKind) -> bool {
        match self {
            EventVolume::All => true,
            EventVolume::Episodes => !matches!(kind, EventKind::MessageSent | EventKind::MessageReceived),
            EventVolume::None => false,
        }
    }
}

/// Where the engine puts its events, one at a time in time order.
pub trait EventSink {
    /// Whether events of this kind are wanted (the engine skips building
    /// the others).
    fn wants(&self, _kind: EventKind) -> bool {
        true
    }
    fn write(&mut self, e: &EventLine<'_>) -> std::io::Result<()>;
}

/// Keeps every event in memory (tests, small runs).
impl EventSink for Vec<EventRecord> {
    fn write(&mut self, e: &EventLine<'_>) -> std::io::Result<()> {
        self.push(e.to_record());
        Ok(())
    }
}

/// Drops every event (studies, benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn wants(&self, _kind: EventKind) -> bool {
        false
    }
    fn write(&mut self, _e: &EventLine<'_>) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the wanted events as JSON lines (the format of `events.jsonl`).
#[derive(Debug)]
pub struct JsonLines<W: Write> {
    pub out: W,
    pub volume: EventVolume,
}

impl<W: Write> EventSink for JsonLines<W> {
    fn wants(&self, kind: EventKind) -> bool {
        self.volume.includes(kind)
    }
    fn write(&mut self, e: &EventLine<'_>) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, e)?;
        self.out.write_all(b"\n")
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

    #[test]
    fn a_line_serialises_like_its_record_and_volumes_filter() {
        let line = EventLine {
            t_s: 2.25,
            event: EventKind::AlignedInstalled,
            pair: Some(3),
            tx: Some("tx1"),
            rx: Some("bs"),
            user: None,
            episode: Some(0),
            bytes: None,
            flops: Some(7),
            detail: Some("accuracy=0.9 mse=0.01"),
        };
        let mut out = JsonLines { out: Vec::new(), volume: EventVolume::All };
        out.write(&line).unwrap();
        let want = serde_json::to_string(&line.to_record()).unwrap() + "\n";
        assert_eq!(String::from_utf8(out.out).unwrap(), want);
        assert!(want.starts_with(
            r#"{"t_s":2.25,"event":"aligned_installed","pair":3,"tx":"tx1","rx":"bs","episode":0,"flops":7,"detail""#
        ));
        let msg = EventKind::MessageSent;
        assert!(EventVolume::All.includes(msg) && !EventVolume::Episodes.includes(msg));
        assert!(EventVolume::Episodes.includes(EventKind::DownloadStarted));
        assert!(!EventVolume::None.includes(EventKind::UserJoined));
        assert!(!NoEvents.wants(EventKind::UserJoined));
    }
}
