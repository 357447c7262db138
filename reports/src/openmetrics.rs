//! `--openmetrics FILE`: the run's `prometheus_remote_storage_*` series (and a few rwsim
//! extras) in the OpenMetrics text format, timestamped on the simulated clock, for
//! `promtool tsdb create-blocks-from openmetrics FILE DIR` and the Grafana dashboards that
//! already chart a real Prometheus.
//!
//! **What is exported**, one sample per series per output step:
//! - process-wide, as in Prometheus (no `remote_name`/`url`):
//!   `prometheus_remote_storage_samples_in_total`,
//!   `prometheus_remote_storage_highest_timestamp_in_seconds`,
//!   `prometheus_tsdb_wal_segment_current`;
//! - per queue, with `remote_name` and `url`: `samples_total`, `samples_failed_total`,
//!   `samples_retried_total`, `samples_dropped_total` (3.x: `reason="too_old"`),
//!   `samples_pending`, `enqueue_retries_total`, `shards`, `shards_desired`, `shards_max`,
//!   `shards_min`, `shard_capacity`, `max_samples_per_send`, `bytes_total`,
//!   `sent_batch_duration_seconds` and `queue_highest_sent_timestamp_seconds`, each
//!   prefixed `prometheus_remote_storage_`;
//! - `prometheus_wal_watcher_current_segment{consumer=REMOTE_NAME}`;
//! - rwsim's own, which no Prometheus has: `rwsim_samples_delivered_total`,
//!   `rwsim_samples_lost_total{reason="wal_truncation"|"reshard_shutdown"}`,
//!   `rwsim_backlog_samples`, `rwsim_lag_seconds`, `rwsim_queue_memory_bytes`.
//!
//! Every series also has `job` and `instance` labels, as a scrape would add. The
//! `sent_batch_duration_seconds` histogram has only its `+Inf` bucket (rwsim tracks the sum
//! and count of attempt durations, not the buckets): `rate(_sum) / rate(_count)` is right,
//! `histogram_quantile` is not meaningful.
//!
//! **A vmagent run** ([`Target::vmagent`]) exports vmagent's own
//! series instead of Prometheus's, with `url="1:secret-url"` as vmagent shows a URL without
//! `-remoteWrite.showURL` (and `path` on the persistent-queue series):
//! `vmagent_remotewrite_requests_total{status_code}` (rwsim keeps classes, so the codes are
//! `2XX`, `429`, `4XX`, `5XX`), `…_errors_total`, `…_retries_count_total`,
//! `…_packets_dropped_total`, `…_blocks_sent_total`, `…_bytes_sent_total`,
//! `…_pending_data_bytes`, `…_pending_inmemory_blocks`, `…_queues`,
//! `…_rate_limit_reached_total`, `vm_persistentqueue_{bytes_pending, blocks_written_total,
//! blocks_read_total, blocks_dropped_total, bytes_dropped_total}`, and rwsim's extras with
//! `reason="disk_full"|"sender_crash"|"failed"|"not_scraped"` for the losses. No histogram.
//!
//! **Format.** Counter families are named without `_total` and their samples with it, as the
//! OpenMetrics specification requires; each family's samples are contiguous, each series'
//! in increasing time; timestamps are Unix seconds (milliseconds as decimals); the file ends
//! with `# EOF`.

use sim_core::metrics::MetricsRow;
use sim_core::observer::Observer;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Labels and clock of an export.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    /// `job` label of every series.
    pub job: &'a str,
    /// `instance` label of every series.
    pub instance: &'a str,
    /// `remote_name` label of the queue series (and `consumer` of the watcher's).
    pub remote_name: &'a str,
    /// `url` label of the queue series.
    pub url: &'a str,
    /// Unix time of `t_seconds = 0`, in milliseconds.
    pub start_unix_millis: u64,
    /// Whether `samples_dropped_total` has `reason="too_old"` (Prometheus 2.50 and later).
    pub dropped_reason_label: bool,
    /// A vmagent run: vmagent's series instead of Prometheus's.
    pub vmagent: bool,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Scope {
    /// job, instance.
    Process,
    /// job, instance, remote_name, url.
    Queue,
    /// job, instance, consumer.
    Watcher,
    /// job, instance, url (vmagent).
    VmUrl,
    /// job, instance, path, url (vmagent's persistent queue).
    VmPath,
}

