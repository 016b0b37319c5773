//! Cells: which station serves a user, when it hands over, and the bounded
//! cache of per-user state (aligned decoders) a station keeps.
//!
//! Handover follows the A3 event of 3GPP TS 38.331 §5.5.4.4 without offsets:
//! a neighbour whose received power exceeds the serving station's by more
//! than the hysteresis, continuously for the time-to-trigger, takes over.
//! Powers are the local means (path loss and shadowing, no fast fading), as
//! a UE's layer-3 filtered RSRP would be.

use std::collections::VecDeque;

/// The strongest of `power_dbm` (ties: the lowest index).
pub fn strongest(power_dbm: &[f64]) -> usize {
    let mut best = 0;
    for (i, &p) in power_dbm.iter().enumerate() {
        if p > power_dbm[best] {
            best = i;
        }
    }
    best
}

/// One user's attachment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attachment {
    pub serving: usize,
    /// The neighbour meeting the A3 condition and since when (s).
    candidate: Option<(usize, f64)>,
}

impl Attachment {
    /// Attached to the strongest station.
    pub fn initial(power_dbm: &[f64]) -> Attachment {
        Attachment { serving: strongest(power_dbm), candidate: None }
    }

    /// Re-evaluates at `t_s` with fresh powers; returns the new serving
    /// station when a handover happens. The time-to-trigger is checked at
    /// the caller's measurement instants (a neighbour that still leads when
    /// `ttt_s` has elapsed takes over at that instant).
    pub fn update(&mut self, t_s: f64, power_dbm: &[f64], hysteresis_db: f64, ttt_s: f64) -> Option<usize> {
        let best = (0..power_dbm.len())
            .filter(|&i| i != self.serving)
            .max_by(|&a, &b| power_dbm[a].total_cmp(&power_dbm[b]).then(b.cmp(&a)));
        let Some(best) = best.filter(|&b| power_dbm[b] > power_dbm[self.serving] + hysteresis_db) else {
            self.candidate = None;
            return None;
        };
        let since = match self.candidate {
            Some((c, since)) if c == best => since,
            _ => t_s,
        };
        if t_s - since >= ttt_s {
            self.serving = best;
            self.candidate = None;
            Some(best)
        } else {
            self.candidate = Some((best, since));
            None
        }
    }

    /// Re-attaches to the strongest station at once (a user coming back).
    pub fn reattach(&mut self, power_dbm: &[f64]) {
        *self = Attachment::initial(power_dbm);
    }
}

/// A station's cache of per-user entries. Entries of users it serves now are
/// *in use* and always kept; when a user leaves the station its entry turns
/// *idle*, and at most `capacity` idle entries are kept, least recently
/// used evicted first.
#[derive(Debug, Clone)]
pub struct IdleLru {
    capacity: usize,
    in_use: Vec<usize>,
    /// Least recently used first.
    idle: VecDeque<usize>,
    peak: usize,
    evictions: u64,
}

impl IdleLru {
    pub fn new(capacity: usize) -> IdleLru {
        IdleLru { capacity, in_use: Vec::new(), idle: VecDeque::new(), peak: 0, evictions: 0 }
    }

    fn note_size(&mut self) {
        self.peak = self.peak.max(self.len());
    }

    /// A new entry for `key`, in use.
    pub fn install(&mut self, key: usize) {
        self.forget(key);
        self.in_use.push(key);
        self.note_size();
    }

    /// A new entry for a user the station does not serve now: idle at once.
    /// Returns the keys evicted.
    pub fn install_idle(&mut self, key: usize) -> Vec<usize> {
        self.forget(key);
        self.idle.push_back(key);
        self.note_size();
        self.trim()
    }

    /// `key`'s user left the station: its entry (if any) turns idle, most
    /// recently used. Returns the keys evicted to keep `capacity`.
    pub fn park(&mut self, key: usize) -> Vec<usize> {
        if let Some(i) = self.in_use.iter().position(|&k| k == key) {
            self.in_use.swap_remove(i);
            self.idle.push_back(key);
        }
        self.trim()
    }

