//! ε bins: a continuous channel ε is kept at the nearest of a few values, so
//! link evaluations and fine-tunings (which depend on ε) can be memoized per
//! bin while radio conditions drift.

/// Sorted, distinct bin values in [0, 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    values: Vec<f64>,
}

impl Bins {
    /// Needs at least one value, each in [0, 1), strictly rising.
    pub fn new(values: &[f64]) -> Result<Bins, String> {
        if values.is_empty() {
            return Err("at least one bin is needed".into());
        }
        if let Some(i) = values.iter().position(|v| !(0.0..1.0).contains(v)) {
            return Err(format!("[{i}]: {} is outside [0, 1)", values[i]));
        }
        if let Some(i) = values.windows(2).position(|w| w[1] <= w[0]) {
            return Err(format!("[{}]: bins must rise strictly ({} after {})", i + 1, values[i + 1], values[i]));
        }
        Ok(Bins { values: values.to_vec() })
    }

    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Index of the bin nearest `eps` (ties go to the larger, the pessimistic
    /// side); values beyond the ends map to the end bins.
    pub fn index(&self, eps: f64) -> usize {
        let i = self.values.partition_point(|&v| v < eps);
        if i == 0 {
            return 0;
        }
        if i == self.values.len() {
            return i - 1;
        }
        if eps - self.values[i - 1] < self.values[i] - eps {
            i - 1
        } else {
            i
        }
    }

    pub fn nearest(&self, eps: f64) -> f64 {
        self.values[self.index(eps)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_bin_with_pessimistic_ties_and_clamped_ends() {
        let b = Bins::new(&[0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]).unwrap();
        assert_eq!(b.nearest(0.0), 0.0);
        assert_eq!(b.nearest(0.009), 0.0);
        assert_eq!(b.nearest(0.011), 0.02);
        assert_eq!(b.nearest(0.076), 0.1);
        assert_eq!(Bins::new(&[0.0, 0.25, 0.5]).unwrap().nearest(0.375), 0.5, "a tie goes up");
        assert_eq!(b.nearest(0.26), 0.3);
        assert_eq!(b.nearest(0.9), 0.3);
        assert_eq!(b.nearest(-1.0), 0.0);
        assert!(Bins::new(&[]).is_err());
        assert!(Bins::new(&[0.1, 0.1]).unwrap_err().contains("[1]"));
        assert!(Bins::new(&[0.0, 1.0]).unwrap_err().contains("[1]: 1 is outside"));
    }
}
