//! A scenario being assembled from what is known about a real Prometheus, each value with
//! where it came from, and its rendering as a commented scenario file.

use crate::units::{format_duration, format_size};
use crate::{Scenario, ScenarioError, load_str, toml_string};
use sim_core::profile::Profile;
use sim_core::time::SimDuration;
use std::fmt;

/// Where a value of an imported or calibrated scenario came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Provenance {
    /// Written in the input file: its origin, position and key path as written there
    /// (`remote_write[0].queue_config.capacity`, `spec.remoteWrite[1].queueConfig.maxShards`).
    File {
        /// The file as given (or the API endpoint it was read from).
        origin: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key path in the file's own naming.
        path: String,
    },
    /// A Prometheus command-line flag, and where the flags came from.
    Flag {
        /// The flag as Prometheus spells it, with its value: `--storage.tsdb.wal-segment-size=64MB`.
        flag: String,
        /// `--flags`, a file name, or `/api/v1/status/flags`.
        source: String,
    },
    /// Prometheus's default (or the Operator's): which one.
    Default(String),
    /// rwsim's own choice for a key that is not a Prometheus setting.
    Rwsim(String),
    /// Not known: an assumption the user must check. Rendered loudly.
    Assumed(String),
    /// Measured from a running Prometheus: how.
    Measured(String),
    /// Given on rwsim's command line.
    CommandLine(String),
}

impl Provenance {
    /// Whether the value is an assumption.
    pub fn is_assumed(&self) -> bool {
        matches!(self, Provenance::Assumed(_))
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::File { origin, line, column, path } if *line > 0 => {
                write!(f, "{origin}:{line}:{column} {path}")
            }
            Provenance::File { origin, path, .. } => write!(f, "{origin}: {path}"),
            Provenance::Flag { flag, source } => write!(f, "{flag} ({source})"),
            Provenance::Default(s) => write!(f, "default: {s}"),
            Provenance::Rwsim(s) => write!(f, "rwsim: {s}"),
            Provenance::Assumed(s) => write!(f, "ASSUMED: {s}"),
            Provenance::Measured(s) => write!(f, "measured: {s}"),
            Provenance::CommandLine(s) => write!(f, "command line: {s}"),
        }
    }
}

/// A value and its provenance.
#[derive(Clone, Debug, PartialEq)]
pub struct Val<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub from: Provenance,
}

impl<T> Val<T> {
    /// A value with its provenance.
    pub fn new(value: T, from: Provenance) -> Self {
        Val { value, from }
    }
}

/// The receiver latency of a draft.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencyDraft {
    /// Always the same.
    Fixed(SimDuration),
    /// Log-normal through a median and a 99th percentile.
    LogNormal {
        /// Median.
        median: SimDuration,
        /// 99th percentile.
        p99: SimDuration,
    },
}

impl fmt::Display for LatencyDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LatencyDraft::Fixed(d) => write!(f, "{d} (fixed)"),
            LatencyDraft::LogNormal { median, p99 } => write!(f, "log-normal, median {median}, p99 {p99}"),
        }
    }
}

/// `[remote_write.queue_config]` of a draft.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueDraft {
    /// `capacity`.
    pub capacity: Val<u32>,
    /// `max_shards`.
    pub max_shards: Val<u32>,
    /// `min_shards`.
    pub min_shards: Val<u32>,
    /// `max_samples_per_send`.
    pub max_samples_per_send: Val<u32>,
    /// `batch_send_deadline`.
    pub batch_send_deadline: Val<SimDuration>,
    /// `min_backoff`.
    pub min_backoff: Val<SimDuration>,
    /// `max_backoff`.
    pub max_backoff: Val<SimDuration>,
    /// `retry_on_http_429`.
    pub retry_on_http_429: Val<bool>,
    /// `sample_age_limit` (3.x only).
    pub sample_age_limit: Val<SimDuration>,
}

/// Something the input sets that rwsim does not model, or a fact the user should know.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// Whether it can change the forecast (a warning) or not (for the record).
    pub matters: bool,
    /// Where it is, and what it means for the forecast.
    pub text: String,
}