    /// `key`'s user came back: true if its entry was kept (it is in use again).
    pub fn take(&mut self, key: usize) -> bool {
        if let Some(i) = self.idle.iter().position(|&k| k == key) {
            self.idle.remove(i);
            self.in_use.push(key);
            return true;
        }
        self.in_use.contains(&key)
    }

    /// Drops `key`'s entry wherever it is (it became useless).
    pub fn forget(&mut self, key: usize) {
        self.in_use.retain(|&k| k != key);
        self.idle.retain(|&k| k != key);
    }

    fn trim(&mut self) -> Vec<usize> {
        let mut out = Vec::new();
        while self.idle.len() > self.capacity {
            out.extend(self.idle.pop_front());
        }
        self.evictions += out.len() as u64;
        out
    }

    pub fn len(&self) -> usize {
        self.in_use.len() + self.idle.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn idle_len(&self) -> usize {
        self.idle.len()
    }

    /// Most entries held at once.
    pub fn peak(&self) -> usize {
        self.peak
    }

    pub fn evictions(&self) -> u64 {
        self.evictions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a3_needs_the_margin_for_the_whole_time_to_trigger() {
        let mut a = Attachment::initial(&[-80.0, -90.0, -95.0]);
        assert_eq!(a.serving, 0);
        // Neighbour 1 only 2 dB better: within the 3 dB hysteresis.
        assert_eq!(a.update(1.0, &[-80.0, -78.0, -95.0], 3.0, 0.5), None);
        // 4 dB better from t = 2: not yet at 2.0 and 2.25, hands over at 2.5.
        assert_eq!(a.update(2.0, &[-80.0, -76.0, -95.0], 3.0, 0.5), None);
        assert_eq!(a.update(2.25, &[-80.0, -76.0, -95.0], 3.0, 0.5), None);
        assert_eq!(a.update(2.5, &[-80.0, -76.0, -95.0], 3.0, 0.5), Some(1));
        assert_eq!(a.serving, 1);
        // A dip below the margin restarts the clock (no ping-pong).
        assert_eq!(a.update(3.0, &[-70.0, -76.0, -95.0], 3.0, 0.5), None);
        assert_eq!(a.update(3.25, &[-77.0, -76.0, -95.0], 3.0, 0.5), None);
        assert_eq!(a.update(3.5, &[-70.0, -76.0, -95.0], 3.0, 0.5), None);
        assert_eq!(a.update(3.75, &[-70.0, -76.0, -95.0], 3.0, 0.5), None);
        assert_eq!(a.update(4.0, &[-70.0, -76.0, -95.0], 3.0, 0.5), Some(0));
        // Zero time-to-trigger: at once.
        assert_eq!(a.update(4.5, &[-90.0, -80.0, -70.0], 3.0, 0.0), Some(2));
        a.reattach(&[-60.0, -90.0, -90.0]);
        assert_eq!(a.serving, 0);
        assert_eq!(strongest(&[-1.0, -1.0]), 0);
    }

    #[test]
    fn idle_entries_are_bounded_least_recently_used_first() {
        let mut c = IdleLru::new(2);
        for k in [1, 2, 3] {
            c.install(k);
        }
        assert_eq!((c.len(), c.idle_len()), (3, 0), "in use: kept whatever the capacity");
        assert!(c.park(1).is_empty());
        assert!(c.park(2).is_empty());
        assert_eq!(c.park(3), vec![1], "three idle: the least recently used goes");
        assert!(!c.take(1));
        assert!(c.take(2), "kept");
        assert_eq!((c.len(), c.idle_len(), c.peak(), c.evictions()), (2, 1, 3, 1));
        assert_eq!(c.install_idle(4), Vec::<usize>::new());
        assert_eq!(c.install_idle(5), vec![3]);
        c.forget(2);
        assert!(!c.take(2));
        let mut none = IdleLru::new(0);
        none.install(7);
        assert_eq!(none.park(7), vec![7], "capacity 0: nothing idle is kept");
    }
}
