//! Per-RX service queues: detected misalignments wait at their RX, which
//! serves at most `max_concurrent` alignments at once (0: no limit) and
//! picks the next request by the policy's order.
//!
//! - `fifo`: first detected, first served (ties: request order).
//! - `fastest_first`: the TX with the most FLOP/s (shortest fine-tuning);
//!   ties FIFO.
//! - `random`: uniformly among the waiting, from the run's seeded stream.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::core::SimTime;
use super::world::ServicePolicy;
use crate::scenario::Order;

/// A request: (time queued, request sequence, pair).
type Request = (SimTime, u64, usize);

pub(super) struct ServiceQueues {
    policy: ServicePolicy,
    waiting: Vec<Vec<Request>>,
    in_service: Vec<usize>,
    seq: u64,
    rng: ChaCha8Rng,
}

impl ServiceQueues {
    pub fn new(users: usize, policy: ServicePolicy, rng: ChaCha8Rng) -> ServiceQueues {
        ServiceQueues { policy, waiting: vec![Vec::new(); users], in_service: vec![0; users], seq: 0, rng }
    }

    /// Bytes held, all per user: the queues (headers and contents) and the counts.
    pub fn bytes(&self) -> usize {
        let queue =
            |w: &Vec<Request>| std::mem::size_of::<Vec<Request>>() + w.capacity() * std::mem::size_of::<Request>();
        self.waiting.iter().map(queue).sum::<usize>() + self.in_service.capacity() * std::mem::size_of::<usize>()
    }

    /// `pair` asks `rx` for an alignment at `now`.
    pub fn push(&mut self, rx: usize, now: SimTime, pair: usize) {
        self.waiting[rx].push((now, self.seq, pair));
        self.seq += 1;
    }

    /// The next request `rx` starts now, if it has one and capacity; it then
    /// counts as in service. `tx_flops(pair)` is the pair's TX's FLOP/s.
    pub fn next(&mut self, rx: usize, tx_flops: impl Fn(usize) -> f64) -> Option<usize> {
        let cap = self.policy.max_concurrent;
        let w = &self.waiting[rx];
        if w.is_empty() || (cap != 0 && self.in_service[rx] >= cap) {
            return None;
        }
        let pick = match self.policy.order {
            Order::Fifo => (0..w.len()).min_by_key(|&i| (w[i].0, w[i].1)),
            Order::FastestFirst => (0..w.len()).min_by(|&i, &j| {
                let f = |k: usize| tx_flops(w[k].2);
                f(j).total_cmp(&f(i)).then((w[i].0, w[i].1).cmp(&(w[j].0, w[j].1)))
            }),
            Order::Random => Some(self.rng.random_range(0..w.len())),
        }?;
        let (_, _, pair) = self.waiting[rx].remove(pick);
        self.in_service[rx] += 1;
        Some(pair)
    }

    /// `pair`'s request waiting at `rx`, if any, is withdrawn.
    pub fn remove(&mut self, rx: usize, pair: usize) {
        self.waiting[rx].retain(|r| r.2 != pair);
    }

    /// An alignment served by `rx` ended (installed or discarded).
    pub fn done(&mut self, rx: usize) {
        self.in_service[rx] -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn queues(order: Order, max_concurrent: usize) -> ServiceQueues {
        ServiceQueues::new(1, ServicePolicy { order, max_concurrent }, ChaCha8Rng::seed_from_u64(1))
    }

    #[test]
    fn fifo_serves_in_request_order_within_capacity() {
        let mut q = queues(Order::Fifo, 1);
        q.push(0, 5, 7);
        q.push(0, 5, 3);
        assert_eq!(q.next(0, |_| 1.0), Some(7));
        assert_eq!(q.next(0, |_| 1.0), None, "one at a time");
        q.done(0);
        assert_eq!(q.next(0, |_| 1.0), Some(3));
    }

    #[test]
    fn fastest_first_prefers_more_flops_then_fifo() {
        let mut q = queues(Order::FastestFirst, 0);
        for p in [0, 1, 2] {
            q.push(0, 0, p);
        }
        let flops = |p: usize| [1.0, 3.0, 3.0][p];
        assert_eq!((q.next(0, flops), q.next(0, flops), q.next(0, flops)), (Some(1), Some(2), Some(0)));
    }

    #[test]
    fn random_order_serves_everyone_once() {
        let mut q = queues(Order::Random, 0);
        for p in 0..5 {
            q.push(0, 0, p);
        }
        let mut got: Vec<usize> = std::iter::from_fn(|| q.next(0, |_| 1.0)).collect();
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
    }
}