type Value = fn(&MetricsRow) -> f64;

/// A metric family: name (without `_total` for counters), type, help, label scope, and its
/// series as (extra label, value).
struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
    scope: Scope,
    series: Vec<(Option<(&'static str, &'static str)>, Value)>,
}

fn one(name: &'static str, kind: Kind, scope: Scope, help: &'static str, v: Value) -> Family {
    Family { name, kind, help, scope, series: vec![(None, v)] }
}

fn families(t: &Target<'_>) -> Vec<Family> {
    if t.vmagent { vmagent_families() } else { prometheus_families(t) }
}

fn prometheus_families(t: &Target<'_>) -> Vec<Family> {
    use Kind::*;
    use Scope::*;
    let dropped_label = t.dropped_reason_label.then_some(("reason", "too_old"));
    vec![
        one(
            "prometheus_remote_storage_samples_in",
            Counter,
            Process,
            "Samples in to remote storage, compare to samples out for queue managers.",
            |r| r.samples_in_total as f64,
        ),
        one(
            "prometheus_remote_storage_highest_timestamp_in_seconds",
            Gauge,
            Process,
            "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.",
            |r| r.highest_timestamp_in_seconds as f64,
        ),
        one(
            "prometheus_remote_storage_samples",
            Counter,
            Queue,
            "Total number of samples sent to remote storage.",
            |r| r.samples_total as f64,
        ),
        one(
            "prometheus_remote_storage_samples_failed",
            Counter,
            Queue,
            "Total number of samples which failed on send to remote storage, non-recoverable errors.",
            |r| r.samples_failed_total as f64,
        ),
        one(
            "prometheus_remote_storage_samples_retried",
            Counter,
            Queue,
            "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.",
            |r| r.samples_retried_total as f64,
        ),
        Family {
            name: "prometheus_remote_storage_samples_dropped",
            kind: Counter,
            help: "Total number of samples which were dropped after being read from the WAL before being sent via remote write.",
            scope: Queue,
            series: vec![(dropped_label, |r| r.samples_dropped_total as f64)],
        },
        one(
            "prometheus_remote_storage_samples_pending",
            Gauge,
            Queue,
            "The number of samples pending in the queues shards to be sent to the remote storage.",
            |r| r.samples_pending as f64,
        ),
        one(
            "prometheus_remote_storage_enqueue_retries",
            Counter,
            Queue,
            "Total number of times enqueue has failed because a shards queue was full.",
            |r| r.enqueue_retries_total as f64,
        ),
        one(
            "prometheus_remote_storage_shards",
            Gauge,
            Queue,
            "The number of shards used for parallel sending to the remote storage.",
            |r| f64::from(r.shards),
        ),
        one(
            "prometheus_remote_storage_shards_desired",
            Gauge,
            Queue,
            "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.",
            |r| r.shards_desired,
        ),
        one(
            "prometheus_remote_storage_shards_max",
            Gauge,
            Queue,
            "The maximum number of shards that the queue is allowed to run.",
            |r| f64::from(r.shards_max),
        ),
        one(
            "prometheus_remote_storage_shards_min",
            Gauge,
            Queue,
            "The minimum number of shards that the queue is allowed to run.",
            |r| f64::from(r.shards_min),
        ),
        one(
            "prometheus_remote_storage_shard_capacity",
            Gauge,
            Queue,
            "The capacity of each shard of the queue used for parallel sending to the remote storage.",
            |r| f64::from(r.shard_capacity),
        ),
        one(
            "prometheus_remote_storage_max_samples_per_send",
            Gauge,
            Queue,
            "The maximum number of samples to be sent, in a single request, to the remote storage.",
            |r| f64::from(r.max_samples_per_send),
        ),
        one(
            "prometheus_remote_storage_bytes",
            Counter,
            Queue,
            "The total number of bytes of data (not metadata) sent by the queue after compression.",
            |r| r.bytes_total as f64,
        ),
        one(
            "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
            Gauge,
            Queue,
            "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.",
            |r| r.queue_highest_sent_timestamp_seconds as f64,
        ),
        one(
            "prometheus_tsdb_wal_segment_current",
            Gauge,
            Process,
            "WAL segment index that TSDB is currently writing to.",
            |r| r.tsdb_wal_segment_current as f64,
        ),
        one(
            "prometheus_wal_watcher_current_segment",
            Gauge,
            Watcher,
            "Current segment the WAL watcher is reading records from.",
            |r| r.wal_watcher_current_segment as f64,
        ),
        one("rwsim_samples_delivered", Counter, Queue, "rwsim: samples acknowledged (2xx) by the receiver.", |r| {
            r.delivered_total as f64
        }),
        Family {
            name: "rwsim_samples_lost",
            kind: Counter,
            help: "rwsim: samples lost without any Prometheus counter moving (WAL truncation, skipped at a sender restart or queue recreation), discarded at a hard shutdown (counted once), or never scraped while the sender was down.",
            scope: Queue,
            series: vec![
                (Some(("reason", "wal_truncation")), |r| r.lost_wal_truncation_total as f64),
                (Some(("reason", "reshard_shutdown")), |r| r.lost_reshard_shutdown_total as f64),
                (Some(("reason", "restart_skip")), |r| r.lost_restart_skip_total as f64),
                (Some(("reason", "not_scraped")), |r| r.not_scraped_total as f64),
            ],
        },
        one(
            "rwsim_backlog_samples",
            Gauge,
            Queue,
            "rwsim: samples written to the WAL and not yet completed (unread WAL plus queued).",
            |r| r.backlog_samples as f64,
        ),
        one(
            "rwsim_lag_seconds",
            Gauge,
            Queue,
            "rwsim: newest committed sample minus newest sent sample, in seconds.",
            |r| r.lag_seconds,
        ),
        one(
            "rwsim_queue_memory_bytes",
            Gauge,
            Queue,
            "rwsim: estimated bytes held by the shard queues and send buffers.",
            |r| r.queue_memory_bytes as f64,
        ),
    ]
}

