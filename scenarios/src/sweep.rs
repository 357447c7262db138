//! Sweeps: which scenario keys vary, over which values, and the grid of their combinations.
//!
//! A sweep is a list of [`Axis`]es, each a scenario key ([`SweepKey`]) with the values it
//! takes. Axes come from the `[sweep]` table of a scenario file and from `rwsim sweep --set
//! KEY=VALUES`; both use the same value syntax ([`parse_values`]):
//!
//! - a list `2500,5000,10000` (or a TOML array in `[sweep]`);
//! - an inclusive range `A..B:STEP` such as `10..200:10` or `30m..6h:30m`: `A`, `A+STEP`, ...
//!   up to `B` (included when it lands on a step).
//!
//! The [`Grid`] is the Cartesian product of the axes, in axis order with the last axis
//! varying fastest; point `i` is the `i`-th combination. A point is loaded by applying its
//! values to the parsed TOML document before conversion and validation
//! ([`crate::Source::load_with`]), so every point is checked exactly like a file.
//!
//! Sweepable keys are the numeric, duration, size and boolean keys of the scenario schema,
//! with array indices as in errors (`receiver.fault[0].end`, `workload.change[1].series`),
//! plus one derived key: `receiver.fault[N].length` sets `end = start + length`.

use crate::hints;
use crate::units::{self, parse_duration, parse_size};
use sim_core::time::SimDuration;
use std::fmt;

/// Most points a grid may have. A sweep this large takes hours even on many machines; a
/// larger one is almost always a mistake in a range (a step of 1 instead of 100).
pub const MAX_POINTS: u64 = 100_000;

/// The type of a sweepable key's values.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A non-negative TOML integer.
    Integer,
    /// A non-negative number (integer or float).
    Number,
    /// A duration in scenario syntax (`"30s"`, `"1h30m"`).
    Duration,
    /// A size (`"128MiB"` or bytes).
    Size,
    /// A size of a vmagent flag, in vmagent's units (`KB`, `MB` powers of 1000, `KiB`, `MiB`
    /// powers of 1024), as `[vmagent]` reads it: the same text means the same bytes in the
    /// file and in a sweep.
    VmSize,
    /// `true` or `false`.
    Bool,
}

impl ValueKind {
    fn noun(self) -> &'static str {
        match self {
            ValueKind::Integer => "an integer",
            ValueKind::Number => "a number",
            ValueKind::Duration => "a duration",
            ValueKind::Size => "a size",
            ValueKind::VmSize => "a size in vmagent's units",
            ValueKind::Bool => "a boolean",
        }
    }
}

