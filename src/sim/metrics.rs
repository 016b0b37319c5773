//! The network's state as it evolves: the sum of the headline accuracy and
//! MSE over active pairs, how many are misaligned, and the running count of
//! fine-tunings. Accuracy is integrated exactly between state changes (it
//! is piecewise constant), over the time at least one pair is active, and
//! sampled into the time series.

use super::core::{ns_to_secs, SimTime};
use super::outcome::TimePoint;

#[derive(Debug, Default)]
pub(super) struct Metrics {
    acc_sum: f64,
    mse_sum: f64,
    active: usize,
    misaligned: usize,
    pub running_finetunes: usize,
    last_t: SimTime,
    integral: f64,
    active_time: f64,
    pub timeseries: Vec<TimePoint>,
}

impl Metrics {
    /// Accounts the time since the last change at the current mean accuracy.
    pub fn integrate(&mut self, now: SimTime) {
        let dt = ns_to_secs(now - self.last_t);
        if self.active > 0 {
            self.integral += self.acc_sum / self.active as f64 * dt;
            self.active_time += dt;
        }
        self.last_t = now;
    }

    /// A pair stops counting with these numbers (call `integrate` first).
    pub fn leave(&mut self, acc: f64, mse: f64, misaligned: bool) {
        self.acc_sum -= acc;
        self.mse_sum -= mse;
        self.active -= 1;
        self.misaligned -= misaligned as usize;
    }

    /// A pair counts with these numbers from now on.
    pub fn enter(&mut self, acc: f64, mse: f64, misaligned: bool) {
        self.acc_sum += acc;
        self.mse_sum += mse;
        self.active += 1;
        self.misaligned += misaligned as usize;
    }

    /// Integrates up to `now` and appends a row to the time series.
    pub fn sample(&mut self, now: SimTime, active_flows: usize) {
        self.integrate(now);
        let n = self.active;
        let mean = |sum: f64| if n > 0 { sum / n as f64 } else { f64::NAN };
        let (network_accuracy, mean_mse) = (mean(self.acc_sum), mean(self.mse_sum));
        self.timeseries.push(TimePoint {
            t_s: ns_to_secs(now),
            network_accuracy,
            mean_mse,
            active_pairs: self.active,
            misaligned_pairs: self.misaligned,
            active_flows,
            running_finetunes: self.running_finetunes,
        });
    }

    /// Time of the last integration.
    pub fn last_t(&self) -> SimTime {
        self.last_t
    }

    /// The integral of the mean accuracy over the time some pair was active.
    pub fn time_avg_accuracy(&self) -> f64 {
        if self.active_time > 0.0 {
            self.integral / self.active_time
        } else {
            f64::NAN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_is_integrated_over_active_time_only() {
        let mut m = Metrics::default();
        // Nothing active for 1 s, then 0.2 for 1 s, then 0.2 and 0.8 for 2 s.
        m.integrate(1_000_000_000);
        m.enter(0.2, 0.1, true);
        m.integrate(2_000_000_000);
        m.enter(0.8, 0.0, false);
        m.sample(4_000_000_000, 3);
        let want = (0.2 * 1.0 + 0.5 * 2.0) / 3.0;
        assert!((m.time_avg_accuracy() - want).abs() < 1e-12);
        let p = m.timeseries[0];
        assert_eq!((p.t_s, p.active_pairs, p.misaligned_pairs, p.active_flows), (4.0, 2, 1, 3));
        assert!((p.network_accuracy - 0.5).abs() < 1e-12);
        m.leave(0.2, 0.1, true);
        assert_eq!(m.misaligned, 0);
    }
}
