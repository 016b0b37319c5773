//! Virtual clocks: the flows of a rate group send at one common rate, so
//! their progress is one number. A group's clock `V` counts the bits each
//! member has sent since the group's origin; a member finishes when `V`
//! reaches its virtual end `v_end` (`V` at its arrival + its bits). A rate
//! change moves the clock, not the members, and the members' finish order
//! never changes, so the next finish is the first of an ordered set: no
//! rescan of the members, whatever their number.
//!
//! Two indices over groups give the network's next completion: `next`, each
//! group's earliest predicted finish (ties: lowest FlowId), and `soon`, the
//! time from which a group's first member has less than `DONE_BITS` left and
//! counts as done at any change of the network (as in the reference, where
//! every change re-predicts every flow).
//!
//! Arithmetic: `V` advances by `rate * dt / 1e9` (the reference's
//! expression) only when the group's rate or members change; a member's
//! remaining bits are `v_end - V`. The reference subtracts from every
//! flow's own count at every change of the whole network instead, so the
//! two differ by float rounding (about 1e-16 relative): a predicted finish
//! can differ by 1 ns when its exact value lies that close to a whole ns.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Unbounded};

use super::network::DONE_BITS;
use super::time::{ns_ceil, SimTime, NS_PER_SEC};

pub(super) const NONE: u32 = u32::MAX;

/// A member: (v_end as bits, FlowId, slot). `v_end >= 0`, so its bits order
/// as the value.
type Member = (u64, u64, u32);

#[derive(Debug, Clone, Default)]
struct Group {
    live: bool,
    /// bit/s; +inf for flows that cross no link.
    rate: f64,
    t0: SimTime,
    /// The clock at `t0`.
    v0: f64,
    members: BTreeSet<Member>,
    /// Keys held in `Clocks::next` and `Clocks::soon`.
    entry: Option<(SimTime, u64)>,
    soon: Option<SimTime>,
    /// Changed in the current network event (refreshed by `flush`).
    touched: bool,
}

impl Group {
    /// The clock at `now >= t0`.
    fn v_at(&self, now: SimTime) -> f64 {
        if now == self.t0 || self.rate == 0.0 {
            self.v0
        } else {
            self.v0 + self.rate * (now - self.t0) as f64 / NS_PER_SEC as f64
        }
    }

    /// Predicted finish at `now` of a member ending at `v_end`.
    fn finish(&self, now: SimTime, v: f64, v_end: f64) -> SimTime {
        let rem = v_end - v;
        if rem < DONE_BITS || self.rate.is_infinite() {
            now
        } else {
            // A zero rate saturates to never.
            now.saturating_add(ns_ceil(rem * NS_PER_SEC as f64 / self.rate))
        }
    }
}

/// Rate groups and the indices of their next finishes.
#[derive(Debug, Clone, Default)]
pub(super) struct Clocks {
    groups: Vec<Group>,
    free: Vec<u32>,
    /// (predicted finish, FlowId, group) of every non-empty group.
    next: BTreeSet<(SimTime, u64, u32)>,
    /// (time from which the first member may be within DONE_BITS, group).
    soon: BTreeSet<(SimTime, u32)>,
    touched: Vec<u32>,
}

impl Clocks {
    /// A new empty group sending at `rate` from `now`.
    pub fn create(&mut self, rate: f64, now: SimTime) -> u32 {
        let g = Group { live: true, rate, t0: now, ..Group::default() };
        match self.free.pop() {
            Some(i) => {
                self.groups[i as usize] = g;
                i
            }
            None => {
                self.groups.push(g);
                (self.groups.len() - 1) as u32
            }
        }
    }

    /// Frees an empty group.
    pub fn release(&mut self, g: u32) {
        let gr = &mut self.groups[g as usize];
        debug_assert!(gr.members.is_empty(), "released a group with members");
        gr.live = false;
        if let Some((t, id)) = gr.entry.take() {
            self.next.remove(&(t, id, g));
        }
        if let Some(t) = gr.soon.take() {
            self.soon.remove(&(t, g));
        }
        self.free.push(g);
    }

    pub fn rate(&self, g: u32) -> f64 {
        self.groups[g as usize].rate
    }

    /// Bits a member ending at `v_end` has left at `now` (never negative).
    pub fn remaining(&self, g: u32, v_end: f64, now: SimTime) -> f64 {
        let gr = &self.groups[g as usize];
        if gr.rate.is_infinite() {
            return 0.0;
        }
        let r = v_end - gr.v_at(now);
        if r > 0.0 {
            r
        } else {
            0.0
        }
    }