/// Every sweepable key, with `[]` standing for an array index.
const SWEEPABLE: &[(&str, ValueKind)] = &[
    ("duration", ValueKind::Duration),
    ("workload.series", ValueKind::Integer),
    ("workload.scrape_interval", ValueKind::Duration),
    ("workload.targets", ValueKind::Integer),
    ("workload.scrape_duration", ValueKind::Duration),
    ("workload.scrape_duration.value", ValueKind::Duration),
    ("workload.scrape_duration.median", ValueKind::Duration),
    ("workload.scrape_duration.p99", ValueKind::Duration),
    ("workload.scrape_duration.mean", ValueKind::Duration),
    ("workload.scrape_duration.min", ValueKind::Duration),
    ("workload.scrape_duration.max", ValueKind::Duration),
    ("workload.report_series", ValueKind::Bool),
    ("workload.wire_bytes_per_sample", ValueKind::Number),
    ("workload.change[].at", ValueKind::Duration),
    ("workload.change[].series", ValueKind::Integer),
    ("remote_write.remote_timeout", ValueKind::Duration),
    ("remote_write.queue_config.capacity", ValueKind::Integer),
    ("remote_write.queue_config.max_shards", ValueKind::Integer),
    ("remote_write.queue_config.min_shards", ValueKind::Integer),
    ("remote_write.queue_config.max_samples_per_send", ValueKind::Integer),
    ("remote_write.queue_config.batch_send_deadline", ValueKind::Duration),
    ("remote_write.queue_config.min_backoff", ValueKind::Duration),
    ("remote_write.queue_config.max_backoff", ValueKind::Duration),
    ("remote_write.queue_config.retry_on_http_429", ValueKind::Bool),
    ("remote_write.queue_config.sample_age_limit", ValueKind::Duration),
    ("sender.flush_deadline", ValueKind::Duration),
    ("sender.reshard_tick_offset", ValueKind::Duration),
    ("sender.request_overhead", ValueKind::Duration),
    ("sender.cpu_us_per_sample", ValueKind::Number),
    ("sender.cpu_cores", ValueKind::Number),
    ("sender.wal_persisted", ValueKind::Bool),
    ("sender.wal_replay_bytes_per_second", ValueKind::Size),
    ("sender.scrape_start_delay", ValueKind::Duration),
    ("sender.memory_base", ValueKind::Size),
    ("sender.memory_per_series", ValueKind::Number),
    ("sender.replay_memory_factor", ValueKind::Number),
    ("sender.event[].at", ValueKind::Duration),
    ("sender.event[].down_for", ValueKind::Duration),
    ("sender.event[].replay_time", ValueKind::Duration),
    ("sender.event[].memory_limit", ValueKind::Size),
    ("sender.event[].end", ValueKind::Duration),
    ("sender.agent.wal_truncate_frequency", ValueKind::Duration),
    ("sender.agent.retention_min_time", ValueKind::Duration),
    ("sender.agent.retention_max_time", ValueKind::Duration),
    ("sender.alloy.truncate_frequency", ValueKind::Duration),
    ("sender.alloy.min_keepalive_time", ValueKind::Duration),
    ("sender.alloy.max_keepalive_time", ValueKind::Duration),
    ("tsdb.min_block_duration", ValueKind::Duration),
    ("tsdb.wal_segment_size", ValueKind::Size),
    ("tsdb.wal_bytes_per_sample", ValueKind::Number),
    ("receiver.latency", ValueKind::Duration),
    ("receiver.latency.value", ValueKind::Duration),
    ("receiver.latency.median", ValueKind::Duration),
    ("receiver.latency.p99", ValueKind::Duration),
    ("receiver.latency.mean", ValueKind::Duration),
    ("receiver.latency.min", ValueKind::Duration),
    ("receiver.latency.max", ValueKind::Duration),
    ("receiver.max_concurrency", ValueKind::Integer),
    ("receiver.workers", ValueKind::Integer),
    ("receiver.queue_size", ValueKind::Integer),
    ("receiver.worker_throughput", ValueKind::Number),
    ("receiver.request_overhead", ValueKind::Duration),
    ("receiver.rate_limit", ValueKind::Number),
    ("receiver.rate_limit_burst", ValueKind::Integer),
    ("receiver.rate_limit_retry_after", ValueKind::Duration),
    ("receiver.ingest_after_client_timeout", ValueKind::Bool),
    ("receiver.fault[].start", ValueKind::Duration),
    ("receiver.fault[].end", ValueKind::Duration),
    ("receiver.fault[].length", ValueKind::Duration),
    ("receiver.fault[].status", ValueKind::Integer),
    ("receiver.fault[].probability", ValueKind::Number),
    ("receiver.fault[].retry_after", ValueKind::Duration),
    ("receiver.fault[].latency", ValueKind::Duration),
    ("receiver.fault[].latency.value", ValueKind::Duration),
    ("receiver.fault[].latency.median", ValueKind::Duration),
    ("receiver.fault[].latency.p99", ValueKind::Duration),
    ("receiver.fault[].latency.mean", ValueKind::Duration),
    ("receiver.fault[].latency.min", ValueKind::Duration),
    ("receiver.fault[].latency.max", ValueKind::Duration),
    ("vmagent.remoteWrite.queues", ValueKind::Integer),
    ("vmagent.remoteWrite.maxDiskUsagePerURL", ValueKind::VmSize),
    ("vmagent.remoteWrite.maxBlockSize", ValueKind::VmSize),
    ("vmagent.remoteWrite.maxRowsPerBlock", ValueKind::Integer),
    ("vmagent.remoteWrite.flushInterval", ValueKind::Duration),
    ("vmagent.remoteWrite.sendTimeout", ValueKind::Duration),
    ("vmagent.remoteWrite.rateLimit", ValueKind::VmSize),
    ("vmagent.remoteWrite.retryMinInterval", ValueKind::Duration),
    ("vmagent.remoteWrite.retryMaxInterval", ValueKind::Duration),
    ("vmagent.memory.allowedPercent", ValueKind::Number),
    ("vmagent.memory.allowedBytes", ValueKind::VmSize),
    ("vmagent.cpus", ValueKind::Integer),
    ("vmagent.host_memory", ValueKind::VmSize),
    ("vmagent.unpacked_bytes_per_sample", ValueKind::Number),
    ("output.step", ValueKind::Duration),
    ("simulation.max_events", ValueKind::Integer),
];

