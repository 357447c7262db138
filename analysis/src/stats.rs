//! Means, confidence intervals, and when two figures differ by less than their noise.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Confidence level of every interval rwsim prints or writes.
pub const CONFIDENCE: f64 = 0.95;

/// With one run per point there is no interval: loss fractions closer than this (absolute)
/// are treated as equal. A tenth of a percentage point is below what a seed changes in the
/// bundled scenarios' WAL-truncation losses and far below what an operator would trade
/// memory for.
pub const LOSS_TIE_ABS: f64 = 0.001;
/// ... or closer than this share of the larger of the two.
pub const LOSS_TIE_REL: f64 = 0.02;

/// A metric over the replications of a point: the mean, and a two-sided Student-t
/// confidence interval at [`CONFIDENCE`] when there are at least two replications.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Stat {
    /// Arithmetic mean.
    pub mean: f64,
    /// `(low, high)`, clamped at 0 (every metric is non-negative); `None` for one replication.
    pub ci: Option<(f64, f64)>,
}

impl Stat {
    /// The mean and interval of `values`, in the given order (so the float sums, and the
    /// bytes written, never depend on scheduling).
    pub fn of(values: &[f64]) -> Stat {
        assert!(!values.is_empty(), "a point has at least one replication");
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        if values.len() < 2 {
            return Stat { mean, ci: None };
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let half = t_quantile(values.len() - 1) * (var / n).sqrt();
        Stat { mean, ci: Some(((mean - half).max(0.0), mean + half)) }
    }

    /// The value targets are checked against: the upper end of the interval when there is
    /// one, else the mean.
    pub fn upper(&self) -> f64 {
        self.ci.map_or(self.mean, |(_, hi)| hi)
    }
}

/// The two-sided [`CONFIDENCE`] quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("df >= 1 is a valid Student-t")
        .inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

/// Whether two estimates cannot be told apart: their intervals overlap when both have one,
/// else they are within `tol_abs` or `tol_rel` of the larger. A choice between them should
/// then rest on something else (the cheaper setting).
///
/// ```
/// use analysis::stats::indistinct;
/// assert!(indistinct((0.20, Some((0.18, 0.23))), (0.21, Some((0.19, 0.24))), 0.0, 0.0));
/// assert!(!indistinct((0.20, Some((0.19, 0.21))), (0.25, Some((0.24, 0.26))), 0.0, 0.0));
/// assert!(indistinct((0.2300, None), (0.2307, None), 0.001, 0.0), "a 0.07-point difference");
/// ```
pub fn indistinct(a: (f64, Option<(f64, f64)>), b: (f64, Option<(f64, f64)>), tol_abs: f64, tol_rel: f64) -> bool {
    match (a.1, b.1) {
        (Some((alo, ahi)), Some((blo, bhi))) => alo <= bhi && blo <= ahi,
        _ => (a.0 - b.0).abs() <= tol_abs.max(tol_rel * a.0.abs().max(b.0.abs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_have_an_interval_only_with_replications() {
        let one = Stat::of(&[3.0]);
        assert_eq!((one.mean, one.ci), (3.0, None));
        let s = Stat::of(&[1.0, 2.0, 3.0]);
        assert_eq!(s.mean, 2.0);
        let (lo, hi) = s.ci.unwrap();
        // t(0.975, 2) = 4.303; s = 1; half = 4.303 / sqrt(3) = 2.484
        assert!((hi - 4.484).abs() < 1e-3, "{hi}");
        assert_eq!(lo, 0.0, "clamped at 0");
        assert_eq!(Stat::of(&[5.0, 5.0]).ci, Some((5.0, 5.0)));
    }

    #[test]
    fn single_runs_use_the_tolerance() {
        assert!(!indistinct((0.10, None), (0.12, None), LOSS_TIE_ABS, LOSS_TIE_REL));
        assert!(indistinct((0.500, None), (0.509, None), LOSS_TIE_ABS, LOSS_TIE_REL), "2 % of 0.5");
        assert!(indistinct((0.0, None), (0.0, None), 0.0, 0.0));
    }
}