/// vmagent's families (`app/vmagent/remotewrite/client.go`, `lib/persistentqueue`).
fn vmagent_families() -> Vec<Family> {
    use Kind::*;
    use Scope::*;
    vec![
        Family {
            name: "vmagent_remotewrite_requests",
            kind: Counter,
            help: "Requests to the remote storage by response status (rwsim: status classes).",
            scope: VmUrl,
            series: vec![
                (Some(("status_code", "2XX")), |r| r.responses_2xx_total as f64),
                (Some(("status_code", "429")), |r| r.responses_429_total as f64),
                (Some(("status_code", "4XX")), |r| r.responses_4xx_total as f64),
                (Some(("status_code", "5XX")), |r| r.responses_5xx_total as f64),
            ],
        },
        one("vmagent_remotewrite_errors", Counter, VmUrl, "Transport errors and timeouts.", |r| {
            r.vmagent_remotewrite_errors_total as f64
        }),
        one("vmagent_remotewrite_retries_count", Counter, VmUrl, "Sleeps before a retry.", |r| {
            r.vmagent_remotewrite_retries_count_total as f64
        }),
        one("vmagent_remotewrite_packets_dropped", Counter, VmUrl, "Blocks dropped on 400/409 (current: 415).", |r| {
            r.vmagent_remotewrite_packets_dropped_total as f64
        }),
        one("vmagent_remotewrite_blocks_sent", Counter, VmUrl, "Blocks sent (1.79: taken for sending).", |r| {
            r.vmagent_remotewrite_blocks_sent_total as f64
        }),
        one(
            "vmagent_remotewrite_bytes_sent",
            Counter,
            VmUrl,
            "Compressed bytes sent (1.79: taken for sending).",
            |r| r.vmagent_remotewrite_bytes_sent_total as f64,
        ),
        one("vmagent_remotewrite_pending_data_bytes", Gauge, VmUrl, "In-memory plus file-queue bytes.", |r| {
            r.vmagent_remotewrite_pending_data_bytes as f64
        }),
        one("vmagent_remotewrite_pending_inmemory_blocks", Gauge, VmUrl, "Blocks in the in-memory queue.", |r| {
            r.vmagent_remotewrite_pending_inmemory_blocks as f64
        }),
        one("vmagent_remotewrite_queues", Gauge, VmUrl, "Workers sending to the URL.", |r| {
            f64::from(r.vmagent_remotewrite_queues)
        }),
        one("vmagent_remotewrite_rate_limit_reached", Counter, VmUrl, "Waits of the rate limiter.", |r| {
            r.vmagent_remotewrite_rate_limit_reached_total as f64
        }),
        one("vm_persistentqueue_bytes_pending", Gauge, VmPath, "Writer minus reader offset of the file queue.", |r| {
            r.vm_persistentqueue_bytes_pending as f64
        }),
        one("vm_persistentqueue_blocks_written", Counter, VmPath, "Blocks written to the file queue.", |r| {
            r.vm_persistentqueue_blocks_written_total as f64
        }),
        one("vm_persistentqueue_blocks_read", Counter, VmPath, "Blocks read from the file queue.", |r| {
            r.vm_persistentqueue_blocks_read_total as f64
        }),
        one("vm_persistentqueue_blocks_dropped", Counter, VmPath, "Oldest blocks dropped by the disk cap.", |r| {
            r.vm_persistentqueue_blocks_dropped_total as f64
        }),
        one("vm_persistentqueue_bytes_dropped", Counter, VmPath, "Bytes of the blocks the disk cap dropped.", |r| {
            r.vm_persistentqueue_bytes_dropped_total as f64
        }),
        one("rwsim_samples_delivered", Counter, VmUrl, "rwsim: samples acknowledged (2xx) by the receiver.", |r| {
            r.delivered_total as f64
        }),
        Family {
            name: "rwsim_samples_lost",
            kind: Counter,
            help: "rwsim: samples lost, by reason (vmagent counts blocks for the disk cap and for 400s, nothing for kills).",
            scope: VmUrl,
            series: vec![
                (Some(("reason", "disk_full")), |r| r.lost_disk_full_total as f64),
                (Some(("reason", "sender_crash")), |r| r.lost_sender_crash_total as f64),
                (Some(("reason", "failed")), |r| r.failed_once_total as f64),
                (Some(("reason", "not_scraped")), |r| r.not_scraped_total as f64),
            ],
        },
        one("rwsim_backlog_samples", Gauge, VmUrl, "rwsim: samples scraped and not yet completed.", |r| {
            r.backlog_samples as f64
        }),
        one("rwsim_lag_seconds", Gauge, VmUrl, "rwsim: newest scraped sample minus newest sent sample.", |r| {
            r.lag_seconds
        }),
        one("rwsim_queue_memory_bytes", Gauge, VmUrl, "rwsim: estimated bytes of buffers and in-memory blocks.", |r| {
            r.queue_memory_bytes as f64
        }),
        one("rwsim_disk_bytes", Gauge, VmPath, "rwsim: bytes of the file queue's chunk files on disk.", |r| {
            r.disk_bytes as f64
        }),
    ]
}