/// Keys of the schema that exist but hold no number: why they cannot be swept, and what to
/// do instead of `--set` for one run.
const NOT_SWEEPABLE: &[(&str, &str, &str)] = &[
    (
        "seed",
        "seeds are derived for every point and replication from the scenario's seed; use --replications for more seeds per point",
        "use --seed N",
    ),
    (
        "name",
        "it is a string, not a number or a duration; write one scenario file per value",
        "it is a string: edit the file",
    ),
    (
        "description",
        "it is a string, not a number or a duration; write one scenario file per value",
        "it is a string: edit the file",
    ),
    (
        "prometheus",
        "it is a version, not a number; write one scenario file per version",
        "it is a version: edit `prometheus` in the file",
    ),
    (
        "sender.mode",
        "it is a string, not a number; write one scenario file per sender",
        "it is a string: edit [sender] in the file",
    ),
    (
        "vmagent.version",
        "it is a version, not a number; write one scenario file per version",
        "it is a version: edit [vmagent] in the file",
    ),
    ("start", "it is a timestamp; sweep the fault windows' start or length instead", "use rwsim run --start TIME"),
    ("remote_write.url", "it is informational only", "it is informational only: edit the file"),
    ("remote_write.name", "it is informational only", "it is informational only: edit the file"),
    (
        "receiver.latency.distribution",
        "it is a string; write one scenario file per distribution",
        "it is a string: edit the file",
    ),
    (
        "receiver.fault[].latency.distribution",
        "it is a string; write one scenario file per distribution",
        "it is a string: edit the file",
    ),
];

/// Who gives a key its value, for the wording of errors: a sweep (its `[sweep]` table or
/// `rwsim sweep --set KEY=VALUES`) or the `--set KEY=VALUE` of one run (`run`, `budget`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum SetBy {
    /// A point of a sweep.
    #[default]
    Sweep,
    /// `--set KEY=VALUE` of `rwsim run` or `rwsim budget`.
    Flag,
}

impl SetBy {
    /// How errors say who set the value: "the sweep sets it to ...".
    pub fn sets(self) -> &'static str {
        match self {
            SetBy::Sweep => "the sweep sets it",
            SetBy::Flag => "--set sets it",
        }
    }
}

/// Derived key suffix: `receiver.fault[N].length` sets `end = start + length`.
const LENGTH: &str = "length";

/// What kind of problem a [`SweepError`] reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SweepErrorKind {
    /// No scenario key has this name.
    UnknownKey,
    /// The key exists but holds no number, duration, size or boolean.
    NotSweepable,
    /// A value or a range does not parse, or has the wrong type for the key.
    BadValue,
    /// A range whose end is below its start.
    EmptyRange,
    /// A range with a step of zero.
    ZeroStep,
    /// The same key swept twice, or the same value listed twice.
    Duplicate,
    /// Two axes that set the same thing (`end` and `length` of one fault).
    Conflict,
    /// The grid exceeds [`MAX_POINTS`].
    TooManyPoints,
}

/// A sweep specification that cannot be used. Displays as `KEY: MESSAGE`; the caller adds
/// where it came from (a `--set` flag, or the position in the `[sweep]` table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepError {
    /// The class of problem.
    pub kind: SweepErrorKind,
    /// The scenario key concerned, as written; empty for grid-wide errors.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for SweepError {}

fn error(kind: SweepErrorKind, key: &str, message: impl Into<String>) -> SweepError {
    SweepError { kind, key: key.to_string(), message: message.into() }
}

/// One step of a dotted key: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Name(String),
    Index(usize),
}

/// A sweepable scenario key such as `remote_write.queue_config.capacity` or
/// `receiver.fault[0].length`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepKey {
    text: String,
    kind: ValueKind,
    segments: Vec<Segment>,
}

impl SweepKey {
    /// Parses and checks a key against the scenario schema.
    ///
    /// ```
    /// use scenarios::sweep::{SweepKey, ValueKind};
    /// let k = SweepKey::parse("receiver.fault[0].length").unwrap();
    /// assert_eq!(k.kind(), ValueKind::Duration);
    /// let e = SweepKey::parse("remote_write.queue_config.max_shard").unwrap_err();
    /// assert_eq!(e.to_string(), "remote_write.queue_config.max_shard: unknown scenario key; did you mean `remote_write.queue_config.max_shards`?");
    /// ```
    pub fn parse(key: &str) -> Result<SweepKey, SweepError> {
        Self::parse_for(key, SetBy::Sweep)
    }

