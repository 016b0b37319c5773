//! Simulated time: integer nanoseconds since the start of a run.
//!
//! Integers, not f64 seconds, so that two events meant to be simultaneous
//! compare equal; conversions round up so that a transfer or a job never
//! ends early.

/// Simulated time in nanoseconds since the start of the run.
pub type SimTime = u64;

/// Nanoseconds per second.
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// Seconds to nanoseconds, rounded up so a transfer never finishes early.
///
/// A value within floating-point noise of a whole nanosecond (relative 1e-12,
/// or 1e-6 ns absolute) snaps to it instead, so e.g. `8e6 / (8e6 / 3)` seconds
/// gives exactly 3 s rather than 3 s + 1 ns. Negative and NaN give 0; values
/// beyond `u64::MAX` ns (about 584 years) and +inf saturate.
pub fn secs_to_ns(s: f64) -> SimTime {
    ns_ceil(s * NS_PER_SEC as f64)
}

/// Rounds a (non-negative) nanosecond count up, snapping float noise; see `secs_to_ns`.
pub fn ns_ceil(x: f64) -> SimTime {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    let r = x.round();
    let tol = (x * 1e-12).max(1e-6);
    let y = if (x - r).abs() <= tol { r } else { x.ceil() };
    // `as` saturates for out-of-range floats (and +inf).
    y as SimTime
}

pub fn ns_to_secs(t: SimTime) -> f64 {
    t as f64 / NS_PER_SEC as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_conversion() {
        assert_eq!(secs_to_ns(1.0), 1_000_000_000);
        assert_eq!(secs_to_ns(0.3), 300_000_000);
        assert_eq!(secs_to_ns(8e6 / (8e6 / 3.0)), 3_000_000_000);
        // Rounds up a genuine fraction of a nanosecond.
        assert_eq!(secs_to_ns(1.5e-9), 2);
        assert_eq!(secs_to_ns(0.0), 0);
        assert_eq!(secs_to_ns(-1.0), 0);
        assert_eq!(secs_to_ns(f64::NAN), 0);
        assert_eq!(secs_to_ns(f64::INFINITY), u64::MAX);
        assert_eq!(secs_to_ns(1e30), u64::MAX);
        assert_eq!(ns_to_secs(1_500_000_000), 1.5);
    }
}
