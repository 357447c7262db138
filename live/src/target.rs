//! `rwsim target`: a scrape target with a known, fixed set of series, so that a real
//! Prometheus can be given an exact workload with no other software.
//!
//! `GET /metrics` exposes all `series` series; with `targets = T`, `GET /metrics/{i}` exposes
//! target `i`'s share (`series / T`, the first `series mod T` targets one more), so one
//! process stands in for T scrape targets (point each at it with `__metrics_path__`). The
//! series set never changes; the values do, at every scrape. `GET /scrapes.csv` lists the
//! scrapes served (`target,unix_ms`, the last 1,000,000), which tells how many samples
//! Prometheus scraped and when.
//!
//! # Values
//!
//! What a sample costs Prometheus depends on its value: the WAL stores every sample's value
//! as 8 raw bytes inside a Snappy-compressed record (`tsdb/record`'s `Encoder.Samples`), so
//! constants and small integers compress and random full-precision floats do not. The
//! [`Values`] pattern chooses them:
//!
//! | pattern | series | value at each scrape |
//! |---|---|---|
//! | `cycle` (default) | `rwsim_target_value{series="0000042"}` | `(7k + j) mod 1000`: small integers, the workload of the committed fidelity recordings |
//! | `counter` | node-exporter and HTTP counters (`node_cpu_seconds_total`, `node_network_receive_bytes_total`, `http_requests_total`, …) | monotonic; increments vary per scrape in `[0, 2r)` around a per-series rate `r`; 3/4 integer-valued (bytes, packets, requests), 1/4 float seconds |
//! | `gauge` | load, temperatures, ratios | random full-precision floats (53 random mantissa bits) in a per-family range |
//! | `constant` | `*_info`, sizes, limits | fixed per series (1 or a large integer) |
//! | `histogram` | `http_request_duration_seconds_bucket{le=…}` (the 11 default buckets and `+Inf`), `_sum`, `_count` | cumulative counters: each bucket's own count grows like a counter, `le` buckets are their running sums, `+Inf` equals `_count`; `_sum` is a full-precision float counter |
//! | `mix` | blocks of 50: one histogram (14 series), 20 counters, 10 gauges, 6 constants | 28 % histogram series, 40 % counters, 20 % gauges, 12 % constants: a node exporter plus an instrumented application |
//!
//! Series come in blocks (14 for `histogram`, 20, 10, 6 and 50 for the others); every series
//! of a block carries the same `namespace` and `pod` labels, so a series line is 80–190
//! bytes, like a Kubernetes pod's. When `series` is not a multiple of the block size the last
//! block is cut short (its last slots are missing; for `histogram`, the highest buckets,
//! `_sum` and `_count` of the last histogram).
//!
//! Values are a pure function of (seed, series, target's scrape number): the same run gives
//! the same pages in any order, and concurrent scrapes need no lock. Each target numbers its
//! own scrapes (`cycle` keeps the one counter over all targets it always had). A counter's
//! value at scrape `k` is `base + floor(r·(k + u_k))` with `u_k` uniform in `[0, 1)`, which
//! never decreases because `r·(1 + u_{k+1} − u_k) > 0`; rendering it costs two hash
//! evaluations, so the target serves 100,000 series per second on one core.

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

/// How the series get their values (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// `(7k + j) mod 1000`: the workload of the committed fidelity recordings.
    Cycle,
    /// Monotonic counters with varying increments.
    Counter,
    /// Random full-precision gauges.
    Gauge,
    /// Constant gauges.
    Constant,
    /// The series of classic histograms: cumulative `_bucket`s, `_sum`, `_count`.
    Histogram,
    /// Blocks of one histogram, 20 counters, 10 gauges and 6 constants.
    Mix,
}

impl Values {
    /// Every pattern, in the order of the documentation.
    pub const ALL: [Values; 6] =
        [Values::Cycle, Values::Counter, Values::Gauge, Values::Constant, Values::Histogram, Values::Mix];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Values::Cycle => "cycle",
            Values::Counter => "counter",
            Values::Gauge => "gauge",
            Values::Constant => "constant",
            Values::Histogram => "histogram",
            Values::Mix => "mix",
        }
    }

    /// The pattern called `name`.
    pub fn parse(name: &str) -> Option<Values> {
        Values::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The slots of one block of series.
    fn block(self) -> &'static [Slot] {
        match self {
            Values::Cycle => &[],
            Values::Counter => &BLOCK_COUNTER,
            Values::Gauge => &BLOCK_GAUGE,
            Values::Constant => &BLOCK_CONSTANT,
            Values::Histogram => &BLOCK_HISTOGRAM,
            Values::Mix => &BLOCK_MIX,
        }
    }
}