/// Number of series an export of any non-empty run contains (the histogram counts as its
/// three series: `_bucket{le="+Inf"}`, `_sum`, `_count`).
pub fn series_count(t: &Target<'_>) -> usize {
    families(t).iter().map(|f| f.series.len()).sum::<usize>() + 3
}

/// Escapes a label value or help text (backslash, double quote, newline).
fn escape(s: &str) -> String {
    s.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}

/// A Unix timestamp in seconds with millisecond decimals, trailing zeros dropped.
fn timestamp(unix_millis: u64) -> String {
    let (s, ms) = (unix_millis / 1000, unix_millis % 1000);
    if ms == 0 { s.to_string() } else { format!("{s}.{ms:03}").trim_end_matches('0').to_string() }
}

/// A sample value: integers without a fraction, others in Rust's shortest round-trip form.
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

fn labels(t: &Target<'_>, scope: Scope, extra: Option<(&str, &str)>) -> String {
    let mut l = vec![("job", t.job), ("instance", t.instance)];
    match scope {
        Scope::Process => {}
        Scope::Queue => {
            l.push(("remote_name", t.remote_name));
            l.push(("url", t.url));
        }
        Scope::Watcher => l.push(("consumer", t.remote_name)),
        Scope::VmUrl => l.push(("url", "1:secret-url")),
        Scope::VmPath => {
            l.push(("path", "vmagent-remotewrite-data/persistent-queue/1_rwsim"));
            l.push(("url", "1:secret-url"));
        }
    }
    l.extend(extra);
    let parts: Vec<String> = l.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    parts.join(",")
}

