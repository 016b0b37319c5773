//! Misalignment detection at a receiver.
//!
//! - `oracle`: misaligned whenever TX and RX have not aligned since either
//!   last changed; declared after a fixed delay (the event loop schedules it).
//! - `monitor`: RX watches its classifier's confidence (max softmax
//!   probability) on the last `window` messages decoded from a TX and
//!   declares misalignment when their mean falls below `threshold`. The
//!   confidences come from real decoded messages; this module only keeps the
//!   window and scores the decisions against the truth.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use crate::scenario::DetectionRule;

/// The sliding window of one (TX, RX) link under the `monitor` rule.
#[derive(Debug, Clone)]
pub struct Monitor {
    window: usize,
    threshold: f64,
    recent: VecDeque<f64>,
    sum: f64,
}

impl Monitor {
    /// Bytes it holds on the heap (its window).
    pub fn heap_bytes(&self) -> usize {
        self.recent.capacity() * std::mem::size_of::<f64>()
    }

    pub fn new(window: usize, threshold: f64) -> Monitor {
        Monitor { window: window.max(1), threshold, recent: VecDeque::with_capacity(window), sum: 0.0 }
    }

    /// Adds one message's confidence; returns true when the window is full
    /// and its mean is below the threshold (misalignment declared).
    pub fn observe(&mut self, confidence: f64) -> bool {
        self.recent.push_back(confidence);
        self.sum += confidence;
        if self.recent.len() > self.window {
            self.sum -= self.recent.pop_front().unwrap_or(0.0);
        }
        self.recent.len() == self.window && self.sum / (self.window as f64) < self.threshold
    }

    /// Forgets the history (after an aligned decoder is installed).
    pub fn reset(&mut self) {
        self.recent.clear();
        self.sum = 0.0;
    }
}

/// How well declarations matched the truth, per link episode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionScore {
    pub true_detections: u64,
    /// Declared while the link was in fact aligned.
    pub false_alarms: u64,
    /// Misaligned episodes that ended (or the run ended) undeclared.
    pub missed: u64,
}

impl DetectionScore {
    pub fn declared(&mut self, truly_misaligned: bool) {
        if truly_misaligned {
            self.true_detections += 1;
        } else {
            self.false_alarms += 1;
        }
    }
    pub fn missed_episode(&mut self) {
        self.missed += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_declares_only_on_a_full_window_below_threshold() {
        let mut m = Monitor::new(3, 0.5);
        assert!(!m.observe(0.1), "window not full yet");
        assert!(!m.observe(0.1));
        assert!(m.observe(0.1), "mean 0.1 < 0.5");
        // Confident messages slide the low ones out: (0.1+0.1+0.9)/3 is still
        // below 0.5, (0.1+0.9+0.9)/3 is not.
        assert!(m.observe(0.9));
        assert!(!m.observe(0.9));
        m.reset();
        assert!(!m.observe(0.0));
    }

    #[test]
    fn rules_validate_and_scores_count() {
        assert!(DetectionRule::Monitor { window: 0, threshold: 0.5 }.validate().is_err());
        assert!(DetectionRule::Monitor { window: 5, threshold: 1.5 }.validate().is_err());
        assert!(DetectionRule::Oracle { delay_s: -1.0 }.validate().is_err());
        assert!(DetectionRule::Oracle { delay_s: 0.5 }.validate().is_ok());
        let mut s = DetectionScore::default();
        s.declared(true);
        s.declared(false);
        s.missed_episode();
        assert_eq!(s, DetectionScore { true_detections: 1, false_alarms: 1, missed: 1 });
    }
}