/// What to serve.
#[derive(Clone, Debug)]
pub struct TargetOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The series and their values.
    pub workload: Workload,
}

/// The series a target process exposes and how their values move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Series across all targets.
    pub series: u64,
    /// Targets the series are split over (`/metrics/0` … `/metrics/{targets-1}`).
    pub targets: u32,
    /// The value pattern.
    pub values: Values,
    /// Seed of the values (not of the series' names).
    pub seed: u64,
}

/// Series of target `i` of `t`, out of `n`.
pub fn series_of(n: u64, t: u32, i: u32) -> u64 {
    let t = u64::from(t);
    let i = u64::from(i);
    n / t + u64::from(i < n % t)
}

// ---------------------------------------------------------------- the series of a block

#[derive(Clone, Copy, Debug)]
enum Num {
    /// Whole numbers (bytes, packets, requests).
    Int,
    /// Fractional (seconds).
    Float,
}

/// One series of a block.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// A counter: its increments per scrape average `rate` (log-uniform per series in the
    /// range), starting from `base` (log-uniform).
    Counter { name: &'static str, labels: &'static str, num: Num, rate: (f64, f64), base: (f64, f64) },
    /// A gauge: uniform in the range at every scrape, all 53 mantissa bits random.
    Gauge { name: &'static str, labels: &'static str, range: (f64, f64) },
    /// A constant: log-uniform in `value` (a single value when both ends are equal), fixed
    /// per series; whole when `int`.
    Constant { name: &'static str, labels: &'static str, value: (f64, f64), int: bool },
    /// Bucket `b` of the block's histogram (`b = 11` is `+Inf`).
    Bucket(usize),
    /// The histogram's `_sum`.
    Sum,
    /// The histogram's `_count`.
    Count,
}

impl Slot {
    /// The metric family (one `# TYPE` line per run of equal families).
    fn family(self) -> (&'static str, &'static str) {
        match self {
            Slot::Counter { name, .. } => (name, "counter"),
            Slot::Gauge { name, .. } | Slot::Constant { name, .. } => (name, "gauge"),
            Slot::Bucket(_) | Slot::Sum | Slot::Count => (HISTOGRAM, "histogram"),
        }
    }
}

const fn c(name: &'static str, labels: &'static str, num: Num, rate: (f64, f64), base: (f64, f64)) -> Slot {
    Slot::Counter { name, labels, num, rate, base }
}
const fn g(name: &'static str, labels: &'static str, range: (f64, f64)) -> Slot {
    Slot::Gauge { name, labels, range }
}
const fn k(name: &'static str, labels: &'static str, value: (f64, f64), int: bool) -> Slot {
    Slot::Constant { name, labels, value, int }
}

const CPU: &str = "node_cpu_seconds_total";
const REQ: &str = "http_requests_total";
const BYTES: (f64, f64) = (1e9, 1e13);
const HISTOGRAM: &str = "http_request_duration_seconds";
const HISTOGRAM_LABELS: &str = r#"handler="/api/v1/orders",method="GET""#;
/// Prometheus's default buckets (client_golang `DefBuckets`), then `+Inf`.
const LE: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const LE_TEXT: [&str; 12] = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"];