/// One row's sample of one series: when, whether the sender served its metrics then, the value.
#[derive(Copy, Clone)]
struct Point {
    unix_millis: u64,
    sender_up: bool,
    value: f64,
}

/// Where an export's samples come from, one series at a time: rows in memory ([`write()`]) or
/// the spill files of a streamed run ([`Spill`]). Both feed [`write_from`], so their bytes
/// are the same.
trait Source {
    /// Calls `f` with each row's point of series `i` (in [`series_values`] order), in time order.
    fn series(&mut self, i: usize, f: &mut dyn FnMut(Point) -> io::Result<()>) -> io::Result<()>;
    /// Calls `f` with each row's histogram point (value: the sum) and count, in time order.
    fn histogram(&mut self, f: &mut dyn FnMut(Point, u64) -> io::Result<()>) -> io::Result<()>;
}

/// Every plain series' value, in export order (the families', then each family's series).
fn series_values(t: &Target<'_>) -> Vec<Value> {
    families(t).iter().flat_map(|f| f.series.iter().map(|s| s.1)).collect()
}

fn unix_millis(t: &Target<'_>, r: &MetricsRow) -> u64 {
    t.start_unix_millis + (r.t_seconds * 1000.0).round() as u64
}

/// Writes the export: each family's header and samples in turn, then `# EOF`.
fn write_from<W: Write>(mut w: W, t: &Target<'_>, src: &mut dyn Source) -> io::Result<()> {
    let mut i = 0;
    for f in families(t) {
        let kind = match f.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        writeln!(w, "# TYPE {} {kind}", f.name)?;
        writeln!(w, "# HELP {} {}", f.name, escape(f.help))?;
        let suffix = if f.kind == Kind::Counter { "_total" } else { "" };
        // While the sender process is down nobody serves its metrics: a gap, as in reality.
        let always = !f.name.starts_with("prometheus_") && !f.name.starts_with("vm");
        for (extra, _) in &f.series {
            let l = labels(t, f.scope, *extra);
            src.series(i, &mut |p| {
                if !(p.sender_up || always) {
                    return Ok(());
                }
                writeln!(w, "{}{suffix}{{{l}}} {} {}", f.name, value(p.value), timestamp(p.unix_millis))
            })?;
            i += 1;
        }
    }
    if t.vmagent {
        writeln!(w, "# EOF")?;
        return Ok(());
    }
    // The histogram: one point (+Inf bucket, sum, count) per row, its lines together.
    let h = "prometheus_remote_storage_sent_batch_duration_seconds";
    writeln!(w, "# TYPE {h} histogram")?;
    writeln!(w, "# HELP {h} Duration of send calls to the remote storage. rwsim: only the +Inf bucket.")?;
    let l = labels(t, Scope::Queue, None);
    src.histogram(&mut |p, count| {
        if !p.sender_up {
            return Ok(());
        }
        let ts = timestamp(p.unix_millis);
        writeln!(w, "{h}_bucket{{{l},le=\"+Inf\"}} {count} {ts}")?;
        writeln!(w, "{h}_sum{{{l}}} {} {ts}", value(p.value))?;
        writeln!(w, "{h}_count{{{l}}} {count} {ts}")
    })?;
    writeln!(w, "# EOF")?;
    Ok(())
}

/// Rows in memory as a [`Source`].
struct Rows<'r, 't> {
    rows: &'r [MetricsRow],
    target: &'r Target<'t>,
    values: Vec<Value>,
}

impl Source for Rows<'_, '_> {
    fn series(&mut self, i: usize, f: &mut dyn FnMut(Point) -> io::Result<()>) -> io::Result<()> {
        let v = self.values[i];
        for r in self.rows {
            f(Point { unix_millis: unix_millis(self.target, r), sender_up: r.sender_up > 0, value: v(r) })?;
        }
        Ok(())
    }

    fn histogram(&mut self, f: &mut dyn FnMut(Point, u64) -> io::Result<()>) -> io::Result<()> {
        for r in self.rows {
            let p = Point {
                unix_millis: unix_millis(self.target, r),
                sender_up: r.sender_up > 0,
                value: r.sent_batch_duration_seconds_sum,
            };
            f(p, r.sent_batch_duration_seconds_count)?;
        }
        Ok(())
    }
}

