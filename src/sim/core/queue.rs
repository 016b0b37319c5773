//! The event queue: events ordered by (time, insertion sequence).
//!
//! Time is integer nanoseconds (`time`), and the insertion sequence breaks
//! ties FIFO, so a run replays exactly.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::time::SimTime;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// Scheduling into the past would break causality: a logic error in the caller.
    #[error("event scheduled at {time} ns, before the current time {now} ns")]
    PastEvent { time: SimTime, now: SimTime },
}

/// Heap entry ordered by (time, seq) only, so `E` needs no `Ord`.
struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// A min-queue of events: earliest time first, FIFO among equal times.
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: BinaryHeap::new(), next_seq: 0, now: 0 }
    }

    /// Schedules `event` at `time` and returns its sequence number.
    /// `time == now()` is allowed (an event may schedule another at the same instant).
    pub fn push(&mut self, time: SimTime, event: E) -> Result<u64, QueueError> {
        if time < self.now {
            return Err(QueueError::PastEvent { time, now: self.now });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { time, seq, event }));
        Ok(seq)
    }

    /// Removes the earliest event and advances `now()` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        let Reverse(e) = self.heap.pop()?;
        self.now = e.time;
        Some((e.time, e.seq, e.event))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(e)| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Time of the last popped event (0 before the first pop).
    pub fn now(&self) -> SimTime {
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn orders_by_time() {
        let mut q = EventQueue::new();
        q.push(30, "c").unwrap();
        q.push(10, "a").unwrap();
        q.push(20, "b").unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!(q.peek_time(), Some(10));
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(t, _, e)| (t, e))).collect();
        assert_eq!(order, vec![(10, "a"), (20, "b"), (30, "c")]);
        assert_eq!(q.now(), 30);
        assert!(q.is_empty());
    }

    #[test]
    fn fifo_among_equal_times() {
        let mut q = EventQueue::new();
        for i in 0..5 {
            q.push(7, i).unwrap();
        }
        q.push(3, 99).unwrap();
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, vec![99, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn rejects_past_events() {
        let mut q = EventQueue::new();
        assert_eq!(q.now(), 0);
        q.push(100, ()).unwrap();
        q.pop().unwrap();
        assert_eq!(q.push(99, ()), Err(QueueError::PastEvent { time: 99, now: 100 }));
        // The same instant is fine.
        assert!(q.push(100, ()).is_ok());
    }

    proptest! {
        #[test]
        fn pops_are_non_decreasing(
            ops in proptest::collection::vec((any::<bool>(), 0u64..50), 1..200)
        ) {
            // Interleave pushes (relative to now, so never in the past) and pops.
            let mut q = EventQueue::new();
            let mut last: Option<(SimTime, u64)> = None;
            for (is_push, dt) in ops {
                if is_push {
                    q.push(q.now() + dt, ()).unwrap();
                } else if let Some((t, s, ())) = q.pop() {
                    if let Some(prev) = last {
                        prop_assert!(prev < (t, s), "{:?} then {:?}", prev, (t, s));
                    }
                    last = Some((t, s));
                }
            }
            while let Some((t, s, ())) = q.pop() {
                if let Some(prev) = last {
                    prop_assert!(prev < (t, s));
                }
                last = Some((t, s));
            }
        }
    }
}