/// A node's CPU and network counters, an application's request counters.
const BLOCK_COUNTER: [Slot; 20] = [
    c(CPU, r#"cpu="0",mode="idle""#, Num::Float, (0.3, 1.0), (1e4, 1e7)),
    c(CPU, r#"cpu="0",mode="iowait""#, Num::Float, (0.001, 0.05), (1e2, 1e5)),
    c(CPU, r#"cpu="0",mode="system""#, Num::Float, (0.01, 0.3), (1e3, 1e6)),
    c(CPU, r#"cpu="0",mode="user""#, Num::Float, (0.01, 0.6), (1e3, 1e6)),
    c(CPU, r#"cpu="1",mode="idle""#, Num::Float, (0.3, 1.0), (1e4, 1e7)),
    c(CPU, r#"cpu="1",mode="iowait""#, Num::Float, (0.001, 0.05), (1e2, 1e5)),
    c(CPU, r#"cpu="1",mode="system""#, Num::Float, (0.01, 0.3), (1e3, 1e6)),
    c(CPU, r#"cpu="1",mode="user""#, Num::Float, (0.01, 0.6), (1e3, 1e6)),
    c("node_network_receive_bytes_total", r#"device="eth0""#, Num::Int, (1e3, 1e7), BYTES),
    c("node_network_transmit_bytes_total", r#"device="eth0""#, Num::Int, (1e3, 1e7), BYTES),
    c("node_network_receive_packets_total", r#"device="eth0""#, Num::Int, (10.0, 1e4), (1e6, 1e10)),
    c("node_network_transmit_packets_total", r#"device="eth0""#, Num::Int, (10.0, 1e4), (1e6, 1e10)),
    c("node_disk_read_bytes_total", r#"device="nvme0n1""#, Num::Int, (1e2, 1e6), BYTES),
    c("node_disk_written_bytes_total", r#"device="nvme0n1""#, Num::Int, (1e2, 1e6), BYTES),
    c(REQ, r#"code="200",handler="/api/v1/orders",method="GET""#, Num::Int, (1.0, 200.0), (1e3, 1e7)),
    c(REQ, r#"code="200",handler="/api/v1/orders",method="POST""#, Num::Int, (0.5, 50.0), (1e3, 1e6)),
    c(REQ, r#"code="404",handler="/api/v1/orders",method="GET""#, Num::Int, (0.01, 1.0), (10.0, 1e4)),
    c(REQ, r#"code="500",handler="/api/v1/orders",method="POST""#, Num::Int, (0.001, 0.1), (1.0, 1e3)),
    c("process_cpu_seconds_total", "", Num::Float, (0.01, 0.5), (1e2, 1e6)),
    c("go_memstats_alloc_bytes_total", "", Num::Int, (1e4, 1e8), (1e9, 1e12)),
];

/// Load, temperatures, ratios and averages: values that change in every digit.
const BLOCK_GAUGE: [Slot; 10] = [
    g("node_load1", "", (0.0, 4.0)),
    g("node_load5", "", (0.0, 4.0)),
    g("node_load15", "", (0.0, 4.0)),
    g("node_hwmon_temp_celsius", r#"chip="platform_coretemp_0",sensor="temp1""#, (35.0, 85.0)),
    g("node_hwmon_temp_celsius", r#"chip="platform_coretemp_0",sensor="temp2""#, (35.0, 85.0)),
    g("node_thermal_zone_temp", r#"type="x86_pkg_temp",zone="0""#, (35.0, 90.0)),
    g("app_cache_hit_ratio", r#"cache="sessions""#, (0.5, 1.0)),
    g("app_pool_utilisation_ratio", r#"pool="db-primary""#, (0.0, 1.0)),
    g("app_queue_fill_ratio", r#"queue="orders""#, (0.0, 1.0)),
    g("app_request_latency_ewma_seconds", r#"handler="/api/v1/orders""#, (0.001, 0.5)),
];

/// Info series, sizes and limits.
const BLOCK_CONSTANT: [Slot; 6] = [
    k(
        "node_uname_info",
        r##"machine="x86_64",release="6.1.0-18-amd64",sysname="Linux",version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)""##,
        (1.0, 1.0),
        true,
    ),
    k("node_filesystem_size_bytes", r#"device="/dev/nvme0n1p2",fstype="ext4",mountpoint="/""#, (1e10, 2e12), true),
    k("node_memory_MemTotal_bytes", "", (4e9, 5e11), true),
    k("go_info", r#"version="go1.21.6""#, (1.0, 1.0), true),
    k("process_max_fds", "", (1_048_576.0, 1_048_576.0), true),
    k("app_build_info", r#"branch="main",revision="3f2a9c1e",version="2.14.3""#, (1.0, 1.0), true),
];

/// One classic histogram: 12 cumulative buckets, `_sum`, `_count`.
const BLOCK_HISTOGRAM: [Slot; 14] = [
    Slot::Bucket(0),
    Slot::Bucket(1),
    Slot::Bucket(2),
    Slot::Bucket(3),
    Slot::Bucket(4),
    Slot::Bucket(5),
    Slot::Bucket(6),
    Slot::Bucket(7),
    Slot::Bucket(8),
    Slot::Bucket(9),
    Slot::Bucket(10),
    Slot::Bucket(11),
    Slot::Sum,
    Slot::Count,
];

const BLOCK_MIX: [Slot; 50] = {
    let mut b = [Slot::Sum; 50];
    let mut i = 0;
    while i < 50 {
        b[i] = if i < 14 {
            BLOCK_HISTOGRAM[i]
        } else if i < 34 {
            BLOCK_COUNTER[i - 14]
        } else if i < 44 {
            BLOCK_GAUGE[i - 34]
        } else {
            BLOCK_CONSTANT[i - 44]
        };
        i += 1;
    }
    b
};

const APPS: [&str; 7] = ["checkout", "payments", "catalog", "frontend", "search", "orders", "node-exporter"];

// ---------------------------------------------------------------- values

/// splitmix64's finaliser: a bijective 64-bit mix, good enough to make independent uniform
/// draws out of (seed, series, scrape) without any state.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Uniform in `[0, 1)` with 53 random bits, for series `key` at scrape `k` (or, with `k` a
/// salt from [`FIXED`], fixed per series).
fn unit(seed: u64, key: u64, k: u64) -> f64 {
    let h = mix(seed ^ mix(key.wrapping_add(0x9e37_79b9_7f4a_7c15) ^ mix(k.wrapping_add(0x632b_e59b_d9b4_e019))));
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Salts of the per-series constants (scrape numbers never reach them).
const FIXED: u64 = u64::MAX - 16;

fn log_uniform((lo, hi): (f64, f64), u: f64) -> f64 {
    if lo <= 0.0 || hi <= lo { lo + (hi - lo) * u } else { lo * (hi / lo).powf(u) }
}

/// A counter at scrape `k`: `base + r·(k + u_k)` (floored for whole numbers), nondecreasing
/// because every step adds `r·(1 + u_{k+1} − u_k) > 0` and rounding is monotonic.
fn counter(seed: u64, key: u64, k: u64, num: Num, rate: (f64, f64), base: (f64, f64)) -> f64 {
    let r = log_uniform(rate, unit(seed, key, FIXED));
    let b = log_uniform(base, unit(seed, key, FIXED + 1));
    let grown = r * (k as f64 + unit(seed, key, k));
    match num {
        Num::Int => b.floor() + grown.floor(),
        Num::Float => b + grown,
    }
}

/// The histogram of block key `h` at scrape `k`: each bucket's own count is an integer
/// counter whose rate is the share of a log-logistic latency distribution (median 10–300 ms)
/// falling in it; returns the cumulative counts (`+Inf` last) and `_sum`.
fn histogram(seed: u64, h: u64, k: u64) -> ([f64; 12], f64) {
    let rate = log_uniform((0.2, 100.0), unit(seed, h, FIXED + 2));
    let median = log_uniform((0.01, 0.3), unit(seed, h, FIXED + 3));
    let cdf = |x: f64| 1.0 / (1.0 + (median / x).powf(1.5));
    let mut cumulative = [0.0; 12];
    let (mut below, mut total, mut sum) = (0.0, 0.0, 0.0);
    for b in 0..12 {
        let upto = if b < 11 { cdf(LE[b]) } else { 1.0 };
        let r = rate * (upto - below);
        below = upto;
        let key = h.wrapping_mul(16).wrapping_add(b as u64);
        let own = (r * (k as f64 + unit(seed, key, k))).floor();
        // Each observation counts as a typical value of its bucket, fixed per bucket.
        let (lo, hi) = if b == 0 {
            (0.0, LE[0])
        } else if b < 11 {
            (LE[b - 1], LE[b])
        } else {
            (10.0, 20.0)
        };
        let typical = lo + (hi - lo) * (0.25 + 0.5 * unit(seed, key, FIXED + 4));
        total += own;
        sum += own * typical;
        cumulative[b] = total;
    }
    (cumulative, sum)
}

impl Workload {
    /// Series of target `target` (None: all of them).
    pub fn series_of(&self, target: Option<u32>) -> u64 {
        target.map_or(self.series, |i| series_of(self.series, self.targets, i))
    }

    /// The exposition page of target `target` (None: all series) at its scrape number `k`.
    pub fn page(&self, target: Option<u32>, k: u64) -> String {
        if self.values == Values::Cycle {
            return self.cycle_page(target, k);
        }
        let n = self.series_of(target);
        let block = self.values.block();
        let size = block.len() as u64;
        let blocks = n.div_ceil(size);
        // Block ids differ across targets, so no two targets expose the same series.
        let (id0, id_step) = match target {
            Some(i) => (u64::from(i), u64::from(self.targets)),
            None => (0, 1),
        };
        let mut o = String::with_capacity(150 * n as usize + 64 * block.len());
        let mut pods: Vec<String> = Vec::with_capacity(blocks as usize);
        for b in 0..blocks {
            pods.push(pod(id0 + b * id_step));
        }
        let mut last_family = "";
        // Slot-major: every series of one metric family is contiguous, as the text format asks.
        for (s, slot) in block.iter().enumerate() {
            let (family, kind) = slot.family();
            if family != last_family {
                let _ = writeln!(o, "# TYPE {family} {kind}");
                last_family = family;
            }
            for (b, pod) in pods.iter().enumerate() {
                let b = b as u64;
                if b * size + s as u64 >= n {
                    break;
                }
                let id = id0 + b * id_step;
                let key = id.wrapping_mul(64).wrapping_add(s as u64);
                self.line(&mut o, slot, pod, id, key, k);
            }
        }
        o
    }

    fn line(&self, o: &mut String, slot: &Slot, pod: &str, id: u64, key: u64, k: u64) {
        let seed = self.seed;
        let head = |o: &mut String, name: &str, labels: &str| {
            let sep = if labels.is_empty() { "" } else { "," };
            let _ = write!(o, "{name}{{namespace=\"shop-prod\",pod=\"{pod}\"{sep}{labels}}} ");
        };
        match *slot {
            Slot::Counter { name, labels, num, rate, base } => {
                head(o, name, labels);
                let _ = writeln!(o, "{}", counter(seed, key, k, num, rate, base));
            }
            Slot::Gauge { name, labels, range: (lo, hi) } => {
                head(o, name, labels);
                let _ = writeln!(o, "{}", lo + (hi - lo) * unit(seed, key, k));
            }
            Slot::Constant { name, labels, value, int } => {
                head(o, name, labels);
                let v = log_uniform(value, unit(seed, key, FIXED));
                let _ = writeln!(o, "{}", if int { v.floor() } else { v });
            }
            Slot::Bucket(b) => {
                let _ = write!(
                    o,
                    "{HISTOGRAM}_bucket{{namespace=\"shop-prod\",pod=\"{pod}\",{HISTOGRAM_LABELS},le=\"{}\"}} ",
                    LE_TEXT[b]
                );
                let _ = writeln!(o, "{}", histogram(seed, id, k).0[b]);
            }
            Slot::Sum => {
                head(o, "http_request_duration_seconds_sum", HISTOGRAM_LABELS);
                let _ = writeln!(o, "{}", histogram(seed, id, k).1);
            }
            Slot::Count => {
                head(o, "http_request_duration_seconds_count", HISTOGRAM_LABELS);
                let _ = writeln!(o, "{}", histogram(seed, id, k).0[11]);
            }
        }
    }

    /// The committed recordings' workload: series `j` of target `i` is every `j mod T = i`,
    /// valued `(7k + j) mod 1000` with `k` counted over all targets' scrapes.
    fn cycle_page(&self, target: Option<u32>, k: u64) -> String {
        let (first, step) = match target {
            Some(i) => (u64::from(i), u64::from(self.targets)),
            None => (0, 1),
        };
        let series = self.series;
        let mut o = String::with_capacity(40 * (series / step + 2) as usize);
        o.push_str(
            "# HELP rwsim_target_value A series of rwsim's synthetic workload.\n# TYPE rwsim_target_value gauge\n",
        );
        let mut j = first;
        while j < series {
            let _ = writeln!(o, "rwsim_target_value{{series=\"{j:07}\"}} {}", (k.wrapping_mul(7) + j) % 1000);
            j += step;
        }
        o
    }
}

/// A Kubernetes-like pod name for block `id`: `{app}-{replica set hash}-{id in base 36}`,
/// unique per id.
fn pod(id: u64) -> String {
    const B36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let app = APPS[(id % APPS.len() as u64) as usize];
    let mut h = mix(id / 8 + 1);
    let mut rs = String::with_capacity(9);
    for _ in 0..9 {
        rs.push(B36[(h % 36) as usize] as char);
        h /= 36;
    }
    let mut tail = [b'0'; 6];
    let mut x = id;
    for c in tail.iter_mut().rev() {
        *c = B36[(x % 36) as usize];
        x /= 36;
    }
    format!("{app}-{rs}-{}", std::str::from_utf8(&tail).unwrap_or("000000"))
}

// ---------------------------------------------------------------- the server

struct State {
    workload: Workload,
    /// Scrapes over all targets (`cycle`'s clock).
    scrapes: AtomicU64,
    /// Scrapes per target, `/metrics` last (every other pattern's clock).
    per_target: Vec<AtomicU64>,
    log: Mutex<Vec<(u32, u64)>>,
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Workload {
    /// Refuses a workload that would serve nothing or leave a target empty, naming the flag,
    /// the accepted range and why.
    pub fn check(&self) -> Result<(), LiveError> {
        if !(1..=MAX_SERIES).contains(&self.series) {
            return Err(LiveError::Usage(format!(
                "--series {} is out of range: accepted 1 to {MAX_SERIES} (the series of all targets together; \
                 one page of a million series is already about 60 MB)",
                self.series
            )));
        }
        if self.targets == 0 || u64::from(self.targets) > self.series {
            return Err(LiveError::Usage(format!(
                "--targets {} is out of range: accepted 1 to --series ({}), since every target needs at least \
                 one series",
                self.targets, self.series
            )));
        }
        Ok(())
    }
}

/// Serves until `shutdown` completes; `on_ready` gets the bound address.
pub fn run(
    opts: TargetOptions,
    shutdown: impl Future<Output = ()>,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), LiveError> {
    let w = opts.workload;
    w.check()?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let listener =
            TcpListener::bind(opts.listen).await.map_err(|e| LiveError::Io(format!("--listen {}", opts.listen), e))?;
        on_ready(listener.local_addr().map_err(|e| LiveError::Io("local address".into(), e))?);
        let st = Arc::new(State {
            workload: w,
            scrapes: AtomicU64::new(0),
            per_target: (0..=w.targets).map(|_| AtomicU64::new(0)).collect(),
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
                        Some(i) if i < st.workload.targets => Some(i),
                        _ => return Ok(text(404, "rwsim target: no such target\n")),
                    },
                    None => return Ok(text(404, "rwsim target: see /metrics\n")),
                };
                let global = st.scrapes.fetch_add(1, Ordering::Relaxed);
                let own = st.per_target[target.map_or(st.workload.targets as usize, |i| i as usize)]
                    .fetch_add(1, Ordering::Relaxed);
                {
                    let mut log = st.log.lock().unwrap_or_else(|e| e.into_inner());
                    if log.len() >= SCRAPE_LOG_CAP {
                        log.remove(0);
                    }
                    log.push((target.unwrap_or(u32::MAX), unix_ms()));
                }
                let k = if st.workload.values == Values::Cycle { global } else { own };
                let mut r = text(200, st.workload.page(target, k));
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
    use std::collections::{BTreeMap, BTreeSet};

    fn workload(series: u64, targets: u32, values: Values) -> Workload {
        Workload { series, targets, values, seed: 1 }
    }

    /// (series line without the value, value) of every sample line.
    fn samples(page: &str) -> Vec<(String, f64)> {
        page.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (s, v) = l.rsplit_once(' ').expect("a value");
                (s.to_string(), v.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {l}")))
            })
            .collect()
    }

    fn by_series(page: &str) -> BTreeMap<String, f64> {
        samples(page).into_iter().collect()
    }

    #[test]
    fn targets_split_the_series_exactly_and_never_share_one() {
        for values in Values::ALL {
            for (n, t) in [(10, 3), (2000, 1), (7, 7), (5, 8), (333, 4)] {
                let w = workload(n, t, values);
                let total: u64 = (0..t).map(|i| series_of(n, t, i)).sum();
                assert_eq!(total, n);
                let mut all = BTreeSet::new();
                for i in 0..t {
                    let page = w.page(Some(i), 0);
                    let lines = samples(&page);
                    assert_eq!(lines.len() as u64, series_of(n, t, i), "{values:?} {n}/{t}");
                    for (s, _) in lines {
                        assert!(all.insert(s.clone()), "{values:?}: {s} twice");
                    }
                }
                assert_eq!(samples(&w.page(None, 0)).len() as u64, n);
            }
        }
    }

    #[test]
    fn the_series_set_is_stable_and_values_change() {
        for values in [Values::Cycle, Values::Counter, Values::Gauge, Values::Histogram, Values::Mix] {
            let w = workload(500, 1, values);
            let (a, b) = (w.page(None, 1), w.page(None, 2));
            let names = |p: &str| samples(p).into_iter().map(|(s, _)| s).collect::<Vec<_>>();
            assert_eq!(names(&a), names(&b), "{values:?}");
            assert_ne!(a, b, "{values:?}");
        }
        let w = workload(500, 1, Values::Constant);
        assert_eq!(w.page(None, 1), w.page(None, 99));
    }

    #[test]
    fn cycle_is_the_workload_of_the_recordings() {
        let w = workload(2000, 1, Values::Cycle);
        let page = w.page(Some(0), 3);
        assert!(page.starts_with("# HELP rwsim_target_value"));
        assert!(page.contains("\nrwsim_target_value{series=\"0000005\"} 26\n"), "7·3 + 5 = 26");
        assert!(page.contains("\nrwsim_target_value{series=\"0001999\"} 20\n"), "(21 + 1999) mod 1000");
        assert_eq!(samples(&page).len(), 2000);
    }

    #[test]
    fn counters_never_decrease_and_their_increments_vary() {
        for values in [Values::Counter, Values::Mix] {
            let w = workload(400, 3, values);
            for target in [Some(0), Some(2), None] {
                let mut prev = by_series(&w.page(target, 0));
                let mut increments: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
                for k in 1..60 {
                    let now = by_series(&w.page(target, k));
                    for (s, v) in &now {
                        let counterish = s.contains("_total{")
                            || s.contains("_bucket{")
                            || s.contains("_count{")
                            || s.contains("_sum{");
                        if counterish {
                            assert!(*v >= prev[s], "{values:?}: {s} went from {} to {v} at scrape {k}", prev[s]);
                            increments.entry(s.clone()).or_default().insert((v - prev[s]).to_bits());
                        }
                    }
                    prev = now;
                }
                let varied = increments.values().filter(|d| d.len() > 1).count();
                assert!(varied * 10 >= increments.len() * 9, "{varied} of {} counters vary", increments.len());
            }
        }
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_inf_is_the_count() {
        let w = workload(14 * 30, 1, Values::Histogram);
        for k in [0, 1, 7, 1000, 86_400] {
            let s = by_series(&w.page(None, k));
            let mut pods = BTreeSet::new();
            for name in s.keys() {
                let pod = name.split("pod=\"").nth(1).unwrap().split('"').next().unwrap();
                pods.insert(pod.to_string());
            }
            assert_eq!(pods.len(), 30);
            for pod in pods {
                let get = |suffix: &str, le: Option<&str>| {
                    let labels = format!("namespace=\"shop-prod\",pod=\"{pod}\",{HISTOGRAM_LABELS}");
                    let key = match le {
                        Some(le) => format!("{HISTOGRAM}{suffix}{{{labels},le=\"{le}\"}}"),
                        None => format!("{HISTOGRAM}{suffix}{{{labels}}}"),
                    };
                    s[&key]
                };
                let buckets: Vec<f64> = LE_TEXT.iter().map(|le| get("_bucket", Some(le))).collect();
                assert!(buckets.windows(2).all(|p| p[0] <= p[1]), "{pod} at {k}: {buckets:?}");
                assert_eq!(buckets[11], get("_count", None));
                assert!(get("_sum", None) >= 0.0);
                if k >= 1000 {
                    assert!(buckets[11] > 0.0 && get("_sum", None) > 0.0);
                }
            }
        }
    }

    #[test]
    fn gauges_are_full_precision_and_constants_constant() {
        let w = workload(1000, 1, Values::Gauge);
        let vals = samples(&w.page(None, 5));
        // Shortest round-trip text of a float with 53 random mantissa bits has 15-17 digits.
        let long = vals.iter().filter(|(_, v)| format!("{v:e}").split('e').next().unwrap().len() >= 16).count();
        assert!(long * 10 >= vals.len() * 8, "{long} of {} full precision", vals.len());
        let distinct: BTreeSet<u64> = vals.iter().map(|(_, v)| v.to_bits()).collect();
        assert_eq!(distinct.len(), vals.len());
        let w = workload(600, 1, Values::Constant);
        let a = by_series(&w.page(None, 0));
        assert_eq!(a, by_series(&w.page(None, 12345)));
        assert!(a.values().all(|v| v.fract() == 0.0 && *v >= 1.0));
    }

    #[test]
    fn mix_has_the_documented_shares() {
        let w = workload(50 * 20, 1, Values::Mix);
        let page = w.page(None, 3);
        let lines = samples(&page);
        let count = |f: &dyn Fn(&str) -> bool| lines.iter().filter(|(s, _)| f(s)).count();
        assert_eq!(count(&|s| s.starts_with(HISTOGRAM)), 280);
        assert_eq!(count(&|s| s.contains("_total{")), 400);
        let constants = ["_info{", "_size_bytes{", "MemTotal_bytes{", "max_fds{"];
        assert_eq!(count(&|s| constants.iter().any(|c| s.contains(c))), 120);
        assert_eq!(lines.len() - 280 - 400 - 120, 200);
        // Every metric family is contiguous, with one TYPE line.
        let mut seen = BTreeSet::new();
        let mut last = String::new();
        for l in page.lines() {
            let fam = if let Some(t) = l.strip_prefix("# TYPE ") {
                t.split(' ').next().unwrap().to_string()
            } else {
                let name = l.split('{').next().unwrap();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .fold(name, |n, s| if n.starts_with(HISTOGRAM) { n.strip_suffix(s).unwrap_or(n) } else { n });
                base.to_string()
            };
            if fam != last {
                assert!(seen.insert(fam.clone()), "{fam} is split");
                last = fam;
            }
        }
    }

    #[test]
    fn values_are_seeded() {
        let a = Workload { seed: 1, ..workload(300, 1, Values::Mix) };
        let b = Workload { seed: 2, ..a };
        assert_eq!(a.page(None, 4), a.page(None, 4));
        assert_ne!(a.page(None, 4), b.page(None, 4));
        let names = |p: &str| samples(p).into_iter().map(|(s, _)| s).collect::<Vec<_>>();
        assert_eq!(names(&a.page(None, 4)), names(&b.page(None, 4)), "the seed moves values, not series");
    }

    #[test]
    fn series_lines_are_the_size_of_real_ones() {
        for values in [Values::Counter, Values::Gauge, Values::Constant, Values::Histogram, Values::Mix] {
            let page = workload(1000, 1, values).page(None, 10);
            let lines = samples(&page);
            let mean = lines.iter().map(|(s, _)| s.len()).sum::<usize>() / lines.len();
            assert!((60..=200).contains(&mean), "{values:?}: {mean} bytes of name and labels");
        }
    }

    /// Parses one sample line of the text format strictly: a metric name, optional
    /// `{name="value",...}` with escaped values, a space, a float. Returns the label names.
    fn parse_line(line: &str) -> Result<Vec<String>, String> {
        let name_ok = |s: &str, metric: bool| {
            !s.is_empty()
                && s.chars().enumerate().all(|(i, c)| {
                    c == '_' || c.is_ascii_alphabetic() || (metric && c == ':') || (i > 0 && c.is_ascii_digit())
                })
        };
        let end = line.find(['{', ' ']).ok_or("no value")?;
        if !name_ok(&line[..end], true) {
            return Err(format!("bad metric name {:?}", &line[..end]));
        }
        let mut rest = &line[end..];
        let mut names = Vec::new();
        if let Some(r) = rest.strip_prefix('{') {
            rest = r;
            loop {
                let eq = rest.find('=').ok_or("label without =")?;
                let lname = &rest[..eq];
                if !name_ok(lname, false) {
                    return Err(format!("bad label name {lname:?}"));
                }
                names.push(lname.to_string());
                let mut chars = rest[eq + 1..].char_indices();
                if chars.next().map(|(_, c)| c) != Some('"') {
                    return Err(format!("label {lname} value not quoted"));
                }
                let mut close = None;
                let mut escaped = false;
                for (i, c) in chars {
                    match (escaped, c) {
                        (true, '\\' | '"' | 'n') => escaped = false,
                        (true, _) => return Err(format!("bad escape in {lname}")),
                        (false, '\\') => escaped = true,
                        (false, '\n') => return Err(format!("newline in {lname}")),
                        (false, '"') => {
                            close = Some(eq + 1 + i);
                            break;
                        }
                        _ => {}
                    }
                }
                rest = &rest[close.ok_or(format!("label {lname} value not closed"))? + 1..];
                if let Some(r) = rest.strip_prefix(',') {
                    rest = r;
                } else if let Some(r) = rest.strip_prefix('}') {
                    rest = r;
                    break;
                } else {
                    return Err(format!("after label {lname}: {rest:?}"));
                }
            }
        }
        let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
        value.parse::<f64>().map_err(|_| format!("bad value {value:?}"))?;
        Ok(names)
    }

    #[test]
    fn every_page_is_valid_text_format_with_unique_label_names() {
        for values in Values::ALL {
            let page = workload(1000, 3, values).page(Some(1), 17);
            for line in page.lines() {
                if let Some(t) = line.strip_prefix("# ") {
                    assert!(t.starts_with("TYPE ") || t.starts_with("HELP "), "{values:?}: {line}");
                    continue;
                }
                let names = parse_line(line).unwrap_or_else(|e| panic!("{values:?}: {e}: {line}"));
                let unique: BTreeSet<&String> = names.iter().collect();
                assert_eq!(unique.len(), names.len(), "{values:?}: a label twice: {line}");
            }
        }
        assert!(parse_line(r#"up{a="x} 1"#).is_err(), "an unclosed value is caught");
        assert!(parse_line(r#"up{a="x",b="y\"z"} 1.5"#).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for v in Values::ALL {
            assert_eq!(Values::parse(v.name()), Some(v));
        }
        assert_eq!(Values::parse("sawtooth"), None);
    }
}