/// Writes the export of `rows` to `w`.
pub fn write<W: Write>(w: W, rows: &[MetricsRow], t: &Target<'_>) -> io::Result<()> {
    write_from(w, t, &mut Rows { rows, target: t, values: series_values(t) })
}

/// The export of a run too long to keep in memory, streamed: as an [`Observer`] it appends
/// each row's samples to unnamed temporary files (one per series, 8 bytes a sample, plus one
/// of times and one of the histogram), and [`Spill::finish`] reads them back series by series
/// into the export. Memory stays flat with run length; the bytes equal [`write()`]'s of the
/// same rows. The files have no name (`O_TMPFILE` on Linux), so they vanish when the spill
/// is dropped or the process dies, whether the export was finished or not.
pub struct Spill {
    dir: PathBuf,
    start_unix_millis: u64,
    values: Vec<Value>,
    /// Per row: Unix milliseconds, sender up (0 or 1).
    times: Column,
    /// Per row: the value's bits, one column per plain series.
    series: Vec<Column>,
    /// Per row: the histogram's count and sum's bits.
    histogram: Column,
    rows: u64,
    /// The first write error, reported by [`Spill::finish`] (an observer cannot fail).
    error: Option<io::Error>,
}

/// One spill file of 8-byte little-endian words.
struct Column(BufWriter<File>);

impl Column {
    fn create(dir: &Path) -> io::Result<Self> {
        Ok(Column(BufWriter::new(tempfile::tempfile_in(dir)?)))
    }

    fn put(&mut self, word: u64) -> io::Result<()> {
        self.0.write_all(&word.to_le_bytes())
    }

    /// Flushes the file and returns it, to read from its start.
    fn into_file(self) -> io::Result<File> {
        self.0.into_inner().map_err(io::IntoInnerError::into_error)
    }
}

/// Reads `words` little-endian words a record from the start of `file`.
struct Records<'f> {
    reader: BufReader<&'f File>,
}

impl<'f> Records<'f> {
    fn open(mut file: &'f File) -> io::Result<Self> {
        file.seek(SeekFrom::Start(0))?;
        Ok(Records { reader: BufReader::new(file) })
    }

    fn read<const N: usize>(&mut self) -> io::Result<[u64; N]> {
        let mut words = [0; N];
        for w in &mut words {
            let mut b = [0; 8];
            self.reader.read_exact(&mut b)?;
            *w = u64::from_le_bytes(b);
        }
        Ok(words)
    }
}

impl Spill {
    /// Creates the spill files in `dir` (the export's directory, which has room for the
    /// export: the spill is a fraction of its size). `t` must be the target later given to
    /// [`Spill::finish`].
    pub fn create(dir: &Path, t: &Target<'_>) -> io::Result<Self> {
        let values = series_values(t);
        let spill_err = |e| spill_error(dir, "create", e);
        let series = values.iter().map(|_| Column::create(dir)).collect::<io::Result<Vec<_>>>().map_err(spill_err)?;
        Ok(Spill {
            dir: dir.to_path_buf(),
            start_unix_millis: t.start_unix_millis,
            times: Column::create(dir).map_err(spill_err)?,
            histogram: Column::create(dir).map_err(spill_err)?,
            series,
            values,
            rows: 0,
            error: None,
        })
    }

    fn append(&mut self, r: &MetricsRow) -> io::Result<()> {
        let millis = self.start_unix_millis + (r.t_seconds * 1000.0).round() as u64;
        self.times.put(millis)?;
        self.times.put(u64::from(r.sender_up > 0))?;
        for (c, v) in self.series.iter_mut().zip(&self.values) {
            c.put(v(r).to_bits())?;
        }
        self.histogram.put(r.sent_batch_duration_seconds_count)?;
        self.histogram.put(r.sent_batch_duration_seconds_sum.to_bits())?;
        self.rows += 1;
        Ok(())
    }