    /// [`SweepKey::parse`], with errors worded for `by` (`--set` of one run says "set", not
    /// "sweep").
    ///
    /// ```
    /// use scenarios::sweep::{SetBy, SweepKey};
    /// let e = SweepKey::parse_for("seed", SetBy::Flag).unwrap_err();
    /// assert_eq!(e.to_string(), "seed: cannot be set with --set: use --seed N");
    /// ```
    pub fn parse_for(key: &str, by: SetBy) -> Result<SweepKey, SweepError> {
        let key = key.trim();
        let segments = segments(key).ok_or_else(|| {
            error(
                SweepErrorKind::UnknownKey,
                key,
                "not a scenario key: write dotted keys with 0-based array indices, e.g. receiver.fault[0].end",
            )
        })?;
        let pattern = pattern_of(&segments);
        if let Some((_, kind)) = SWEEPABLE.iter().find(|(p, _)| *p == pattern) {
            return Ok(SweepKey { text: key.to_string(), kind: *kind, segments });
        }
        if let Some((_, sweep_why, set_why)) = NOT_SWEEPABLE.iter().find(|(p, ..)| *p == pattern) {
            let message = match by {
                SetBy::Sweep => format!("cannot be swept: {sweep_why}"),
                SetBy::Flag => format!("cannot be set with --set: {set_why}"),
            };
            return Err(error(SweepErrorKind::NotSweepable, key, message));
        }
        let prefix = format!("{pattern}.");
        if SWEEPABLE.iter().any(|(p, _)| p.starts_with(&prefix)) {
            let keys: Vec<String> = SWEEPABLE
                .iter()
                .filter(|(p, _)| p.starts_with(&prefix) && !p[prefix.len()..].contains('.'))
                .map(|(p, _)| instantiate(p, &segments))
                .collect();
            return Err(error(
                SweepErrorKind::NotSweepable,
                key,
                format!(
                    "is a table, not a value; {} one of its keys: {}",
                    if by == SetBy::Flag { "set" } else { "sweep" },
                    keys.join(", ")
                ),
            ));
        }
        // Suggest the closest key, with the user's own array indices.
        let candidates: Vec<String> = SWEEPABLE.iter().map(|(p, _)| instantiate(p, &segments)).collect();
        let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let hint = match hints::closest(key, &refs) {
            Some(guess) => format!("; did you mean `{guess}`?"),
            None => {
                let last = key.rsplit('.').next().unwrap_or(key);
                let homes: Vec<&str> = refs.iter().copied().filter(|c| c.rsplit('.').next() == Some(last)).collect();
                if homes.is_empty() {
                    match by {
                        SetBy::Sweep => "; the sweepable keys are listed in docs/scenario.md (section Sweeps)".into(),
                        SetBy::Flag => {
                            "; the keys --set takes (those a sweep takes) are listed in docs/scenario.md (section Sweeps)"
                                .into()
                        }
                    }
                } else {
                    format!("; did you mean `{}`?", homes.join("` or `"))
                }
            }
        };
        Err(error(SweepErrorKind::UnknownKey, key, format!("unknown scenario key{hint}")))
    }

    /// The key as written, e.g. `receiver.fault[0].end`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The type of its values.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// Whether this is the derived `receiver.fault[N].length`.
    pub fn is_length(&self) -> bool {
        matches!(self.segments.last(), Some(Segment::Name(n)) if n == LENGTH)
    }

    /// For `receiver.fault[N].length`, the key it sets: `receiver.fault[N].end`.
    pub fn end_key(&self) -> Option<String> {
        self.is_length().then(|| format!("{}end", &self.text[..self.text.len() - LENGTH.len()]))
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

impl fmt::Display for SweepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `a.b[2].c` → `[a, b, 2, c]`; `None` if malformed.
fn segments(key: &str) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return None;
        }
        out.push(Segment::Name(name.to_string()));
        while !rest.is_empty() {
            let close = rest.find(']')?;
            let digits = &rest[1..close];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            out.push(Segment::Index(digits.parse().ok()?));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return None;
            }
        }
    }
    Some(out)
}

/// `[receiver, fault, 0, end]` → `receiver.fault[].end`.
fn pattern_of(segments: &[Segment]) -> String {
    let mut s = String::new();
    for seg in segments {
        match seg {
            Segment::Name(n) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(n);
            }
            Segment::Index(_) => s.push_str("[]"),
        }
    }
    s
}

/// A pattern with its `[]` filled with the indices of `like` (or 0).
fn instantiate(pattern: &str, like: &[Segment]) -> String {
    let mut indices = like.iter().filter_map(|s| match s {
        Segment::Index(i) => Some(*i),
        Segment::Name(_) => None,
    });
    let mut out = String::new();
    for (i, part) in pattern.split("[]").enumerate() {
        if i > 0 {
            out.push_str(&format!("[{}]", indices.next().unwrap_or(0)));
        }
        out.push_str(part);
    }
    out
}

/// One value of a swept key.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Value {
    /// An integer.
    Integer(u64),
    /// A number.
    Number(f64),
    /// A duration.
    Duration(SimDuration),
    /// A size in bytes.
    Size(u64),
    /// A size in bytes of a vmagent flag, shown in vmagent's units.
    VmSize(u64),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// The value as a TOML literal, as it would be written in a scenario file.
    pub(crate) fn toml(&self) -> String {
        match *self {
            Value::Integer(n) | Value::Size(n) | Value::VmSize(n) => n.to_string(),
            // Debug keeps a `.0` or an exponent, so TOML reads a float back.
            Value::Number(x) => format!("{x:?}"),
            Value::Duration(d) => format!("\"{}\"", units::format_duration(d)),
            Value::Bool(b) => b.to_string(),
        }
    }
}

