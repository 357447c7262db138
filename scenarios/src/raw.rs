//! The scenario file exactly as written: one serde struct per TOML table.
//!
//! Every table rejects unknown keys and every key is optional here; which keys are required,
//! the defaults and the relations between keys are decided when the file is converted into a
//! [`sim_core::config::SimConfig`]. Values that have a syntax of their own (durations, sizes,
//! HTTP statuses, latency models, the Prometheus version) are parsed by the `Deserialize`
//! impls below, so that toml attaches the position of the offending value to their errors.
//! Positions of keys are not stored here: the loader indexes them from the parsed document.

use crate::units;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use sim_core::config::Response;
use sim_core::profile::Profile;
use sim_core::time::{NANOS_PER_SEC, SimDuration};
use std::collections::BTreeMap;
use std::fmt;

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `prometheus`: `"2.42"` or `"3.x"`.
    pub prometheus: Option<Version>,
    /// `seed`.
    pub seed: Option<U64>,
    /// `duration` (required).
    pub duration: Option<Duration>,
    /// `start`: RFC 3339 UTC timestamp.
    pub start: Option<Timestamp>,
    /// `[workload]` (required).
    pub workload: Option<Workload>,
    /// `[remote_write]`.
    pub remote_write: Option<RemoteWrite>,
    /// `[sender]`.
    pub sender: Option<Sender>,
    /// `[tsdb]`.
    pub tsdb: Option<Tsdb>,
    /// `[receiver]`.
    pub receiver: Option<Receiver>,
    /// `[output]`.
    pub output: Option<Output>,
    /// `[simulation]`.
    pub simulation: Option<Simulation>,
    /// `[vmagent]`: vmagent's flags, for `[sender] mode = "vmagent"`.
    pub vmagent: Option<crate::vmagent::Vmagent>,
    /// `[sweep]`: scenario key → the values `rwsim sweep` gives it (see [`crate::sweep`]).
    /// Keys are dotted scenario keys, so they are quoted: `"remote_write.queue_config.capacity"`.
    pub sweep: Option<BTreeMap<String, SweepValues>>,
}

/// `[workload]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// `series` (required).
    pub series: Option<U64>,
    /// `scrape_interval`.
    pub scrape_interval: Option<Duration>,
    /// `targets`.
    pub targets: Option<U32>,
    /// `scrape_duration`: a duration or a distribution.
    pub scrape_duration: Option<Latency>,
    /// `report_series`.
    pub report_series: Option<bool>,
    /// `wire_bytes_per_sample`.
    pub wire_bytes_per_sample: Option<Number>,
    /// `[[workload.change]]`.
    pub change: Option<Vec<Change>>,
}

/// `[[workload.change]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// `at` (required).
    pub at: Option<Duration>,
    /// `series` (required).
    pub series: Option<U64>,
}

/// `[remote_write]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWrite {
    /// `url` (informational).
    pub url: Option<String>,
    /// `name` (informational).
    pub name: Option<String>,
    /// `remote_timeout`.
    pub remote_timeout: Option<Duration>,
    /// `[remote_write.queue_config]`.
    pub queue_config: Option<QueueConfig>,
}

/// The keys of [`QueueConfig`] (checked by a test): the scenario uses prometheus.yml's names,
/// so `rwsim import` reads the same keys and the hints list them.
pub use sim_core::config::QUEUE_CONFIG_KEYS;

/// `[remote_write.queue_config]`, with Prometheus's key names.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// `capacity`.
    pub capacity: Option<U32>,
    /// `max_shards`.
    pub max_shards: Option<U32>,
    /// `min_shards`.
    pub min_shards: Option<U32>,
    /// `max_samples_per_send`.
    pub max_samples_per_send: Option<U32>,
    /// `batch_send_deadline`.
    pub batch_send_deadline: Option<Duration>,
    /// `min_backoff`.
    pub min_backoff: Option<Duration>,
    /// `max_backoff`.
    pub max_backoff: Option<Duration>,
    /// `retry_on_http_429`.
    pub retry_on_http_429: Option<bool>,
    /// `sample_age_limit`.
    pub sample_age_limit: Option<Duration>,
}

