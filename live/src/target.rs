//! `rwsim target`: a scrape target with a known, fixed set of series, so that a real
//! Prometheus can be given an exact workload with no other software.
//!
//! `GET /metrics` exposes all `series` series; with `targets = T`, `GET /metrics/{i}` exposes
//! target `i`'s share (series `j` with `j mod T = i`), so one process stands in for T scrape
//! targets (point each at it with `__metrics_path__`). The series set never changes; the
//! values do, at every scrape. `GET /scrapes.csv` lists the scrapes served (`target,unix_ms`,
//! the last 1,000,000), which tells how many samples Prometheus scraped and when.

use crate::LiveError;
use crate::http::{accept_loop, text};
use hyper::Method;
use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// Scrapes remembered for `/scrapes.csv`.
pub const SCRAPE_LOG_CAP: usize = 1_000_000;
/// Most series one target process serves (a page of about 60 MB).
pub const MAX_SERIES: u64 = 1_000_000;

/// What to serve.
#[derive(Clone, Debug)]
pub struct TargetOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Series across all targets.
    pub series: u64,
    /// Targets the series are split over (`/metrics/0` … `/metrics/{targets-1}`).
    pub targets: u32,
}

struct State {
    series: u64,
    targets: u32,
    scrapes: AtomicU64,
    log: Mutex<Vec<(u32, u64)>>,
}

/// Series of target `i` of `t`, out of `n`.
pub fn series_of(n: u64, t: u32, i: u32) -> u64 {
    let t = u64::from(t);
    let i = u64::from(i);
    n / t + u64::from(i < n % t)
}

/// The exposition page of target `target` (None: all series) at scrape number `k`.
pub fn page(series: u64, targets: u32, target: Option<u32>, k: u64) -> String {
    let (first, step) = match target {
        Some(i) => (u64::from(i), u64::from(targets)),
        None => (0, 1),
    };
    let mut o = String::with_capacity(40 * (series / step + 2) as usize);
    o.push_str("# HELP rwsim_target_value A series of rwsim's synthetic workload.\n# TYPE rwsim_target_value gauge\n");
    let mut j = first;
    while j < series {
        // Values change every scrape; the series set never does.
        let _ = writeln!(o, "rwsim_target_value{{series=\"{j:07}\"}} {}", (k.wrapping_mul(7) + j) % 1000);
        j += step;
    }
    o
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Serves until `shutdown` completes; `on_ready` gets the bound address.
pub fn run(
    opts: TargetOptions,
    shutdown: impl Future<Output = ()>,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), LiveError> {
    if opts.series > MAX_SERIES {
        return Err(LiveError::Usage(format!("--series {} exceeds the limit of {MAX_SERIES}", opts.series)));
    }
    if opts.targets == 0 {
        return Err(LiveError::Usage("--targets must be at least 1".into()));
    }
    let rt = crate::runtime()?;
    rt.block_on(async {
        let listener =
            TcpListener::bind(opts.listen).await.map_err(|e| LiveError::Io(format!("--listen {}", opts.listen), e))?;
        on_ready(listener.local_addr().map_err(|e| LiveError::Io("local address".into(), e))?);
        let st = Arc::new(State {
            series: opts.series,
            targets: opts.targets,
            scrapes: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        });
        accept_loop(listener, 256, Duration::from_secs(10), shutdown, move |req| {
            let st = st.clone();
            async move {
                let path = req.uri().path();
                if req.method() != Method::GET {
                    return Ok(text(405, "rwsim target: GET only\n"));
                }
                if path == "/scrapes.csv" {
                    let log = st.log.lock().unwrap_or_else(|e| e.into_inner());
                    let mut o = String::from("target,unix_ms\n");
                    for (t, ms) in log.iter() {
                        let _ = writeln!(o, "{t},{ms}");
                    }
                    return Ok(text(200, o));
                }
                let target = match path.strip_prefix("/metrics") {
                    Some("") => None,
                    Some(rest) => match rest.strip_prefix('/').and_then(|i| i.parse::<u32>().ok()) {
                        Some(i) if i < st.targets => Some(i),
                        _ => return Ok(text(404, "rwsim target: no such target\n")),
                    },
                    None => return Ok(text(404, "rwsim target: see /metrics\n")),
                };
                let k = st.scrapes.fetch_add(1, Ordering::Relaxed);
                {
                    let mut log = st.log.lock().unwrap_or_else(|e| e.into_inner());
                    if log.len() >= SCRAPE_LOG_CAP {
                        log.remove(0);
                    }
                    log.push((target.unwrap_or(u32::MAX), unix_ms()));
                }
                let mut r = text(200, page(st.series, st.targets, target, k));
                r.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                Ok(r)
            }
        })
        .await;
        Ok::<_, LiveError>(())
    })?;
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_the_series_exactly() {
        for (n, t) in [(10, 3), (2000, 1), (7, 7), (5, 8)] {
            let total: u64 = (0..t).map(|i| series_of(n, t, i)).sum();
            assert_eq!(total, n);
            let lines: usize =
                (0..t).map(|i| page(n, t, Some(i), 0).lines().filter(|l| !l.starts_with('#')).count()).sum();
            assert_eq!(lines as u64, n);
        }
    }

    #[test]
    fn the_series_set_is_stable_and_values_change() {
        let names = |p: &str| {
            p.lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| l.split(' ').next().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let (a, b) = (page(50, 1, None, 1), page(50, 1, None, 2));
        assert_eq!(names(&a), names(&b));
        assert_ne!(a, b);
    }
}