/// A scenario under construction: every key rwsim writes, with its provenance.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: String,
    /// Lines for the header comment: what this was made from.
    pub made_from: Vec<String>,
    /// `prometheus`.
    pub profile: Val<Profile>,
    /// `duration`.
    pub duration: Val<SimDuration>,
    /// `workload.series`.
    pub series: Val<u64>,
    /// `workload.targets`.
    pub targets: Val<u32>,
    /// `workload.scrape_interval`.
    pub scrape_interval: Val<SimDuration>,
    /// `workload.scrape_duration`, when known.
    pub scrape_duration: Option<Val<SimDuration>>,
    /// `workload.wire_bytes_per_sample`.
    pub wire_bytes_per_sample: Val<f64>,
    /// `remote_write.url`.
    pub url: Option<Val<String>>,
    /// `remote_write.name`.
    pub remote_name: Option<Val<String>>,
    /// `remote_write.remote_timeout`.
    pub remote_timeout: Val<SimDuration>,
    /// `[remote_write.queue_config]`.
    pub queue: QueueDraft,
    /// `sender.flush_deadline`.
    pub flush_deadline: Val<SimDuration>,
    /// `sender.request_overhead`.
    pub request_overhead: Val<SimDuration>,
    /// `tsdb.min_block_duration`.
    pub min_block_duration: Val<SimDuration>,
    /// `tsdb.wal_segment_size`.
    pub wal_segment_size: Val<u64>,
    /// `tsdb.wal_bytes_per_sample`.
    pub wal_bytes_per_sample: Val<f64>,
    /// `receiver.latency`.
    pub latency: Val<LatencyDraft>,
    /// What is not modelled, and other facts, in the order found.
    pub notes: Vec<Note>,
}

/// Column where inline provenance comments start.
const COMMENT_COLUMN: usize = 32;
/// Longest line written.
const MAX_LINE: usize = 116;

/// A float as the shortest text with at most 3 decimals (`19.3`, `6.25`, `12`).
pub fn format_number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" { "0".to_string() } else { s.to_string() }
}

