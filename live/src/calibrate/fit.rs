//! The receiver latency distribution, fitted to Prometheus's request durations.
//!
//! `prometheus_remote_storage_sent_batch_duration_seconds` is a histogram of every HTTP
//! attempt's duration (`storage/remote/queue_manager.go: sendSamplesWithBackoff` observes
//! it around `Client.Store`), with coarse buckets (5ms, 10ms, 25ms, 50ms, ... 300s). Reading
//! a median and a p99 off the buckets by interpolation (as `histogram_quantile` does) puts
//! them wherever the bucket bounds are. But the histogram also has the exact sum, so the
//! mean is known exactly. The fit here is a log-normal whose mean is that mean and whose
//! spread σ maximises the likelihood of the bucket counts (interval-censored data): the mean
//! pins the location, the buckets the shape.

use statrs::distribution::{ContinuousCDF, Normal};

/// A fitted latency.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyFit {
    /// Median of the fitted log-normal, seconds.
    pub median: f64,
    /// 99th percentile, seconds.
    pub p99: f64,
    /// σ of the underlying normal.
    pub sigma: f64,
    /// Mean of the observations (after subtracting the overhead), seconds.
    pub mean: f64,
    /// Observations.
    pub count: f64,
    /// Largest difference between the fitted and the observed share of a bucket.
    pub max_bucket_error: f64,
    /// Median and p99 by linear interpolation in the buckets, for comparison.
    pub interpolated: (f64, f64),
}

/// z of the 99th percentile of the standard normal.
const Z99: f64 = 2.326_347_874_040_841;

/// Fits a log-normal to a cumulative histogram (`(le, count)` sorted by `le`, `+Inf` last)
/// whose observations are `overhead` plus the latency; `sum` and `count` are the histogram's.
/// None without observations, or when the overhead is not below the mean.
///
/// ```
/// use live::calibrate::fit::fit_lognormal;
/// // 1000 requests: most between 10 and 25 ms, a tail to 100 ms; mean 22 ms.
/// let buckets = [(0.005, 0.0), (0.01, 5.0), (0.025, 850.0), (0.05, 960.0), (0.1, 995.0), (0.25, 1000.0), (f64::INFINITY, 1000.0)];
/// let f = fit_lognormal(&buckets, 22.0, 1000.0, 0.0).unwrap();
/// assert!(f.median > 0.015 && f.median < 0.022, "{f:?}");
/// assert!(f.p99 > 0.05 && f.p99 < 0.1, "{f:?}");
/// ```
pub fn fit_lognormal(buckets: &[(f64, f64)], sum: f64, count: f64, overhead: f64) -> Option<LatencyFit> {
    if count < 1.0 || !sum.is_finite() {
        return None;
    }
    let mean = sum / count - overhead;
    if mean <= 0.0 {
        return None;
    }
    // Bucket counts (not cumulative), with bounds shifted by the overhead.
    let mut cells: Vec<(f64, f64, f64)> = Vec::new(); // (lower, upper, count)
    let mut prev_le = 0.0_f64;
    let mut prev_c = 0.0_f64;
    for &(le, c) in buckets {
        let n = (c - prev_c).max(0.0);
        cells.push(((prev_le - overhead).max(0.0), le - overhead, n));
        prev_le = le;
        prev_c = c;
    }
    let std = Normal::standard();
    let cdf = |x: f64, mu: f64, s: f64| -> f64 {
        if x <= 0.0 {
            0.0
        } else if x.is_infinite() {
            1.0
        } else {
            std.cdf((x.ln() - mu) / s)
        }
    };
    let loglik = |s: f64| -> f64 {
        let mu = mean.ln() - s * s / 2.0;
        cells
            .iter()
            .filter(|c| c.2 > 0.0)
            .map(|&(lo, hi, n)| n * (cdf(hi, mu, s) - cdf(lo, mu, s)).max(1e-300).ln())
            .sum()
    };
    // A coarse grid on log σ, then golden-section refinement around the best point.
    let grid: Vec<f64> = (0..=120).map(|i| 0.005 * (1.05f64).powi(i)).collect();
    let best = grid.iter().enumerate().max_by(|a, b| loglik(*a.1).total_cmp(&loglik(*b.1))).map_or(0, |(i, _)| i);
    let (mut lo, mut hi) = (grid[best.saturating_sub(1)], grid[(best + 1).min(grid.len() - 1)]);
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..60 {
        let a = hi - phi * (hi - lo);
        let b = lo + phi * (hi - lo);
        if loglik(a) > loglik(b) {
            hi = b;
        } else {
            lo = a;
        }
    }
    let sigma = (lo + hi) / 2.0;
    let mu = mean.ln() - sigma * sigma / 2.0;
    let total: f64 = cells.iter().map(|c| c.2).sum();
    let max_bucket_error = cells
        .iter()
        .map(|&(l, h, n)| ((cdf(h, mu, sigma) - cdf(l, mu, sigma)) - n / total.max(1.0)).abs())
        .fold(0.0, f64::max);
    Some(LatencyFit {
        median: mu.exp(),
        p99: (mu + Z99 * sigma).exp(),
        sigma,
        mean,
        count,
        max_bucket_error,
        interpolated: (quantile(buckets, 0.5) - overhead, quantile(buckets, 0.99) - overhead),
    })
}

