//! Compute: each user fine-tunes with its own FLOP/s budget, one job at a
//! time, first come first served. A job's simulated duration is its FLOPs
//! (from the cost model) divided by the budget; what the job *computes*
//! (accuracy after, curves) comes from real LibTorch runs elsewhere.

use serde::{Deserialize, Serialize};

use super::time::{secs_to_ns, SimTime};

/// A fine-tuning job waiting for or using a user's compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub flops: u64,
}

/// When a job ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduled {
    pub id: u64,
    pub submitted: SimTime,
    pub started: SimTime,
    pub finished: SimTime,
}

/// One user's FIFO compute queue. The queue is work-conserving: a job starts
/// the moment it arrives if the processor is idle, otherwise when the job
/// ahead of it finishes.
#[derive(Debug, Clone)]
pub struct ComputeQueue {
    flops_per_s: f64,
    /// Time the processor is next free.
    free_at: SimTime,
}

impl ComputeQueue {
    /// `flops_per_s` must be finite and > 0 (scenario validation checks it).
    pub fn new(flops_per_s: f64) -> ComputeQueue {
        assert!(flops_per_s > 0.0 && flops_per_s.is_finite(), "compute budget must be > 0 FLOP/s");
        ComputeQueue { flops_per_s, free_at: 0 }
    }

    /// A new speed for jobs submitted from now on (a job already queued
    /// keeps the times it was given).
    pub fn set_flops_per_s(&mut self, flops_per_s: f64) {
        assert!(flops_per_s > 0.0 && flops_per_s.is_finite(), "compute budget must be > 0 FLOP/s");
        self.flops_per_s = flops_per_s;
    }

    /// Simulated duration of `flops` on this processor, rounded up to the ns.
    pub fn duration(&self, flops: u64) -> SimTime {
        secs_to_ns(flops as f64 / self.flops_per_s)
    }

    /// Queues `job` at time `now` and returns when it starts and finishes.
    /// Jobs must be submitted in non-decreasing `now` (the event loop does).
    pub fn submit(&mut self, now: SimTime, job: Job) -> Scheduled {
        let started = now.max(self.free_at);
        let finished = started + self.duration(job.flops);
        self.free_at = finished;
        Scheduled { id: job.id, submitted: now, started, finished }
    }

    /// Time the processor is next idle.
    pub fn free_at(&self) -> SimTime {
        self.free_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: SimTime = 1_000_000_000;

    #[test]
    fn jobs_run_one_after_another_at_the_budget() {
        // 10 GFLOP/s: a 5 GFLOP job takes 0.5 s.
        let mut q = ComputeQueue::new(10e9);
        let a = q.submit(0, Job { id: 1, flops: 5_000_000_000 });
        assert_eq!((a.started, a.finished), (0, S / 2));
        // Arrives while the first runs: waits, then takes 1 s.
        let b = q.submit(S / 4, Job { id: 2, flops: 10_000_000_000 });
        assert_eq!((b.submitted, b.started, b.finished), (S / 4, S / 2, 3 * S / 2));
        // Arrives after the processor went idle: starts at once.
        let c = q.submit(2 * S, Job { id: 3, flops: 1_000_000_000 });
        assert_eq!((c.started, c.finished), (2 * S, 2 * S + S / 10));
        assert_eq!(q.free_at(), 2 * S + S / 10);
    }

    #[test]
    fn durations_round_up_and_zero_work_takes_no_time() {
        let q = ComputeQueue::new(3.0);
        // 1 FLOP at 3 FLOP/s = 333,333,333.33 ns -> 333,333,334 ns.
        assert_eq!(q.duration(1), 333_333_334);
        assert_eq!(q.duration(0), 0);
    }
}