    /// Moves the group's origin to `now` (at its current rate).
    fn advance(&mut self, g: u32, now: SimTime) {
        let gr = &mut self.groups[g as usize];
        if now != gr.t0 {
            gr.v0 = gr.v_at(now);
            gr.t0 = now;
        }
        if !gr.touched {
            gr.touched = true;
            self.touched.push(g);
        }
    }

    /// Adds flow `id` (in `slot`) with `remaining` bits at `now`; returns its `v_end`.
    pub fn insert(&mut self, g: u32, now: SimTime, id: u64, slot: u32, remaining: f64) -> f64 {
        self.advance(g, now);
        let gr = &mut self.groups[g as usize];
        let v_end = if gr.rate.is_infinite() { 0.0 } else { gr.v0 + remaining };
        gr.members.insert((v_end.to_bits(), id, slot));
        v_end
    }

    /// Removes a member at `now`; returns its remaining bits.
    pub fn remove(&mut self, g: u32, now: SimTime, id: u64, slot: u32, v_end: f64) -> f64 {
        let rem = self.remaining(g, v_end, now);
        self.advance(g, now);
        let removed = self.groups[g as usize].members.remove(&(v_end.to_bits(), id, slot));
        debug_assert!(removed, "flow {id} is not in group {g}");
        rem
    }

    /// Changes the rate from `now` on (progress so far at the old rate).
    pub fn set_rate(&mut self, g: u32, now: SimTime, rate: f64) {
        if self.groups[g as usize].rate.to_bits() != rate.to_bits() {
            self.advance(g, now);
            self.groups[g as usize].rate = rate;
        }
    }

    /// Re-predicts every group changed in this event, then marks as done
    /// (finish `now`) the first members of other groups that are within
    /// `DONE_BITS` of their end.
    pub fn flush(&mut self, now: SimTime) {
        for g in std::mem::take(&mut self.touched) {
            self.groups[g as usize].touched = false;
            if self.groups[g as usize].live {
                self.refresh(g, now);
            }
        }
        while let Some(&(t, g)) = self.soon.first() {
            if t > now {
                break;
            }
            self.soon.pop_first();
            self.groups[g as usize].soon = None;
            self.refresh(g, now);
        }
    }

    /// Recomputes a group's keys in `next` and `soon` at `now`.
    fn refresh(&mut self, g: u32, now: SimTime) {
        let gr = &mut self.groups[g as usize];
        if let Some((t, id)) = gr.entry.take() {
            self.next.remove(&(t, id, g));
        }
        if let Some(t) = gr.soon.take() {
            self.soon.remove(&(t, g));
        }
        let Some(&(first, first_id, _)) = gr.members.first() else { return };
        let v = gr.v_at(now);
        let t = gr.finish(now, v, f64::from_bits(first));
        // Members finishing in the same ns go in FlowId order: look at each
        // further distinct v_end while it still rounds to `t`.
        let mut id = first_id;
        let mut cur = first;
        while let Some(&(vb, other, _)) = gr.members.range((Excluded((cur, u64::MAX, u32::MAX)), Unbounded)).next() {
            if gr.finish(now, v, f64::from_bits(vb)) != t {
                break;
            }
            id = id.min(other);
            cur = vb;
        }
        gr.entry = Some((t, id));
        self.next.insert((t, id, g));
        if t > now {
            // From when the first member has less than DONE_BITS left (a
            // little early; `flush` re-checks and re-arms).
            let rem = f64::from_bits(first) - v - DONE_BITS;
            let at = now.saturating_add((rem * NS_PER_SEC as f64 / gr.rate) as SimTime).saturating_sub(2).max(now + 1);
            if at < t {
                gr.soon = Some(at);
                self.soon.insert((at, g));
            }
        }
    }

    /// The earliest predicted finish over all groups, ties by lowest FlowId.
    pub fn next(&self) -> Option<(SimTime, u64)> {
        self.next.first().map(|&(t, id, _)| (t, id))
    }

    /// Heap bytes held, roughly (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        let members: usize = self.groups.iter().map(|g| g.members.len()).sum();
        self.groups.capacity() * std::mem::size_of::<Group>()
            + (members + self.next.len()) * 2 * std::mem::size_of::<(u64, u64, u32)>()
    }
}