/// A quantile by linear interpolation within the bucket that holds it, as PromQL's
/// `histogram_quantile` does (the upper bound of the highest finite bucket beyond it).
pub fn quantile(buckets: &[(f64, f64)], q: f64) -> f64 {
    let Some(&(_, total)) = buckets.last() else { return f64::NAN };
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, c) in buckets {
        if c >= rank {
            if le.is_infinite() {
                return prev.0;
            }
            let width = c - prev.1;
            return if width <= 0.0 { le } else { prev.0 + (le - prev.0) * (rank - prev.1) / width };
        }
        prev = (le, c);
    }
    prev.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buckets of `n` draws from a log-normal (exact expected counts).
    fn expected(median: f64, sigma: f64, n: f64) -> (Vec<(f64, f64)>, f64) {
        let les: [f64; 15] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0, 120.0, 300.0];
        let std = Normal::standard();
        let mut b: Vec<(f64, f64)> =
            les.iter().map(|&le: &f64| (le, n * std.cdf((le.ln() - median.ln()) / sigma))).collect();
        b.push((f64::INFINITY, n));
        let mean = median * (sigma * sigma / 2.0).exp();
        (b, mean * n)
    }

    #[test]
    fn recovers_a_lognormal_from_coarse_buckets() {
        for (median, sigma) in [(0.02, 0.3), (0.15, 0.8), (1.5, 0.6)] {
            let (b, sum) = expected(median, sigma, 10_000.0);
            let f = fit_lognormal(&b, sum, 10_000.0, 0.0).unwrap();
            assert!((f.median / median - 1.0).abs() < 0.02, "{median} {sigma}: {f:?}");
            assert!((f.sigma / sigma - 1.0).abs() < 0.05, "{median} {sigma}: {f:?}");
            assert!(f.max_bucket_error < 0.01, "{f:?}");
        }
    }

    #[test]
    fn one_bucket_gives_an_almost_fixed_latency_at_the_mean() {
        // Every request took 21-23 ms: all in (10ms, 25ms].
        let b = [(0.005, 0.0), (0.01, 0.0), (0.025, 500.0), (f64::INFINITY, 500.0)];
        let f = fit_lognormal(&b, 500.0 * 0.022, 500.0, 0.0).unwrap();
        assert!((f.median - 0.022).abs() < 0.001, "{f:?}");
        assert!(f.p99 < 0.025, "the fit stays inside the only bucket: {f:?}");
        // Interpolation would have said 17.5 ms.
        assert!((f.interpolated.0 - 0.0175).abs() < 1e-9);
    }

    #[test]
    fn overhead_is_subtracted_and_nothing_to_fit_is_none() {
        let b = [(0.025, 100.0), (f64::INFINITY, 100.0)];
        let f = fit_lognormal(&b, 2.2, 100.0, 0.002).unwrap();
        assert!((f.mean - 0.020).abs() < 1e-9);
        assert!(fit_lognormal(&b, 0.0, 0.0, 0.0).is_none());
        assert!(fit_lognormal(&b, 2.2, 100.0, 0.05).is_none(), "overhead above the mean");
        assert_eq!(quantile(&[(1.0, 0.0), (2.0, 10.0), (f64::INFINITY, 10.0)], 0.5), 1.5);
    }
}