impl fmt::Display for Value {
    /// Scenario syntax without quotes: `2500`, `0.5`, `1h30m`, `128MiB`, `true`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Integer(n) => write!(f, "{n}"),
            Value::Number(x) => write!(f, "{x}"),
            Value::Duration(d) => f.write_str(&units::format_duration(d)),
            Value::Size(b) => f.write_str(&units::format_size(b)),
            Value::VmSize(b) => f.write_str(&crate::vmagent::format_vm_bytes(b)),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Parses one value of `kind`.
fn parse_one(kind: ValueKind, key: &str, s: &str) -> Result<Value, SweepError> {
    let s = s.trim();
    let bad = |why: String| error(SweepErrorKind::BadValue, key, why);
    match kind {
        ValueKind::Integer => s.replace('_', "").parse::<u64>().map(Value::Integer).map_err(|_| {
            bad(if s.starts_with('-') {
                match hints::documented_range(key) {
                    Some(range) => format!("{s:?}: must not be negative: an integer from {range}"),
                    None => format!("{s:?}: must not be negative"),
                }
            } else if let Some(n) = hints::unsuffixed(s) {
                format!("{s:?} is not {}: write {n}", kind.noun())
            } else {
                format!("{s:?} is not {}", kind.noun())
            })
        }),
        ValueKind::Number => match s.replace('_', "").parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(Value::Number(x)),
            Ok(_) => Err(bad(format!("{s:?}: must be a finite number, not negative"))),
            Err(_) => Err(bad(format!("{s:?} is not a number"))),
        },
        ValueKind::Duration => parse_duration(s).map(Value::Duration).map_err(|e| bad(e.to_string())),
        ValueKind::Size => parse_size(s).map(Value::Size).map_err(|e| bad(e.to_string())),
        ValueKind::VmSize => crate::vmagent::parse_vm_bytes(s).map(Value::VmSize).map_err(bad),
        ValueKind::Bool => match s {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(bad(format!("{s:?} is not a boolean: write true or false"))),
        },
    }
}