/// `[sender]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    /// `flush_deadline`.
    pub flush_deadline: Option<Duration>,
    /// `reshard_tick_offset`.
    pub reshard_tick_offset: Option<Duration>,
    /// `request_overhead`.
    pub request_overhead: Option<Duration>,
    /// `cpu_us_per_sample`, microseconds.
    pub cpu_us_per_sample: Option<Number>,
    /// `cpu_cores`.
    pub cpu_cores: Option<Number>,
    /// `wal_persisted`.
    pub wal_persisted: Option<bool>,
    /// `wal_replay_bytes_per_second`, a size per second.
    pub wal_replay_bytes_per_second: Option<Size>,
    /// `scrape_start_delay`.
    pub scrape_start_delay: Option<Duration>,
    /// `memory_base`.
    pub memory_base: Option<Size>,
    /// `memory_per_series`, bytes.
    pub memory_per_series: Option<Number>,
    /// `replay_memory_factor`.
    pub replay_memory_factor: Option<Number>,
    /// `[[sender.event]]`.
    pub event: Option<Vec<SenderEvent>>,
    /// `mode`: `"server"`, `"agent"`, `"alloy"` or `"vmagent"`.
    pub mode: Option<String>,
    /// `[sender.agent]`: Prometheus agent mode's WAL flags.
    pub agent: Option<AgentWal>,
    /// `[sender.alloy]`: the `wal` block of Alloy's `prometheus.remote_write`.
    pub alloy: Option<AlloyWal>,
}

/// `[[sender.event]]`: every kind's keys in one table; the loader checks that only the
/// chosen kind's keys are given.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderEvent {
    /// `at` (required).
    pub at: Option<Duration>,
    /// `kind` (required): `restart`, `crash`, `reload`, `oom`.
    pub kind: Option<String>,
    /// restart, crash: `down_for`.
    pub down_for: Option<Duration>,
    /// restart, crash: `replay_time`.
    pub replay_time: Option<Duration>,
    /// reload: `change`.
    pub change: Option<String>,
    /// oom: `memory_limit`.
    pub memory_limit: Option<Size>,
    /// oom: `end`.
    pub end: Option<Duration>,
    /// oom: `backoff_initial`.
    pub backoff_initial: Option<Duration>,
    /// oom: `backoff_max`.
    pub backoff_max: Option<Duration>,
    /// oom: `backoff_reset`.
    pub backoff_reset: Option<Duration>,
}

/// `[sender.agent]`, named after the `--storage.agent.*` flags.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentWal {
    /// `wal_truncate_frequency` (`--storage.agent.wal-truncate-frequency`).
    pub wal_truncate_frequency: Option<Duration>,
    /// `retention_min_time` (`--storage.agent.retention.min-time`).
    pub retention_min_time: Option<Duration>,
    /// `retention_max_time` (`--storage.agent.retention.max-time`).
    pub retention_max_time: Option<Duration>,
}

/// `[sender.alloy]`, with Alloy's attribute names.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlloyWal {
    /// `truncate_frequency`.
    pub truncate_frequency: Option<Duration>,
    /// `min_keepalive_time`.
    pub min_keepalive_time: Option<Duration>,
    /// `max_keepalive_time`.
    pub max_keepalive_time: Option<Duration>,
}

/// `[tsdb]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tsdb {
    /// `min_block_duration`.
    pub min_block_duration: Option<Duration>,
    /// `wal_segment_size`.
    pub wal_segment_size: Option<Size>,
    /// `wal_bytes_per_sample`.
    pub wal_bytes_per_sample: Option<Number>,
}

/// `[receiver]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    /// `latency`.
    pub latency: Option<Latency>,
    /// `workers` (also accepted under its former name `max_concurrency`).
    #[serde(alias = "max_concurrency")]
    pub workers: Option<U32>,
    /// `queue_size`, requests waiting for a worker.
    pub queue_size: Option<U32>,
    /// `queue_full_status`.
    pub queue_full_status: Option<Status>,
    /// `request_overhead`.
    pub request_overhead: Option<Duration>,
    /// `worker_throughput`, samples per second per worker.
    pub worker_throughput: Option<Number>,
    /// `memory_base`.
    pub memory_base: Option<Size>,
    /// `memory_per_inflight_sample`, bytes.
    pub memory_per_inflight_sample: Option<Number>,
    /// `rate_limit`, samples per second.
    pub rate_limit: Option<Number>,
    /// `rate_limit_burst`, samples.
    pub rate_limit_burst: Option<U64>,
    /// `rate_limit_retry_after`.
    pub rate_limit_retry_after: Option<Duration>,
    /// `rate_limit_latency`: answer time of the limit's 429s.
    pub rate_limit_latency: Option<Latency>,
    /// `ingest_after_client_timeout`.
    pub ingest_after_client_timeout: Option<bool>,
    /// `[[receiver.fault]]`.
    pub fault: Option<Vec<Fault>>,
    /// `[[receiver.incident]]`.
    pub incident: Option<Vec<Incident>>,
}

