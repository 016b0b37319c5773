//! The event queue: events ordered by (time, insertion sequence).
//!
//! Time is integer nanoseconds (`time`), and the insertion sequence breaks
//! ties FIFO, so a run replays exactly.
//!
//! Why not `std::collections::BinaryHeap` of whole events: a large run keeps
//! hundreds of thousands of events pending (one message chain per pair), and
//! popping sifts the 40-byte entries through ~17 levels of cache misses. Here
//! the heap holds only 24-byte keys (time, seq, slot) in a 4-ary layout (half
//! the levels, a node's four children in one or two cache lines), and the
//! events wait in a slab whose freed slots are reused, so a run allocates only
//! while the queue grows. Keys are unique (seq), so the pop order is exactly
//! the (time, seq) order of any correct priority queue.
//!
//! The rest of a pop's cost is cache misses on the next event's data, which
//! was written long before. So each pop prefetches the slot of the event that
//! is now first, and a key carries a caller's `hint` (e.g. a pair index, from
//! `with_hint`) that `peek_hint` returns, for the caller to prefetch its own
//! state while it handles the current event. Hints change no order.

use super::time::SimTime;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// Scheduling into the past would break causality: a logic error in the caller.
    #[error("event scheduled at {time} ns, before the current time {now} ns")]
    PastEvent { time: SimTime, now: SimTime },
}

/// Children per heap node.
const ARITY: usize = 4;

/// No hint.
pub const NO_HINT: u32 = u32::MAX;

/// A heap key: when, in which order among equal times, where the event
/// waits, and the caller's hint (fits in the padding: still 24 bytes).
#[derive(Debug, Clone, Copy)]
struct Key {
    time: SimTime,
    seq: u64,
    slot: u32,
    hint: u32,
}

/// Asks the CPU to start loading the cache lines of `r` (a hint: results never change).
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    for off in (0..std::mem::size_of::<T>()).step_by(64) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch never faults and writes nothing; the address is inside `r`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast::<i8>().wrapping_add(off)) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

impl Key {
    /// Strict (time, seq) order; one 128-bit compare instead of two branches.
    #[inline]
    fn before(&self, other: &Key) -> bool {
        (u128::from(self.time) << 64 | u128::from(self.seq)) < (u128::from(other.time) << 64 | u128::from(other.seq))
    }
}

/// A min-queue of events: earliest time first, FIFO among equal times.
pub struct EventQueue<E> {
    /// 4-ary min-heap: node i's children are 4i + 1 ..= 4i + 4.
    heap: Vec<Key>,
    /// The events by slot (None: a free slot, listed in `free`).
    events: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
    now: SimTime,
    hint: fn(&E) -> u32,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_hint(|_| NO_HINT)
    }

    /// A queue whose keys carry `hint(event)`, returned by `peek_hint`.
    pub fn with_hint(hint: fn(&E) -> u32) -> Self {
        EventQueue { heap: Vec::new(), events: Vec::new(), free: Vec::new(), next_seq: 0, now: 0, hint }
    }

    /// Schedules `event` at `time` and returns its sequence number.
    /// `time == now()` is allowed (an event may schedule another at the same instant).
    pub fn push(&mut self, time: SimTime, event: E) -> Result<u64, QueueError> {
        if time < self.now {
            return Err(QueueError::PastEvent { time, now: self.now });
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let hint = (self.hint)(&event);
        let slot = match self.free.pop() {
            Some(s) => {
                self.events[s as usize] = Some(event);
                s
            }
            None => {
                self.events.push(Some(event));
                u32::try_from(self.events.len() - 1).expect("fewer than 2^32 pending events")
            }
        };
        self.heap.push(Key { time, seq, slot, hint });
        self.sift_up(self.heap.len() - 1);
        Ok(seq)
    }

    /// Removes the earliest event and advances `now()` to its time.
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        let last = self.heap.pop()?;
        let top = match self.heap.first() {
            Some(&top) => {
                self.sift_down(last);
                prefetch(&self.events[self.heap[0].slot as usize]);
                top
            }
            None => last,
        };
        let event = self.events[top.slot as usize].take().expect("a queued key's event is in its slot");
        self.free.push(top.slot);
        self.now = top.time;
        Some((top.time, top.seq, event))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|k| k.time)
    }

    /// The hint of the event that pops next (`NO_HINT` if it has none).
    pub fn peek_hint(&self) -> Option<u32> {
        self.heap.first().map(|k| k.hint)
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

    /// Moves the key at `i` up to its place (the hole moves, the key is written once).
    fn sift_up(&mut self, mut i: usize) {
        let k = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if !k.before(&self.heap[parent]) {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = k;
    }

    /// Places `k` from the root (whose key was just taken) down to its place.
    fn sift_down(&mut self, k: Key) {
        let n = self.heap.len();
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            if first >= n {
                break;
            }
            let kids = &self.heap[first..n.min(first + ARITY)];
            let mut m = 0;
            for (c, kid) in kids.iter().enumerate().skip(1) {
                if kid.before(&kids[m]) {
                    m = c;
                }
            }
            if !kids[m].before(&k) {
                break;
            }
            self.heap[i] = kids[m];
            i = first + m;
        }
        self.heap[i] = k;
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
        /// The same pops, in the same order, as a `BinaryHeap` of (time, seq):
        /// many equal times (dt in 0..4) exercise the FIFO tie-break.
        #[test]
        fn pops_match_a_binary_heap(
            ops in proptest::collection::vec((0u8..3, 0u64..4), 1..400)
        ) {
            use std::cmp::Reverse;
            use std::collections::BinaryHeap;
            let mut q = EventQueue::new();
            let mut reference = BinaryHeap::new();
            for (i, (op, dt)) in ops.into_iter().enumerate() {
                if op < 2 {
                    let t = q.now() + dt;
                    let seq = q.push(t, i).unwrap();
                    reference.push(Reverse((t, seq, i)));
                } else {
                    prop_assert_eq!(q.pop(), reference.pop().map(|Reverse(e)| e));
                }
                prop_assert_eq!(q.len(), reference.len());
            }
            while let Some(Reverse(e)) = reference.pop() {
                prop_assert_eq!(q.pop(), Some(e));
            }
            prop_assert!(q.pop().is_none());
        }

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