/// Parses the values of `key`: a list `a,b,c` or an inclusive range `A..B:STEP`.
///
/// ```
/// use scenarios::sweep::{SweepKey, parse_values};
/// let k = SweepKey::parse("receiver.fault[0].length").unwrap();
/// let v = parse_values(&k, "30m..2h:30m").unwrap();
/// let shown: Vec<String> = v.iter().map(|v| v.to_string()).collect();
/// assert_eq!(shown, ["30m", "1h", "1h30m", "2h"]);
/// let k = SweepKey::parse("remote_write.queue_config.max_shards").unwrap();
/// assert_eq!(parse_values(&k, "10..35:10").unwrap().len(), 3, "35 is not on a step");
/// assert!(parse_values(&k, "10..200:0").unwrap_err().to_string().contains("step"));
/// ```
pub fn parse_values(key: &SweepKey, spec: &str) -> Result<Vec<Value>, SweepError> {
    let k = key.as_str();
    let spec = spec.trim();
    if spec.is_empty() {
        return Err(error(
            SweepErrorKind::BadValue,
            k,
            "no values: write a list such as 2500,5000 or a range such as 10..200:10",
        ));
    }
    let values = match spec.split_once("..") {
        Some((a, rest)) => range(key, spec, a, rest)?,
        None => spec
            .split(',')
            .map(|s| {
                if s.trim().is_empty() {
                    Err(error(
                        SweepErrorKind::BadValue,
                        k,
                        format!("{spec:?} has an empty item: separate values by single commas"),
                    ))
                } else {
                    parse_one(key.kind, k, s)
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if let Some(v) = first_repeat(&values) {
        return Err(error(SweepErrorKind::Duplicate, k, format!("the value {v} is listed twice")));
    }
    Ok(values)
}

/// The first value (in list order) equal to an earlier one, in O(n log n): a `[sweep]` list
/// of 100,000 values compared pairwise took minutes.
fn first_repeat(values: &[Value]) -> Option<&Value> {
    // A total order that agrees with `==` on values that parse (numbers are finite and not
    // negative; `+ 0.0` makes -0 equal to 0).
    let rank = |v: &Value| -> (u8, u64) {
        match *v {
            Value::Integer(n) => (0, n),
            Value::Number(x) => (1, (x + 0.0).to_bits()),
            Value::Duration(d) => (2, d.nanos()),
            Value::Size(n) | Value::VmSize(n) => (3, n),
            Value::Bool(b) => (4, u64::from(b)),
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    values.iter().find(|v| !seen.insert(rank(v)))
}

fn range(key: &SweepKey, spec: &str, a: &str, rest: &str) -> Result<Vec<Value>, SweepError> {
    let k = key.as_str();
    let Some((b, step)) = rest.split_once(':') else {
        return Err(error(
            SweepErrorKind::BadValue,
            k,
            format!("the range {spec:?} has no step: write A..B:STEP, e.g. {}", example(key.kind)),
        ));
    };
    let (a, b, step) = (parse_one(key.kind, k, a)?, parse_one(key.kind, k, b)?, parse_one(key.kind, k, step)?);
    let empty = |a: &dyn fmt::Display, b: &dyn fmt::Display| {
        error(
            SweepErrorKind::EmptyRange,
            k,
            format!("the range {spec:?} is empty: its end ({b}) is below its start ({a})"),
        )
    };
    let zero = || {
        error(
            SweepErrorKind::ZeroStep,
            k,
            format!("the range {spec:?} has a step of 0: the step must be greater than 0"),
        )
    };
    let too_many = |n: u64| {
        error(
            SweepErrorKind::TooManyPoints,
            k,
            format!("the range {spec:?} has {n} values, more than the limit of {MAX_POINTS} points; use a larger step"),
        )
    };
    // Integers, durations and sizes: exact integer steps.
    let ints = |a: u64, b: u64, s: u64| -> Result<Vec<u64>, SweepError> {
        if s == 0 {
            return Err(zero());
        }
        if b < a {
            return Err(empty(&a, &b));
        }
        let n = (b - a) / s + 1;
        if n > MAX_POINTS {
            return Err(too_many(n));
        }
        Ok((0..n).map(|i| a + i * s).collect())
    };
    Ok(match (a, b, step) {
        (Value::Integer(a), Value::Integer(b), Value::Integer(s)) => {
            ints(a, b, s)?.into_iter().map(Value::Integer).collect()
        }
        (Value::Size(a), Value::Size(b), Value::Size(s)) => ints(a, b, s)?.into_iter().map(Value::Size).collect(),
        (Value::VmSize(a), Value::VmSize(b), Value::VmSize(s)) => {
            ints(a, b, s)?.into_iter().map(Value::VmSize).collect()
        }
        (Value::Duration(a), Value::Duration(b), Value::Duration(s)) => {
            if s.nanos() == 0 {
                return Err(zero());
            }
            if b < a {
                return Err(empty(&a, &b));
            }
            ints(a.nanos(), b.nanos(), s.nanos())?
                .into_iter()
                .map(|n| Value::Duration(SimDuration::from_nanos(n)))
                .collect()
        }
        (Value::Number(a), Value::Number(b), Value::Number(s)) => {
            if s == 0.0 {
                return Err(zero());
            }
            if b < a {
                return Err(empty(&a, &b));
            }
            // Tolerate float error at the end, and snap values to 1e-9 so 0.1 steps read as
            // 0.3, not 0.30000000000000004.
            let n = ((b - a) / s * (1.0 + 1e-12) + 1e-9).floor() + 1.0;
            if n > MAX_POINTS as f64 {
                return Err(too_many(n as u64));
            }
            (0..n as u64).map(|i| Value::Number(((a + i as f64 * s) * 1e9).round() / 1e9)).collect()
        }
        (Value::Bool(_), ..) => {
            return Err(error(SweepErrorKind::BadValue, k, "a boolean takes a list, not a range: write true,false"));
        }
        _ => unreachable!("all three parsed with the key's kind"),
    })
}

fn example(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Integer => "10..200:10",
        ValueKind::Number => "0.1..0.5:0.1",
        ValueKind::Duration => "30m..6h:30m",
        ValueKind::Size => "16MiB..128MiB:16MiB",
        ValueKind::VmSize => "500MB..2GB:500MB",
        ValueKind::Bool => "true,false",
    }
}

/// Where an axis was defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AxisOrigin {
    /// `--set KEY=VALUES` on the command line.
    Flag,
    /// The `[sweep]` table of the scenario file, at this 1-based line and column.
    File {
        /// Line of the value.
        line: usize,
        /// Column of the value.
        column: usize,
    },
}

/// One swept key and its values, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The key.
    pub key: SweepKey,
    /// The values as written (`10..200:10`), for reports.
    pub spec: String,
    /// Its values: at least one, no duplicates.
    pub values: Vec<Value>,
    /// Where it was defined.
    pub origin: AxisOrigin,
}

impl Axis {
    /// Parses `KEY=VALUES` as given to `--set`.
    ///
    /// ```
    /// let a = scenarios::sweep::Axis::from_flag("remote_write.queue_config.capacity=2500,5000").unwrap();
    /// assert_eq!(a.key.as_str(), "remote_write.queue_config.capacity");
    /// assert_eq!(a.values.len(), 2);
    /// ```
    pub fn from_flag(arg: &str) -> Result<Axis, SweepError> {
        let Some((key, spec)) = arg.split_once('=') else {
            return Err(error(
                SweepErrorKind::BadValue,
                "",
                format!("{arg:?}: expected KEY=VALUES, e.g. remote_write.queue_config.capacity=2500,5000"),
            ));
        };
        let key = SweepKey::parse(key)?;
        let values = parse_values(&key, spec)?;
        Ok(Axis { key, spec: spec.trim().to_string(), values, origin: AxisOrigin::Flag })
    }
}

/// The Cartesian product of the axes: point `i` takes, for each axis, the value selected by
/// the mixed-radix digits of `i` (the last axis varies fastest).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    axes: Vec<Axis>,
    points: u64,
}

impl Grid {
    /// Combines `file` axes (a scenario's `[sweep]` table) with `flags` (`--set`): a flag for
    /// a key already in the file replaces that axis in place; other flags are appended in
    /// order. Refuses a key swept twice on the command line, `end` and `length` of the same
    /// fault together, and grids of more than [`MAX_POINTS`] points. No axes at all make a
    /// grid of one point: the scenario as written.
    pub fn new(file: &[Axis], flags: Vec<Axis>) -> Result<Grid, SweepError> {
        let mut axes: Vec<Axis> = file.to_vec();
        let mut from_flags: Vec<&str> = Vec::new();
        for a in &flags {
            if from_flags.contains(&a.key.as_str()) {
                return Err(error(
                    SweepErrorKind::Duplicate,
                    a.key.as_str(),
                    "is given to --set twice: list all its values in one --set",
                ));
            }
            from_flags.push(a.key.as_str());
        }
        for a in flags {
            match axes.iter_mut().find(|x| x.key == a.key) {
                Some(x) => *x = a,
                None => axes.push(a),
            }
        }
        for a in &axes {
            if let Some(end) = a.key.end_key()
                && axes.iter().any(|x| x.key.as_str() == end)
            {
                return Err(error(
                    SweepErrorKind::Conflict,
                    a.key.as_str(),
                    format!("sets {end}, which is swept too: sweep one of them"),
                ));
            }
        }
        let mut points: u64 = 1;
        for a in &axes {
            points = points.saturating_mul(a.values.len() as u64);
        }
        if points > MAX_POINTS {
            let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
            return Err(error(
                SweepErrorKind::TooManyPoints,
                "",
                format!(
                    "the grid has {} points, more than the limit of {MAX_POINTS}; use fewer values or larger steps",
                    if points == u64::MAX {
                        "too many".to_string()
                    } else {
                        format!("{} = {points}", sizes.join(" × "))
                    }
                ),
            ));
        }
        Ok(Grid { axes, points })
    }

    /// The axes, in grid order.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Number of points.
    pub fn len(&self) -> u64 {
        self.points
    }

    /// Whether the grid has no points (never: a grid has at least one).
    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// The overrides of point `index` (`< len()`), one per axis, in axis order.
    pub fn point(&self, index: u64) -> Vec<Override> {
        assert!(index < self.points, "point {index} of {}", self.points);
        let mut rest = index;
        let mut out: Vec<Override> = Vec::with_capacity(self.axes.len());
        for a in self.axes.iter().rev() {
            let n = a.values.len() as u64;
            out.push(Override { key: a.key.clone(), value: a.values[(rest % n) as usize], by: SetBy::Sweep });
            rest /= n;
        }
        out.reverse();
        out
    }
}

/// One key set to one value.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The key.
    pub key: SweepKey,
    /// Its value.
    pub value: Value,
    /// Who sets it, for the wording of errors.
    pub by: SetBy,
}

impl Override {
    /// Parses `KEY=VALUE` (a single value), as given to `rwsim run --set`.
    pub fn from_flag(arg: &str) -> Result<Override, SweepError> {
        let Some((key, spec)) = arg.split_once('=') else {
            return Err(error(
                SweepErrorKind::BadValue,
                "",
                format!("{arg:?}: expected KEY=VALUE, e.g. remote_write.queue_config.capacity=5000"),
            ));
        };
        let key = SweepKey::parse_for(key, SetBy::Flag)?;
        let values = parse_values(&key, spec)?;
        match values.as_slice() {
            [v] => Ok(Override { key, value: *v, by: SetBy::Flag }),
            _ => Err(error(
                SweepErrorKind::BadValue,
                key.as_str(),
                format!(
                    "{:?} has {} values; --set takes one value here (rwsim sweep --set takes several)",
                    spec.trim(),
                    values.len()
                ),
            )),
        }
    }
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.key, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> SweepKey {
        SweepKey::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }
    fn shown(k: &str, spec: &str) -> Vec<String> {
        parse_values(&key(k), spec).unwrap_or_else(|e| panic!("{e}")).iter().map(|v| v.to_string()).collect()
    }
    fn err(k: &str, spec: &str) -> SweepError {
        parse_values(&key(k), spec).expect_err(spec)
    }
    const CAP: &str = "remote_write.queue_config.capacity";

    #[test]
    fn ranges_include_the_end_when_it_lands_on_a_step() {
        assert_eq!(shown(CAP, "2500..10000:2500"), ["2500", "5000", "7500", "10000"]);
        assert_eq!(shown(CAP, "10..35:10"), ["10", "20", "30"]);
        assert_eq!(shown(CAP, "7..7:1"), ["7"]);
        assert_eq!(shown(CAP, "1_000,2_000"), ["1000", "2000"]);
        assert_eq!(shown("receiver.fault[0].length", "30m..2h:45m"), ["30m", "1h15m", "2h"]);
        assert_eq!(shown("receiver.fault[0].probability", "0.1..0.5:0.1"), ["0.1", "0.2", "0.3", "0.4", "0.5"]);
        assert_eq!(shown("tsdb.wal_segment_size", "16MiB..64MiB:16MiB"), ["16MiB", "32MiB", "48MiB", "64MiB"]);
        assert_eq!(shown("remote_write.queue_config.retry_on_http_429", "true,false"), ["true", "false"]);
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        assert_eq!(err(CAP, "200..10:10").kind, SweepErrorKind::EmptyRange);
        assert_eq!(
            err(CAP, "200..10:10").to_string(),
            "remote_write.queue_config.capacity: the range \"200..10:10\" is empty: its end (10) is below its start (200)"
        );
        assert_eq!(err(CAP, "10..200:0").kind, SweepErrorKind::ZeroStep);
        assert_eq!(err("duration", "1h..2h:0s").kind, SweepErrorKind::ZeroStep);
        assert_eq!(err("receiver.rate_limit", "1..2:0.0").kind, SweepErrorKind::ZeroStep);
        assert!(err(CAP, "10..200").message.contains("no step"));
        assert!(err(CAP, "1,,2").message.contains("empty item"));
        assert!(err(CAP, "").message.contains("no values"));
        assert!(err(CAP, "-5").message.contains("negative"));
        assert!(err(CAP, "5s").message.contains("not an integer"));
        assert!(err("duration", "30").message.contains("unit is missing"));
        assert_eq!(err(CAP, "1,2,1").kind, SweepErrorKind::Duplicate);
        assert_eq!(err(CAP, "0..1000000000:1").kind, SweepErrorKind::TooManyPoints);
        assert!(err("workload.report_series", "true..false:true").message.contains("takes a list"));
    }

    #[test]
    fn keys_are_checked_against_the_schema() {
        let e = |k: &str| SweepKey::parse(k).unwrap_err();
        assert_eq!(e("remote_write.queue_config.max_shard").kind, SweepErrorKind::UnknownKey);
        assert!(e("receiver.fault[2].lenght").message.contains("`receiver.fault[2].length`"));
        assert!(e("capacity").message.contains("`remote_write.queue_config.capacity`"));
        assert_eq!(e("prometheus").kind, SweepErrorKind::NotSweepable);
        assert!(e("seed").message.contains("--replications"));
        assert!(e("remote_write.queue_config").message.contains("is a table"));
        assert_eq!(e("receiver.fault.end").kind, SweepErrorKind::UnknownKey);
        assert_eq!(e("receiver.fault[x].end").kind, SweepErrorKind::UnknownKey);
        assert_eq!(key("workload.change[1].series").kind(), ValueKind::Integer);
        assert_eq!(key("receiver.fault[3].length").end_key().as_deref(), Some("receiver.fault[3].end"));
    }

    #[test]
    fn grid_points_vary_the_last_axis_fastest() {
        let a = Axis::from_flag("remote_write.queue_config.capacity=1,2").unwrap();
        let b = Axis::from_flag("remote_write.queue_config.max_shards=10..30:10").unwrap();
        let g = Grid::new(&[a], vec![b]).unwrap();
        assert_eq!(g.len(), 6);
        let p: Vec<String> = g.point(4).iter().map(|o| o.value.to_string()).collect();
        assert_eq!(p, ["2", "20"]);
        assert_eq!(Grid::new(&[], vec![]).unwrap().len(), 1, "no axes: one point");
    }

    #[test]
    fn grids_refuse_conflicts_duplicates_and_excess() {
        let f = |s: &str| Axis::from_flag(s).unwrap();
        let e = Grid::new(&[], vec![f("receiver.fault[0].end=1h,2h"), f("receiver.fault[0].length=1h")]).unwrap_err();
        assert_eq!(e.kind, SweepErrorKind::Conflict);
        let e = Grid::new(&[], vec![f("duration=1h"), f("duration=2h")]).unwrap_err();
        assert_eq!(e.kind, SweepErrorKind::Duplicate);
        let e = Grid::new(
            &[],
            vec![
                f("remote_write.queue_config.capacity=1..1000:1"),
                f("remote_write.queue_config.max_shards=1..1000:1"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.kind, SweepErrorKind::TooManyPoints);
        assert!(e.message.contains("1000 × 1000 = 1000000"), "{e}");
        let flag_wins = Grid::new(&[f("duration=1h,2h")], vec![f("duration=3h")]).unwrap();
        assert_eq!(flag_wins.len(), 1);
    }
}