/// `[[receiver.incident]]`: every kind's keys in one table; the loader checks that only the
/// chosen kind's keys are given.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// `kind` (required): `oom`, `rollout`, `proxy`, `throttle`, `reject`, `object_storage`, `network`.
    pub kind: Option<String>,
    /// `start`.
    pub start: Option<Duration>,
    /// `end`.
    pub end: Option<Duration>,
    /// oom: `memory_limit`.
    pub memory_limit: Option<Size>,
    /// oom: `crash_at`.
    pub crash_at: Option<Duration>,
    /// oom: `restart_time`.
    pub restart_time: Option<Duration>,
    /// oom: `replay_time`.
    pub replay_time: Option<Duration>,
    /// oom: `backoff_initial`.
    pub backoff_initial: Option<Duration>,
    /// oom: `backoff_max`.
    pub backoff_max: Option<Duration>,
    /// oom: `backoff_reset`.
    pub backoff_reset: Option<Duration>,
    /// oom: `while_down`.
    pub while_down: Option<Status>,
    /// oom: `replay_status`.
    pub replay_status: Option<Status>,
    /// rollout: `ingesters`.
    pub ingesters: Option<U32>,
    /// rollout: `replication_factor`.
    pub replication_factor: Option<U32>,
    /// rollout: `interval`.
    pub interval: Option<Duration>,
    /// rollout: `unready_for`.
    pub unready_for: Option<Duration>,
    /// rollout, reject, object_storage: `status`.
    pub status: Option<Status>,
    /// proxy: `read_timeout`.
    pub read_timeout: Option<Duration>,
    /// proxy: `timeout_status`.
    pub timeout_status: Option<Status>,
    /// proxy: `max_body_bytes`.
    pub max_body_bytes: Option<Size>,
    /// proxy: `body_too_large_status`.
    pub body_too_large_status: Option<Status>,
    /// throttle: `rate`, samples per second.
    pub rate: Option<Number>,
    /// throttle: `burst`, samples.
    pub burst: Option<U64>,
    /// throttle: `retry_after`.
    pub retry_after: Option<Duration>,
    /// reject: `fraction`.
    pub fraction: Option<Number>,
    /// reject: `per` — `"request"` or `"sample"`.
    pub per: Option<String>,
    /// reject: `reason`.
    pub reason: Option<String>,
    /// object_storage: `disk_headroom`.
    pub disk_headroom: Option<Size>,
    /// object_storage: `disk_bytes_per_sample`.
    pub disk_bytes_per_sample: Option<Number>,
    /// object_storage: `catch_up`.
    pub catch_up: Option<Duration>,
    /// network: `mode` — `"refused"` or `"blackhole"`.
    pub mode: Option<String>,
    /// throttle, reject: `latency`, the answer time of their errors.
    pub latency: Option<Latency>,
}

/// `[[receiver.fault]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// `start` (required).
    pub start: Option<Duration>,
    /// `end` (required).
    pub end: Option<Duration>,
    /// `status` (required).
    pub status: Option<Status>,
    /// `probability`.
    pub probability: Option<Number>,
    /// `retry_after`.
    pub retry_after: Option<Duration>,
    /// `latency`.
    pub latency: Option<Latency>,
}

/// `[output]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// `step`.
    pub step: Option<Duration>,
}

/// `[simulation]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    /// `max_events`.
    pub max_events: Option<U64>,
}

/// A latency model: a duration string (fixed) or an inline table with a `distribution`.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    /// `latency = "20ms"`.
    Fixed(SimDuration),
    /// `latency = { distribution = "...", ... }`; the parameters are checked on conversion.
    Table(LatencyTable),
}

/// The inline-table form of a latency model.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyTable {
    /// `"fixed"`, `"lognormal"`, `"exponential"` or `"uniform"`.
    pub distribution: Option<String>,
    /// fixed: `value`.
    pub value: Option<Duration>,
    /// lognormal: `median`.
    pub median: Option<Duration>,
    /// lognormal: `p99`.
    pub p99: Option<Duration>,
    /// exponential: `mean`.
    pub mean: Option<Duration>,
    /// uniform: `min`.
    pub min: Option<Duration>,
    /// uniform: `max`.
    pub max: Option<Duration>,
}