    /// Writes the export of every row seen to `w`, with `t`'s labels. An error reading or
    /// writing a spill file names the directory; one writing `w` is returned as it is.
    pub fn finish<W: Write>(self, w: W, t: &Target<'_>) -> io::Result<()> {
        let dir = self.dir;
        if let Some(e) = self.error {
            return Err(spill_error(&dir, "write", e));
        }
        let files = (|| -> io::Result<_> {
            let series = self.series.into_iter().map(Column::into_file).collect::<io::Result<Vec<_>>>()?;
            Ok((self.times.into_file()?, series, self.histogram.into_file()?))
        })();
        let (times, series, histogram) = files.map_err(|e| spill_error(&dir, "write", e))?;
        let mut src = Spilled { times: &times, series: &series, histogram: &histogram, rows: self.rows, dir: &dir };
        write_from(w, t, &mut src)
    }
}

impl Observer for Spill {
    fn on_step(&mut self, row: &MetricsRow) {
        if self.error.is_none()
            && let Err(e) = self.append(row)
        {
            self.error = Some(e);
        }
    }
}

fn spill_error(dir: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot {what} a temporary spill file in {}: {e}", dir.display()))
}

/// The spill files, written, as a [`Source`].
struct Spilled<'f> {
    times: &'f File,
    series: &'f [File],
    histogram: &'f File,
    rows: u64,
    dir: &'f Path,
}

impl Spilled<'_> {
    /// Reads the times and `column` in step, calling `f` with each row's point and the
    /// column's record. Spill errors name the directory; `f`'s pass through.
    fn each<const N: usize>(
        &self,
        column: &File,
        f: &mut dyn FnMut(u64, bool, [u64; N]) -> io::Result<()>,
    ) -> io::Result<()> {
        let read_err = |e| spill_error(self.dir, "read", e);
        let mut times = Records::open(self.times).map_err(read_err)?;
        let mut values = Records::open(column).map_err(read_err)?;
        for _ in 0..self.rows {
            let [millis, up] = times.read::<2>().map_err(read_err)?;
            let record = values.read::<N>().map_err(read_err)?;
            f(millis, up != 0, record)?;
        }
        Ok(())
    }
}

impl Source for Spilled<'_> {
    fn series(&mut self, i: usize, f: &mut dyn FnMut(Point) -> io::Result<()>) -> io::Result<()> {
        self.each::<1>(&self.series[i], &mut |unix_millis, sender_up, [bits]| {
            f(Point { unix_millis, sender_up, value: f64::from_bits(bits) })
        })
    }

    fn histogram(&mut self, f: &mut dyn FnMut(Point, u64) -> io::Result<()>) -> io::Result<()> {
        self.each::<2>(self.histogram, &mut |unix_millis, sender_up, [count, sum]| {
            f(Point { unix_millis, sender_up, value: f64::from_bits(sum) }, count)
        })
    }
}