/// Wraps `text` into comment lines of at most [`MAX_LINE`] characters.
fn comment_block(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > MAX_LINE && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#  ");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

/// Writes `key = value` with its provenance: inline when it fits, else as comment lines
/// above. Assumed values always get their explanation above, in capitals.
fn kv(out: &mut String, key: &str, value: &str, from: &Provenance) {
    let assignment = format!("{key} = {value}");
    let note = from.to_string();
    if from.is_assumed() {
        let stop = if note.ends_with('.') { "" } else { "." };
        comment_block(out, &format!("{note}{stop} Replace it with the real value, or run `rwsim calibrate`."));
        out.push_str(&assignment);
        out.push_str("   # ASSUMED\n");
        return;
    }
    let pad = COMMENT_COLUMN.saturating_sub(assignment.len()).max(1);
    if assignment.len() + pad + 2 + note.len() <= MAX_LINE {
        out.push_str(&format!("{assignment}{}# {note}\n", " ".repeat(pad)));
    } else {
        comment_block(out, &note);
        out.push_str(&assignment);
        out.push('\n');
    }
}

fn dur(d: SimDuration) -> String {
    toml_string(&format_duration(d))
}

impl Draft {
    /// Whether any value is an assumption.
    pub fn assumed(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.series.from.is_assumed() {
            out.push("workload.series");
        }
        if self.targets.from.is_assumed() {
            out.push("workload.targets");
        }
        if self.latency.from.is_assumed() {
            out.push("receiver.latency");
        }
        out
    }

    /// The scenario file: every key with its provenance, the header saying what it was made
    /// from, what is assumed and what is not modelled, and an example fault to add.
    pub fn render(&self) -> String {
        let mut o = String::new();
        for line in &self.made_from {
            comment_block(&mut o, line);
        }
        o.push_str("# Each value says where it came from.\n");
        let assumed = self.assumed();
        if !assumed.is_empty() {
            comment_block(
                &mut o,
                &format!(
                    "ASSUMED, not known: {}. The forecast is only as good as these guesses: replace them, or \
                     measure them with `rwsim calibrate --prometheus URL`.",
                    assumed.join(", ")
                ),
            );
        }
        if !self.notes.is_empty() {
            o.push_str("#\n# Not modelled, or worth knowing (listed, never dropped):\n");
            for n in &self.notes {
                comment_block(&mut o, &format!("- {}{}", if n.matters { "WARNING: " } else { "" }, n.text));
            }
        }
        o.push_str(
            "#\n# A healthy receiver as written; to forecast an incident add a fault, e.g. 2 hours of 503\n\
             # one hour in:\n#   [[receiver.fault]]\n#   start = \"1h\"\n#   end = \"3h\"\n#   status = 503\n\n",
        );
        let name_from = if self.name.ends_with("-assumed-series") {
            "the remote_write entry; \"-assumed-series\" shows in every result that the series are a guess"
        } else {
            "the remote_write entry"
        };
        kv(&mut o, "name", &toml_string(&self.name), &Provenance::Rwsim(name_from.into()));
        o.push_str(&format!("description = {}\n", toml_string(&self.description)));
        kv(&mut o, "prometheus", &toml_string(self.profile.value.as_str()), &self.profile.from);
        kv(&mut o, "duration", &dur(self.duration.value), &self.duration.from);

        o.push_str("\n[workload]\n");
        kv(&mut o, "series", &self.series.value.to_string(), &self.series.from);
        kv(&mut o, "targets", &self.targets.value.to_string(), &self.targets.from);
        kv(&mut o, "scrape_interval", &dur(self.scrape_interval.value), &self.scrape_interval.from);
        if let Some(d) = &self.scrape_duration {
            kv(&mut o, "scrape_duration", &dur(d.value), &d.from);
        }
        kv(
            &mut o,
            "wire_bytes_per_sample",
            &format_number(self.wire_bytes_per_sample.value),
            &self.wire_bytes_per_sample.from,
        );

        o.push_str("\n[remote_write]\n");
        if let Some(u) = &self.url {
            kv(&mut o, "url", &toml_string(&u.value), &u.from);
        }
        if let Some(n) = &self.remote_name {
            kv(&mut o, "name", &toml_string(&n.value), &n.from);
        }
        kv(&mut o, "remote_timeout", &dur(self.remote_timeout.value), &self.remote_timeout.from);

        let q = &self.queue;
        o.push_str("\n[remote_write.queue_config]\n");
        kv(&mut o, "capacity", &q.capacity.value.to_string(), &q.capacity.from);
        kv(&mut o, "max_shards", &q.max_shards.value.to_string(), &q.max_shards.from);
        kv(&mut o, "min_shards", &q.min_shards.value.to_string(), &q.min_shards.from);
        kv(&mut o, "max_samples_per_send", &q.max_samples_per_send.value.to_string(), &q.max_samples_per_send.from);
        kv(&mut o, "batch_send_deadline", &dur(q.batch_send_deadline.value), &q.batch_send_deadline.from);
        kv(&mut o, "min_backoff", &dur(q.min_backoff.value), &q.min_backoff.from);
        kv(&mut o, "max_backoff", &dur(q.max_backoff.value), &q.max_backoff.from);
        kv(&mut o, "retry_on_http_429", &q.retry_on_http_429.value.to_string(), &q.retry_on_http_429.from);
        if self.profile.value.has_sample_age_limit() {
            kv(&mut o, "sample_age_limit", &dur(q.sample_age_limit.value), &q.sample_age_limit.from);
        }

        o.push_str("\n[sender]\n");
        kv(&mut o, "flush_deadline", &dur(self.flush_deadline.value), &self.flush_deadline.from);
        kv(&mut o, "request_overhead", &dur(self.request_overhead.value), &self.request_overhead.from);

        o.push_str("\n[tsdb]\n");
        kv(&mut o, "min_block_duration", &dur(self.min_block_duration.value), &self.min_block_duration.from);
        kv(
            &mut o,
            "wal_segment_size",
            &toml_string(&format_size(self.wal_segment_size.value)),
            &self.wal_segment_size.from,
        );
        kv(
            &mut o,
            "wal_bytes_per_sample",
            &format_number(self.wal_bytes_per_sample.value),
            &self.wal_bytes_per_sample.from,
        );

        o.push_str("\n[receiver]\n");
        let latency = match self.latency.value {
            LatencyDraft::Fixed(d) => dur(d),
            LatencyDraft::LogNormal { median, p99 } => {
                format!("{{ distribution = \"lognormal\", median = {}, p99 = {} }}", dur(median), dur(p99))
            }
        };
        kv(&mut o, "latency", &latency, &self.latency.from);
        o
    }

    /// Renders and loads the scenario, as `rwsim run` would. An error names the scenario
    /// key; [`Draft::provenance_of`] finds where its value came from.
    pub fn load(&self, origin: &str) -> Result<Scenario, ScenarioError> {
        load_str(&self.render(), origin)
    }

    /// The provenance of a scenario key (`remote_write.queue_config.min_shards`), if the
    /// draft writes it.
    pub fn provenance_of(&self, key: &str) -> Option<&Provenance> {
        let q = &self.queue;
        Some(match key {
            "prometheus" => &self.profile.from,
            "duration" => &self.duration.from,
            "workload.series" => &self.series.from,
            "workload.targets" => &self.targets.from,
            "workload.scrape_interval" => &self.scrape_interval.from,
            "workload.scrape_duration" => &self.scrape_duration.as_ref()?.from,
            "workload.wire_bytes_per_sample" => &self.wire_bytes_per_sample.from,
            "remote_write.remote_timeout" => &self.remote_timeout.from,
            "remote_write.queue_config.capacity" => &q.capacity.from,
            "remote_write.queue_config.max_shards" => &q.max_shards.from,
            "remote_write.queue_config.min_shards" => &q.min_shards.from,
            "remote_write.queue_config.max_samples_per_send" => &q.max_samples_per_send.from,
            "remote_write.queue_config.batch_send_deadline" => &q.batch_send_deadline.from,
            "remote_write.queue_config.min_backoff" => &q.min_backoff.from,
            "remote_write.queue_config.max_backoff" => &q.max_backoff.from,
            "remote_write.queue_config.retry_on_http_429" => &q.retry_on_http_429.from,
            "remote_write.queue_config.sample_age_limit" => &q.sample_age_limit.from,
            "sender.flush_deadline" => &self.flush_deadline.from,
            "sender.request_overhead" => &self.request_overhead.from,
            "tsdb.min_block_duration" => &self.min_block_duration.from,
            "tsdb.wal_segment_size" => &self.wal_segment_size.from,
            "tsdb.wal_bytes_per_sample" => &self.wal_bytes_per_sample.from,
            "receiver.latency" => &self.latency.from,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(format_number(19.3), "19.3");
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(6.2549), "6.255");
        assert_eq!(format_number(0.0), "0");
    }

    #[test]
    fn long_provenance_goes_above_the_key_and_assumptions_are_loud() {
        let mut o = String::new();
        kv(&mut o, "capacity", "5000", &Provenance::Default("Prometheus 2.42 (config/config.go)".into()));
        assert_eq!(o, "capacity = 5000                 # default: Prometheus 2.42 (config/config.go)\n");
        let mut o = String::new();
        let long = "x ".repeat(60);
        kv(&mut o, "series", "1", &Provenance::Measured(long));
        assert!(o.starts_with("# measured: x x"), "{o}");
        assert!(o.lines().all(|l| l.len() <= MAX_LINE), "{o}");
        assert!(o.ends_with("series = 1\n"));
        let mut o = String::new();
        kv(&mut o, "series", "4000", &Provenance::Assumed("4 targets × 1000 series".into()));
        assert!(o.contains("ASSUMED: 4 targets"), "{o}");
        assert!(o.ends_with("series = 4000   # ASSUMED\n"), "{o}");
    }
}