impl<'de> Deserialize<'de> for Latency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Latency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration such as "20ms" or a table such as { distribution = "lognormal", median = "20ms", p99 = "200ms" }"#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Latency, E> {
                units::parse_duration(s).map(Latency::Fixed).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Latency, A::Error> {
                LatencyTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(Latency::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// A duration string such as `"30s"` (see [`crate::units::parse_duration`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Duration(pub SimDuration);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration string such as "30s""#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
                units::parse_duration(s).map(Duration).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(r#"{v} is not a duration: write a string with a unit, e.g. "{v}s" or "{v}ms""#)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!(r#"{v} is not a duration: write a string with a unit, e.g. "{v}s" or "{v}ms""#)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(r#"{v} is not a duration: write a string with a unit, e.g. "30s""#)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A size: a string such as `"128MiB"` or an integer number of bytes (see
/// [`crate::units::parse_size`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a size such as "128MiB" or a number of bytes"#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Size, E> {
                units::parse_size(s).map(Size).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                u64::try_from(v).map(Size).map_err(|_| E::custom(format!("{v}: sizes cannot be negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size(v))
            }
        }
        d.deserialize_any(V)
    }
}

macro_rules! unsigned {
    ($(#[$doc:meta])* $name:ident, $t:ty) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub struct $name(pub $t);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl V {
                    fn range<E: de::Error>(v: impl fmt::Display) -> E {
                        E::custom(format!("expected an integer from 0 to {}, found {v}", <$t>::MAX))
                    }
                }
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "an integer from 0 to {}", <$t>::MAX)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        <$t>::try_from(v).map($name).map_err(|_| V::range(v))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        <$t>::try_from(v).map($name).map_err(|_| V::range(v))
                    }
                    fn visit_i128<E: de::Error>(self, v: i128) -> Result<$name, E> {
                        <$t>::try_from(v).map($name).map_err(|_| V::range(v))
                    }
                    fn visit_u128<E: de::Error>(self, v: u128) -> Result<$name, E> {
                        <$t>::try_from(v).map($name).map_err(|_| V::range(v))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        Err(E::custom(format!("expected an integer from 0 to {}, found the float {v}", <$t>::MAX)))
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

unsigned!(
    /// A non-negative integer that fits in 32 bits.
    U32,
    u32
);
unsigned!(
    /// A non-negative integer that fits in 64 bits.
    U64,
    u64
);

/// A number: TOML integer or float.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Number(pub f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// `prometheus = "2.42" | "3.x"`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Version(pub Profile);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#""2.42" or "3.x""#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Version, E> {
                if let Some(p) = Profile::parse(s) {
                    return Ok(Version(p));
                }
                let hint = if s.trim_start_matches('v').starts_with("3.") {
                    r#"; write "3.x" for any 3.x release (modelled on v3.14)"#.to_string()
                } else if let Ok((p, diffs)) = crate::import::profile_for_version(s) {
                    // The release's nearest model, as `rwsim import` picks it.
                    let n = diffs.len();
                    let unmodelled = match n {
                        0 => String::new(),
                        1 => " (with 1 difference; `rwsim import` names it)".to_string(),
                        _ => format!(" (with {n} differences; `rwsim import` names them)"),
                    };
                    format!("; for {s} write {:?}, its nearest model{unmodelled}", p.as_str())
                } else {
                    String::new()
                };
                Err(E::custom(format!(r#"unsupported Prometheus version {s:?}: expected "2.42" or "3.x"{hint}"#)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Version, E> {
                Err(E::custom(format!(
                    r#"expected "2.42" or "3.x" as a string, found the number {v}; write prometheus = "{v}""#
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// `start`: a UTC instant as Unix nanoseconds, written `"2024-01-01T00:00:00Z"` (a string or
/// a TOML offset date-time).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Timestamp(pub u64);

/// Latest accepted start, 2200-01-01T00:00:00Z, far from the end of the nanosecond clock.
const MAX_START_UNIX_SECS: u64 = 7_258_118_400;

pub(crate) fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    let t = humantime::parse_rfc3339(s).map_err(|_| {
        format!(r#"invalid timestamp {s:?}: expected an RFC 3339 UTC time such as "2024-01-01T00:00:00Z""#)
    })?;
    let since = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    if since.as_secs() >= MAX_START_UNIX_SECS {
        return Err(format!("{s} is too late: the start must be before 2200-01-01T00:00:00Z"));
    }
    Ok(Timestamp(since.as_secs() * NANOS_PER_SEC + u64::from(since.subsec_nanos())))
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an RFC 3339 UTC time such as "2024-01-01T00:00:00Z""#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
                parse_timestamp(s).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Timestamp, A::Error> {
                // A bare TOML date-time (`start = 2024-01-01T00:00:00Z`).
                let dt = toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if dt.date.is_none() || dt.time.is_none() || dt.offset.is_none() {
                    return Err(de::Error::custom(format!(
                        r#"{dt} is not a UTC instant: expected a date, a time and an offset such as "2024-01-01T00:00:00Z""#
                    )));
                }
                parse_timestamp(&dt.to_string()).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `status`: an HTTP status code or `"timeout"` / `"refused"`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Status(pub Response);

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl V {
            fn code<E: de::Error>(v: impl fmt::Display + Copy, code: Option<u16>) -> Result<Status, E> {
                code.map(|c| Status(Response::Status(c)))
                    .ok_or_else(|| E::custom(format!("{v} is not an HTTP status between 200 and 599")))
            }
        }
        impl Visitor<'_> for V {
            type Value = Status;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an HTTP status such as 503, or "timeout" or "refused""#)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Status, E> {
                V::code(v, u16::try_from(v).ok())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Status, E> {
                V::code(v, u16::try_from(v).ok())
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Status, E> {
                V::code(v, u16::try_from(v).ok())
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Status, E> {
                V::code(v, u16::try_from(v).ok())
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Status, E> {
                match s {
                    "timeout" => Ok(Status(Response::Timeout)),
                    "refused" => Ok(Status(Response::Refused)),
                    _ if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                        Err(E::custom(format!("write the status as an integer, without quotes: status = {s}")))
                    }
                    _ => Err(E::custom(format!(
                        r#"unknown status {s:?}: expected an HTTP status such as 503, or "timeout" (no answer until remote_timeout) or "refused" (connection refused)"#
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The values of one `[sweep]` key: a string in `--set` syntax (`"10..200:10"`,
/// `"2500,5000"`), an array of values (`[2500, 5000]`, `["30m", "1h"]`), or one value.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepValues {
    /// A list or range in `--set` syntax.
    Spec(String),
    /// An array (or a single value), each element as text: `2500`, `0.5`, `30m`, `true`.
    List(Vec<String>),
}

/// One element of a `[sweep]` array, as text.
struct SweepLiteral(String);

/// Shared by [`SweepValues`] and its array elements: scalars become their text.
macro_rules! sweep_scalars {
    ($out:expr) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($out(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($out(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($out(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok($out(format!("{v:?}")))
        }
    };
}

impl<'de> Deserialize<'de> for SweepLiteral {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SweepLiteral;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a value such as 2500, 0.5, "30m" or true"#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SweepLiteral, E> {
                Ok(SweepLiteral(s.to_string()))
            }
            sweep_scalars!(SweepLiteral);
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for SweepValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SweepValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an array of values such as [2500, 5000], or a string such as "10..200:10""#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SweepValues, E> {
                Ok(SweepValues::Spec(s.to_string()))
            }
            sweep_scalars!(|s| SweepValues::List(vec![s]));
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<SweepValues, A::Error> {
                let mut out = Vec::new();
                while let Some(SweepLiteral(s)) = seq.next_element()? {
                    out.push(s);
                }
                Ok(SweepValues::List(out))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<SweepValues, A::Error> {
                // TOML reads an unquoted dotted key (`remote_write.queue_config.max_shards = ...`)
                // as nested tables, which is never what a sweep means.
                Err(de::Error::custom(
                    "expected an array of values such as [2500, 5000], or a string such as \"10..200:10\", found a \
                     table; a [sweep] key with dots must be in quotes (\"remote_write.queue_config.max_shards\" = ...), \
                     or TOML reads it as nested tables",
                ))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_config_keys_are_the_fields_of_queue_config_in_order() {
        // serde names every field it expects, in declaration order, when it meets an unknown one.
        let e = toml::from_str::<QueueConfig>("bogus = 1").unwrap_err().to_string();
        let expected: Vec<String> = QUEUE_CONFIG_KEYS.iter().map(|k| format!("`{k}`")).collect();
        assert!(e.contains(&expected.join(", ")), "{e}");
    }
}