/// Renders the export to a string (tests and small runs).
pub fn render(rows: &[MetricsRow], t: &Target<'_>) -> String {
    let mut out = Vec::new();
    write(&mut out, rows, t).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("the export is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target {
            job: "rwsim",
            instance: "demo",
            remote_name: "mimir",
            url: "https://mimir.example/api/v1/push",
            start_unix_millis: 1_704_067_200_000,
            dropped_reason_label: true,
            vmagent: false,
        }
    }

    fn rows() -> Vec<MetricsRow> {
        (0..3)
            .map(|i| MetricsRow {
                t_seconds: i as f64 * 10.0,
                samples_in_total: i * 1000,
                shards_desired: 1.5,
                sent_batch_duration_seconds_sum: 0.25 * i as f64,
                sent_batch_duration_seconds_count: i,
                sender_up: 2,
                ..MetricsRow::default()
            })
            .collect()
    }

    #[test]
    fn a_down_sender_exports_no_prometheus_series() {
        let mut rows = rows();
        rows[1].sender_up = 0;
        let text = render(&rows, &target());
        let down = format!(" {}", timestamp(1_704_067_210_000));
        assert!(text.lines().filter(|l| l.starts_with("prometheus_")).all(|l| !l.ends_with(&down)));
        assert!(text.lines().filter(|l| l.starts_with("prometheus_")).count() > 0);
        assert!(text.lines().any(|l| l.starts_with("rwsim_samples_delivered") && l.ends_with(&down)));
    }

    #[test]
    fn a_vmagent_run_exports_vmagent_series_not_prometheus_ones() {
        let mut rows = rows();
        for r in &mut rows {
            r.vmagent_remotewrite_queues = 8;
            r.vm_persistentqueue_blocks_dropped_total = 3;
        }
        let text = render(&rows, &Target { vmagent: true, ..target() });
        assert!(!text.contains("prometheus_remote_storage"));
        assert!(text.contains("vmagent_remotewrite_queues{job=\"rwsim\",instance=\"demo\",url=\"1:secret-url\"} 8 "));
        assert!(text.lines().any(|l| l.starts_with("vm_persistentqueue_blocks_dropped_total{") && l.contains("path=")));
        assert!(text.contains("# TYPE vmagent_remotewrite_retries_count counter"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn counters_follow_the_openmetrics_total_rule() {
        let out = render(&rows(), &target());
        assert!(out.contains("# TYPE prometheus_remote_storage_samples_in counter\n"));
        assert!(
            out.contains(
                "prometheus_remote_storage_samples_in_total{job=\"rwsim\",instance=\"demo\"} 2000 1704067220\n"
            )
        );
        assert!(out.contains(
            "prometheus_remote_storage_samples_total{job=\"rwsim\",instance=\"demo\",remote_name=\"mimir\",url=\"https://mimir.example/api/v1/push\"} 0 1704067200\n"
        ));
        assert!(out.contains("prometheus_remote_storage_samples_dropped_total{job=\"rwsim\",instance=\"demo\",remote_name=\"mimir\",url=\"https://mimir.example/api/v1/push\",reason=\"too_old\"} 0 1704067200\n"));
        assert!(out.contains("# TYPE prometheus_remote_storage_shards_desired gauge\n"));
        assert!(out.contains("shards_desired{"));
        assert!(out.contains("} 1.5 1704067210\n"));
        assert!(out.ends_with("# EOF\n"));
    }

    #[test]
    fn every_series_has_one_sample_per_row_in_time_order() {
        let rows = rows();
        let t = target();
        let out = render(&rows, &t);
        let samples: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(samples.len(), series_count(&t) * rows.len());
        // Families are contiguous: each TYPE line names a family not seen before.
        let mut seen = std::collections::BTreeSet::new();
        for l in out.lines().filter(|l| l.starts_with("# TYPE ")) {
            assert!(seen.insert(l.split(' ').nth(2).unwrap().to_string()), "{l}");
        }
        assert!(out.contains(
            "prometheus_remote_storage_sent_batch_duration_seconds_bucket{job=\"rwsim\",instance=\"demo\",remote_name=\"mimir\",url=\"https://mimir.example/api/v1/push\",le=\"+Inf\"} 2 1704067220\n"
        ));
        assert!(out.contains("_sum{job=\"rwsim\",instance=\"demo\",remote_name=\"mimir\",url=\"https://mimir.example/api/v1/push\"} 0.5 1704067220\n"));
    }

    /// A scratch directory of this test's own.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rwsim-openmetrics-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_streamed_export_equals_the_in_memory_one_and_leaves_no_files() {
        let mut rows = rows();
        rows[1].sender_up = 0;
        rows[2].shards_desired = f64::NAN;
        rows[2].lag_seconds = 0.1 + 0.2;
        rows[2].t_seconds = 20.0005;
        let t = target();
        let dir = scratch("spill");
        let mut spill = Spill::create(&dir, &t).unwrap();
        for r in &rows {
            spill.on_step(r);
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "the spill files have no name");
        let mut out = Vec::new();
        spill.finish(&mut out, &t).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), render(&rows, &t));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn a_spill_that_cannot_be_created_names_its_directory() {
        let dir = scratch("missing").join("no-such-dir");
        let err = Spill::create(&dir, &target()).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().starts_with(&format!("cannot create a temporary spill file in {}: ", dir.display())));
        std::fs::remove_dir(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn timestamps_and_labels_are_escaped_and_exact() {
        assert_eq!(timestamp(1_704_067_200_000), "1704067200");
        assert_eq!(timestamp(1_704_067_200_500), "1704067200.5");
        assert_eq!(timestamp(1_704_067_200_125), "1704067200.125");
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(value(3.0), "3");
        assert_eq!(value(0.25), "0.25");
        let t = Target { dropped_reason_label: false, ..target() };
        let out = render(&rows(), &t);
        assert!(!out.contains("too_old"), "2.42 has no reason label");
    }
}
