//! Parse, convert and validate: TOML text → [`raw::ScenarioFile`] → [`Scenario`].
//!
//! Each step's errors are mapped to a position: toml gives the byte range of a bad value or
//! an unknown key, and the [`SpanIndex`] of the document turns dotted keys (from this module
//! and from [`SimConfig::validate`]) into positions.

use crate::error::{ErrorKind, ScenarioError};
use crate::raw::{self, ScenarioFile};
use crate::spans::{self, SpanIndex};
use crate::sweep::{Axis, AxisOrigin, Override, Segment, SweepError, SweepErrorKind, SweepKey, Value, parse_values};
use crate::units;
use crate::{Scenario, hints};
use serde::Deserialize;
use sim_core::config::{
    AgentWal, AlloyWal, ConfigError, DEFAULT_START_UNIX_SECS, DEFAULT_WIRE_BYTES_PER_SAMPLE, FaultWindow, Incident,
    Latency, QueueConfig, RateLimit, ReloadChange, Response, SenderEvent, SenderEventKind, SenderMode, SenderOom,
    SimConfig, WorkloadChange, WorkloadConfig,
};
use sim_core::profile::Profile;
use sim_core::time::{Clock, NANOS_PER_SEC, SimDuration};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// `prometheus` when the file does not say.
pub(crate) const DEFAULT_PROFILE: Profile = Profile::V3;
/// `seed` when the file does not say.
pub(crate) const DEFAULT_SEED: u64 = 1;
/// `workload.scrape_interval` default: Prometheus's `global.scrape_interval` default.
pub(crate) const DEFAULT_SCRAPE_INTERVAL: SimDuration = SimDuration::from_mins(1);
/// `workload.targets` default.
pub(crate) const DEFAULT_TARGETS: u32 = 1;
/// `[[receiver.fault]] probability` default.
pub(crate) const DEFAULT_FAULT_PROBABILITY: f64 = 1.0;

/// Every incident kind with its own keys (besides `kind`, `start` and `end`): the loader
/// refuses another kind's keys, and the unknown-key hints point here.
/// Every `[[sender.event]]` kind with its parameters (besides `kind` and `at`).
pub(crate) const SENDER_EVENT_KINDS: [(&str, &[&str]); 4] = [
    ("restart", &["down_for", "replay_time"]),
    ("crash", &["down_for", "replay_time"]),
    ("reload", &["change"]),
    ("oom", &["memory_limit", "end", "backoff_initial", "backoff_max", "backoff_reset"]),
];

/// `down_for` of a restart or crash when not given: a process manager restarting at once
/// plus start-up of the binary.
const DEFAULT_SENDER_DOWN_FOR: SimDuration = SimDuration::from_secs(10);

pub(crate) const INCIDENT_KINDS: [(&str, &[&str]); 7] = [
    (
        "oom",
        &[
            "memory_limit",
            "crash_at",
            "restart_time",
            "replay_time",
            "backoff_initial",
            "backoff_max",
            "backoff_reset",
            "while_down",
            "replay_status",
        ],
    ),
    ("rollout", &["ingesters", "replication_factor", "interval", "unready_for", "status"]),
    ("proxy", &["read_timeout", "timeout_status", "max_body_bytes", "body_too_large_status"]),
    ("throttle", &["rate", "burst", "retry_after", "latency"]),
    ("reject", &["fraction", "per", "status", "reason", "latency"]),
    ("object_storage", &["disk_headroom", "disk_bytes_per_sample", "catch_up", "status"]),
    ("network", &["mode"]),
];

/// Loads one scenario; `default_name` is used when the file has no `name`. `overrides` are
/// applied to the parsed document before it is deserialized, converted and validated, so an
/// overridden value is checked exactly like one written in the file.
pub(crate) fn load(
    text: &str,
    origin: &str,
    default_name: &str,
    overrides: &[Override],
    sender: Option<crate::compare::SenderChoice>,
) -> Result<Scenario, ScenarioError> {
    let doc = parse(text, origin)?;
    let index = SpanIndex::build(&doc);
    load_doc(text, origin, default_name, doc, &index, overrides, true, sender)
}

/// The parsed document of `text`.
pub(crate) fn parse<'t>(text: &'t str, origin: &str) -> Result<Spanned<DeTable<'t>>, ScenarioError> {
    DeTable::parse(text).map_err(|e| syntax_error(text, origin, &e))
}

/// [`load`] from a document parsed once (`index` is that of `text` as written). Without
/// `whole`, the scenario's `source` and `keys_set` are left empty: a sweep point needs its
/// configuration, not a copy of the file per point. With `sender`, the document is pointed
/// at that sender first (`rwsim compare`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn load_doc<'t>(
    text: &'t str,
    origin: &str,
    default_name: &str,
    doc: Spanned<DeTable<'t>>,
    index: &SpanIndex,
    overrides: &[Override],
    whole: bool,
    sender: Option<crate::compare::SenderChoice>,
) -> Result<Scenario, ScenarioError> {
    // TOML literals of the overrides; they must outlive the document they are put into.
    let literals: Vec<String> = overrides.iter().map(|o| o.value.toml()).collect();
    let mut doc: Spanned<DeTable<'_>> = doc;
    let mut ctx = Ctx { text, origin, index, applied: Vec::new(), whole };
    // Plain keys first, then `length`, which reads the (possibly swept) `start`.
    let order = (0..overrides.len())
        .filter(|&i| !overrides[i].key.is_length())
        .chain((0..overrides.len()).filter(|&i| overrides[i].key.is_length()));
    for i in order {
        ctx.apply(doc.get_mut(), &overrides[i], &literals[i])?;
    }
    let mut raw = ScenarioFile::deserialize(toml::de::Deserializer::from(doc)).map_err(|e| ctx.schema_error(&e))?;
    if let Some(s) = sender {
        s.retarget(&mut raw);
    }
    let mut scenario = ctx.convert(raw, default_name)?;
    scenario.config.validate().map_err(|e| ctx.invalid(e))?;
    if whole {
        scenario.set = overrides.to_vec();
    }
    Ok(scenario)
}

fn syntax_error(text: &str, origin: &str, e: &toml::de::Error) -> ScenarioError {
    let span = e.span().unwrap_or(0..0);
    let (line, column) = spans::line_col(text, span.start);
    let mut message = format!("TOML syntax error: {}", e.message());
    if e.message() == "duplicate key"
        && let Some(k) = text.get(span).filter(|k| !k.is_empty())
    {
        message = format!("TOML syntax error: duplicate key `{k}` (each key may appear once per table)");
    } else if let Some(hint) = hints::yaml_hint(text, line, origin) {
        message = format!("{message}: {hint}");
    }
    ScenarioError { origin: origin.to_string(), line, column, key: String::new(), message, kind: ErrorKind::Syntax }
}

/// What errors need to find their position.
struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
    /// Positions in the file as written (before overrides).
    index: &'a SpanIndex,
    /// Overrides put into the document, in order.
    applied: Vec<Applied>,
    /// Fill in the source text and the keys set (not for sweep points).
    whole: bool,
}

/// An override put into the document.
struct Applied {
    /// The key set: the override's key, or `end` for a fault's `length`.
    key: String,
    /// The span given to the new value: past the end of the text, unique to this override.
    span: Range<usize>,
    /// How errors about `key` explain the value.
    note: String,
}

impl Ctx<'_> {
    /// An error about `key`, at its value, or at the nearest enclosing table that is present.
    fn error(&self, key: &str, message: impl Into<String>, kind: ErrorKind) -> ScenarioError {
        self.error_at(key, self.index.offset_of(key), message, kind)
    }

    fn error_at(&self, key: &str, offset: usize, message: impl Into<String>, kind: ErrorKind) -> ScenarioError {
        let (line, column) = spans::line_col(self.text, offset);
        ScenarioError {
            origin: self.origin.to_string(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
            kind,
        }
    }

    fn schema(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        self.error(key, message, ErrorKind::Schema)
    }

    /// A required key that is absent.
    fn missing(&self, key: &str, what: &str) -> ScenarioError {
        self.schema(key, format!("required key is missing: {what}"))
    }

    /// Maps a toml/serde error to the key it concerns.
    fn schema_error(&self, e: &toml::de::Error) -> ScenarioError {
        let msg = e.message();
        let Some(span) = e.span() else {
            return self.error_at("", 0, hints::humanize(msg), ErrorKind::Schema);
        };
        if let Some(a) = self.applied.iter().find(|a| a.span == span) {
            let message = hints::integer_message(&a.key, hints::humanize(msg));
            return self.error(&a.key, format!("{message}; {}", a.note), ErrorKind::Schema);
        }
        if let Some(name) = msg.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
            let key = self.index.key_named_at(&span).unwrap_or(name).to_string();
            return self.error_at(&key, span.start, hints::unknown_key(&key, name, msg), ErrorKind::Schema);
        }
        let key = self.index.value_at(&span).unwrap_or("").to_string();
        let mut message = hints::integer_message(&key, hints::humanize(msg));
        if msg.starts_with("invalid type: map,") {
            // toml hands date-times to serde as maps; say what the user wrote.
            let value = self.text.get(span.clone()).unwrap_or("");
            if value.starts_with(|c: char| c.is_ascii_digit()) {
                message = message.replace("found a table", "found a date-time");
            } else if msg.ends_with("expected a sequence") {
                message = format!("expected an array of tables, found a table: write [[{key}]] with double brackets");
            }
        }
        if key == "sender" && msg.starts_with("invalid type: string") {
            // `sender = "alloy"` (the sending program is a key of the table).
            let value = self.text.get(span.clone()).unwrap_or("\"server\"");
            message = format!("{message}: the sender is chosen in its table, write [sender] and mode = {value}");
        }
        self.error_at(&key, span.start, message, ErrorKind::Schema)
    }

    /// Maps a [`SimConfig::validate`] error to its key; notes when the value is a default.
    fn invalid(&self, e: ConfigError) -> ScenarioError {
        let mut message = e.message;
        if let Some(a) = self.applied.iter().rev().find(|a| a.key == e.key) {
            message.push_str(&format!("; {}", a.note));
        } else if !e.key.is_empty() && !self.index.contains(&e.key) {
            let name = e.key.rsplit('.').next().unwrap_or(&e.key);
            message.push_str(&format!("; `{name}` is not set in this file, so this is its default"));
        }
        self.error(&e.key, message, ErrorKind::Invalid)
    }

    /// Puts one override into the document.
    fn apply<'t>(&mut self, doc: &mut DeTable<'t>, o: &Override, literal: &'t str) -> Result<(), ScenarioError> {
        let span_start = self.text.len() + 1 + 2 * self.applied.len();
        let span = span_start..span_start + 1;
        let key = o.key.as_str();
        let fail = |message: String| self.schema(key, message);
        let (target, value, note) = if o.key.is_length() {
            let segs = o.key.segments();
            let fault = &segs[..segs.len() - 1];
            let start_key = format!("{}start", &key[..key.len() - "length".len()]);
            let start = match lookup(doc, fault).and_then(|t| t.get("start")).map(|v| v.get_ref()) {
                Some(DeValue::String(s)) => {
                    units::parse_duration(s).map_err(|e| self.schema(&start_key, e.to_string()))?
                }
                _ => {
                    return Err(fail(format!(
                        "sets end = start + length, but {start_key} is not a duration in this file"
                    )));
                }
            };
            let Value::Duration(length) = o.value else { unreachable!("length is a duration key") };
            let end = SimDuration::from_nanos(start.nanos().saturating_add(length.nanos()));
            let mut segs = fault.to_vec();
            segs.push(Segment::Name("end".into()));
            let end_text = units::format_duration(end);
            let note = format!(
                "{sets} to start + length = {start_text} + {len} = {end_text} ({key} = {len})",
                sets = o.by.sets(),
                start_text = units::format_duration(start),
                len = o.value,
            );
            (segs, DeValue::String(Cow::Owned(end_text)), note)
        } else {
            let value = DeValue::parse(literal).expect("override literals are valid TOML").into_inner();
            let note = format!("{} to {}", o.by.sets(), o.value);
            (o.key.segments().to_vec(), value, note)
        };
        set_path(doc, &target, "", Spanned::new(span.clone(), value)).map_err(fail)?;
        self.applied.push(Applied {
            key: match o.key.end_key() {
                Some(end) => end,
                None => key.to_string(),
            },
            span,
            note,
        });
        Ok(())
    }

    /// The keys the file or an override gives a value (`[sweep]` excluded), sorted: a model
    /// constant among them is the user's, not a default to vary.
    fn keys_set(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .index
            .paths()
            .filter(|p| *p != "sweep" && !p.starts_with("sweep."))
            .map(str::to_string)
            .chain(self.applied.iter().map(|a| a.key.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The axes of the `[sweep]` table, in file order.
    fn sweep_axes(&self, table: Option<BTreeMap<String, raw::SweepValues>>) -> Result<Vec<Axis>, ScenarioError> {
        let mut axes = Vec::new();
        for (name, values) in table.unwrap_or_default() {
            let path = format!("sweep.{name}");
            let shown = format!("sweep.\"{name}\"");
            let at = |path: &str, e: SweepError| {
                self.error_at(&shown, self.index.offset_of(path), e.message, ErrorKind::Schema)
            };
            let key = SweepKey::parse(&name).map_err(|e| at(&path, e))?;
            let (spec, parsed) = match values {
                raw::SweepValues::Spec(spec) => {
                    let v = parse_values(&key, &spec).map_err(|e| at(&path, e))?;
                    (spec, v)
                }
                raw::SweepValues::List(items) => {
                    if items.is_empty() {
                        return Err(at(
                            &path,
                            SweepError {
                                kind: SweepErrorKind::BadValue,
                                key: name.clone(),
                                message: "no values: list at least one".into(),
                            },
                        ));
                    }
                    let mut v = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let one = parse_values(&key, item).map_err(|e| at(&format!("{path}[{i}]"), e))?;
                        v.extend(one);
                    }
                    // Duplicates across elements, with the same wording as a `--set` list.
                    let joined = items.join(",");
                    parse_values(&key, &joined).map_err(|e| at(&path, e))?;
                    (joined, v)
                }
            };
            let offset = self.index.offset_of(&path);
            let (line, column) = spans::line_col(self.text, offset);
            axes.push((offset, Axis { key, spec, values: parsed, origin: AxisOrigin::File { line, column } }));
        }
        axes.sort_by_key(|(offset, _)| *offset);
        Ok(axes.into_iter().map(|(_, a)| a).collect())
    }

    fn convert(&self, raw: ScenarioFile, default_name: &str) -> Result<Scenario, ScenarioError> {
        let profile = raw.prometheus.map_or(DEFAULT_PROFILE, |v| v.0);
        let sweep = raw.sweep;
        let base = SimConfig::baseline(profile);

        let name = match raw.name {
            Some(n) if n.trim().is_empty() => return Err(self.schema("name", "must not be empty")),
            Some(n) => n,
            None => default_name.to_string(),
        };
        let duration =
            raw.duration.ok_or_else(|| self.missing("duration", r#"the length of the run, e.g. duration = "2h""#))?.0;
        let start_unix_nanos = raw.start.map_or(DEFAULT_START_UNIX_SECS * NANOS_PER_SEC, |t| t.0);

        let w = raw.workload.ok_or_else(|| {
            self.schema("workload", "required table is missing: add a [workload] table with at least `series = 100000`")
        })?;
        let workload = self.workload(w)?;

        let s = raw.sender.unwrap_or_default();
        let t = raw.tsdb.unwrap_or_default();
        let mut sender = base.sender.clone();
        sender.mode = self.sender_mode(&s, &t)?;
        self.vmagent_table(&mut sender.mode, raw.vmagent.as_ref(), raw.remote_write.as_ref(), &s)?;
        set(&mut sender.flush_deadline, s.flush_deadline.map(|d| d.0));
        set(&mut sender.reshard_tick_offset, s.reshard_tick_offset.map(|d| d.0));
        set(&mut sender.request_overhead, s.request_overhead.map(|d| d.0));
        if let Some(us) = s.cpu_us_per_sample {
            if !(us.0 >= 0.0 && us.0 <= 1000.0) {
                return Err(self.schema("sender.cpu_us_per_sample", "must be between 0 and 1000 microseconds"));
            }
            sender.cpu_per_sample = SimDuration::from_nanos((us.0 * 1000.0).round() as u64);
        }
        set(&mut sender.cpu_cores, s.cpu_cores.map(|n| n.0));
        set(&mut sender.wal_persisted, s.wal_persisted);
        set(&mut sender.wal_replay_bytes_per_second, s.wal_replay_bytes_per_second.map(|b| b.0 as f64));
        set(&mut sender.scrape_start_delay, s.scrape_start_delay.map(|d| d.0));
        set(&mut sender.memory.base, s.memory_base.map(|b| b.0));
        set(&mut sender.memory.per_series, s.memory_per_series.map(|n| n.0));
        set(&mut sender.memory.replay_factor, s.replay_memory_factor.map(|n| n.0));
        sender.events = Vec::new();
        for (i, e) in s.event.unwrap_or_default().into_iter().enumerate() {
            sender.events.push(self.sender_event(&format!("sender.event[{i}]"), e)?);
        }

        let rw = raw.remote_write.unwrap_or_default();
        let (remote_name, url) = (rw.name.clone(), rw.url.clone());
        let mut remote_write = base.remote_write.clone();
        if let Some(t) = rw.remote_timeout {
            remote_write.remote_timeout = t.0;
        }
        remote_write.queue = queue_config(rw.queue_config.unwrap_or_default(), profile, &sender.mode);

        let mut tsdb = base.tsdb.clone();
        set(&mut tsdb.min_block_duration, t.min_block_duration.map(|d| d.0));
        set(&mut tsdb.wal_segment_size, t.wal_segment_size.map(|s| s.0));
        set(&mut tsdb.wal_bytes_per_sample, t.wal_bytes_per_sample.map(|n| n.0));

        let receiver = self.receiver(raw.receiver.unwrap_or_default(), &base)?;

        let mut output_step = base.output_step;
        set(&mut output_step, raw.output.unwrap_or_default().step.map(|d| d.0));
        let mut limits = base.limits.clone();
        set(&mut limits.max_events, raw.simulation.unwrap_or_default().max_events.map(|n| n.0));

        let config = SimConfig {
            name: name.clone(),
            profile,
            seed: raw.seed.map_or(DEFAULT_SEED, |s| s.0),
            duration,
            clock: Clock { start_unix_nanos },
            workload,
            remote_write,
            sender,
            tsdb,
            receiver,
            output_step,
            limits,
        };
        Ok(Scenario {
            name,
            description: raw.description,
            config,
            origin: self.origin.to_string(),
            remote_name,
            url,
            source: if self.whole { self.text.to_string() } else { String::new() },
            sweep: self.sweep_axes(sweep)?,
            keys_set: if self.whole { self.keys_set() } else { Vec::new() },
            set: Vec::new(),
        })
    }

    /// `[sender] mode` and the table of its WAL settings. Settings the chosen sender does not
    /// have are refused, as Prometheus refuses server-only flags in agent mode.
    fn sender_mode(&self, s: &raw::Sender, t: &raw::Tsdb) -> Result<SenderMode, ScenarioError> {
        const MODES: &str = r#""server", "agent", "alloy" or "vmagent""#;
        let mode = match s.mode.as_deref() {
            None | Some("server") => SenderMode::Server,
            // Its flags are read from `[vmagent]` by `vmagent_table`.
            Some("vmagent") => SenderMode::Vmagent(Default::default()),
            Some("agent") => {
                let a = s.agent.clone().unwrap_or_default();
                let mut wal = AgentWal::default();
                set(&mut wal.wal_truncate_frequency, a.wal_truncate_frequency.map(|d| d.0));
                set(&mut wal.retention_min_time, a.retention_min_time.map(|d| d.0));
                set(&mut wal.retention_max_time, a.retention_max_time.map(|d| d.0));
                SenderMode::Agent(wal)
            }
            Some("alloy") => {
                let a = s.alloy.clone().unwrap_or_default();
                let mut wal = AlloyWal::default();
                set(&mut wal.truncate_frequency, a.truncate_frequency.map(|d| d.0));
                set(&mut wal.min_keepalive_time, a.min_keepalive_time.map(|d| d.0));
                set(&mut wal.max_keepalive_time, a.max_keepalive_time.map(|d| d.0));
                SenderMode::Alloy(wal)
            }
            Some(other) => {
                let hint = if ["server", "agent", "alloy", "vmagent"].contains(&other.to_ascii_lowercase().as_str()) {
                    " (in lower case)"
                } else {
                    ""
                };
                return Err(self.schema("sender.mode", format!("unknown sender {other:?}: expected {MODES}{hint}")));
            }
        };
        let name = mode.name();
        if s.agent.is_some() && name != "agent" {
            return Err(self.schema(
                "sender.agent",
                format!(
                    "[sender.agent] holds Prometheus agent mode's WAL flags; it applies only with mode = \"agent\", \
                     and this sender is {name}"
                ),
            ));
        }
        if s.alloy.is_some() && name != "alloy" {
            return Err(self.schema(
                "sender.alloy",
                format!(
                    "[sender.alloy] holds the wal block of Alloy's prometheus.remote_write; it applies only with \
                     mode = \"alloy\", and this sender is {name}"
                ),
            ));
        }
        if name == "vmagent" {
            let refused = [
                (t.min_block_duration.is_some(), "tsdb.min_block_duration"),
                (t.wal_segment_size.is_some(), "tsdb.wal_segment_size"),
                (t.wal_bytes_per_sample.is_some(), "tsdb.wal_bytes_per_sample"),
            ];
            if let Some((_, key)) = refused.iter().find(|(set, _)| *set) {
                return Err(self.schema(
                    key,
                    "vmagent has no WAL: its queue is in memory and on disk, set with [vmagent] remoteWrite.* flags; \
                     remove the key",
                ));
            }
            let refused = [
                (
                    s.flush_deadline.is_some(),
                    "sender.flush_deadline",
                    "vmagent gives sends in flight a fixed 5s at shutdown",
                ),
                (
                    s.wal_persisted.is_some(),
                    "sender.wal_persisted",
                    "vmagent has no WAL; its disk queue always survives a restart",
                ),
                (
                    s.wal_replay_bytes_per_second.is_some(),
                    "sender.wal_replay_bytes_per_second",
                    "vmagent has no WAL to replay",
                ),
                (s.reshard_tick_offset.is_some(), "sender.reshard_tick_offset", "vmagent never reshards"),
            ];
            if let Some((_, key, why)) = refused.iter().find(|(set, _, _)| *set) {
                return Err(self.schema(key, format!("{why}: remove the key")));
            }
        }
        if name != "server" && name != "vmagent" && t.min_block_duration.is_some() {
            let period =
                if name == "agent" { "sender.agent.wal_truncate_frequency" } else { "sender.alloy.truncate_frequency" };
            return Err(self.schema(
                "tsdb.min_block_duration",
                format!(
                    "the block range of a server's TSDB; {} has no head blocks (Prometheus refuses \
                     --storage.tsdb.min-block-duration in agent mode): its WAL is truncated every {period}",
                    if name == "agent" { "agent mode" } else { "Alloy" }
                ),
            ));
        }
        if name == "alloy" {
            if t.wal_segment_size.is_some() {
                return Err(self.schema(
                    "tsdb.wal_segment_size",
                    "Alloy's WAL segments are fixed at 128MiB; it has no setting for their size: remove the key",
                ));
            }
            if s.flush_deadline.is_some() {
                return Err(self.schema(
                    "sender.flush_deadline",
                    "Alloy's flush deadline is fixed at 1m; it has no setting for it: remove the key",
                ));
            }
        }
        Ok(mode)
    }

    /// `[vmagent]`: its flags go into the mode; Prometheus's queue settings are refused for
    /// vmagent, and `[vmagent]` for any other sender.
    fn vmagent_table(
        &self,
        mode: &mut SenderMode,
        table: Option<&crate::vmagent::Vmagent>,
        rw: Option<&raw::RemoteWrite>,
        s: &raw::Sender,
    ) -> Result<(), ScenarioError> {
        let SenderMode::Vmagent(cfg) = mode else {
            if table.is_some() {
                return Err(self.schema(
                    "vmagent",
                    format!(
                        "[vmagent] holds vmagent's flags; it applies only with [sender] mode = \"vmagent\", and this \
                         sender is {}",
                        mode.name()
                    ),
                ));
            }
            return Ok(());
        };
        if let Some(rw) = rw {
            if rw.queue_config.is_some() {
                return Err(self.schema(
                    "remote_write.queue_config",
                    "vmagent has no queue_config: its queue is set with [vmagent] remoteWrite.* flags \
                     (remoteWrite.queues, maxBlockSize, maxRowsPerBlock, flushInterval, maxDiskUsagePerURL)",
                ));
            }
            if rw.remote_timeout.is_some() {
                return Err(self.schema(
                    "remote_write.remote_timeout",
                    "vmagent's per-request timeout is [vmagent] remoteWrite.sendTimeout (default 1m)",
                ));
            }
        }
        for (i, e) in s.event.iter().flatten().enumerate() {
            if e.replay_time.is_some() {
                return Err(self.schema(
                    &format!("sender.event[{i}].replay_time"),
                    "vmagent has no WAL to replay: it scrapes again as soon as it starts; remove the key",
                ));
            }
        }
        *cfg =
            crate::vmagent::convert(&table.cloned().unwrap_or_default()).map_err(|e| self.schema(&e.key, e.message))?;
        Ok(())
    }

    fn workload(&self, w: raw::Workload) -> Result<WorkloadConfig, ScenarioError> {
        let series = w
            .series
            .ok_or_else(|| self.missing("workload.series", "the number of scraped series, e.g. series = 100000"))?
            .0;
        let mut changes = Vec::new();
        for (i, c) in w.change.unwrap_or_default().into_iter().enumerate() {
            let key = format!("workload.change[{i}]");
            let at =
                c.at.ok_or_else(|| self.missing(&format!("{key}.at"), r#"when the change happens, e.g. at = "30m""#))?;
            let series = c.series.ok_or_else(|| {
                self.missing(&format!("{key}.series"), "the new number of series, e.g. series = 200000")
            })?;
            changes.push(WorkloadChange { at: at.0, series: series.0 });
        }
        Ok(WorkloadConfig {
            series,
            scrape_interval: w.scrape_interval.map_or(DEFAULT_SCRAPE_INTERVAL, |d| d.0),
            targets: w.targets.map_or(DEFAULT_TARGETS, |t| t.0),
            scrape_duration: match w.scrape_duration {
                Some(l) => self.latency("workload.scrape_duration", l)?,
                None => Latency::Fixed(SimDuration::ZERO),
            },
            report_series: w.report_series.unwrap_or(true),
            wire_bytes_per_sample: w.wire_bytes_per_sample.map_or(DEFAULT_WIRE_BYTES_PER_SAMPLE, |n| n.0),
            changes,
        })
    }

    fn receiver(&self, r: raw::Receiver, base: &SimConfig) -> Result<sim_core::config::ReceiverConfig, ScenarioError> {
        let mut rc = base.receiver.clone();
        if let Some(l) = r.latency {
            rc.latency = self.latency("receiver.latency", l)?;
        }
        rc.workers = r.workers.map(|n| n.0);
        rc.queue_size = r.queue_size.map(|n| n.0);
        if let Some(st) = r.queue_full_status {
            rc.queue_full_status = self.http_status("receiver.queue_full_status", st)?;
        }
        set(&mut rc.request_overhead, r.request_overhead.map(|d| d.0));
        rc.worker_throughput = r.worker_throughput.map(|n| n.0);
        set(&mut rc.memory_base, r.memory_base.map(|b| b.0));
        set(&mut rc.memory_per_inflight_sample, r.memory_per_inflight_sample.map(|n| n.0));
        rc.rate_limit = match r.rate_limit {
            Some(rate) => Some(RateLimit {
                samples_per_second: rate.0,
                // `as` saturates, and NaN becomes 0; validate() refuses such rates first.
                burst: r.rate_limit_burst.map_or(rate.0.ceil() as u64, |b| b.0),
                retry_after: r.rate_limit_retry_after.map(|d| d.0),
                latency: match r.rate_limit_latency {
                    Some(l) => Some(self.latency("receiver.rate_limit_latency", l)?),
                    None => None,
                },
            }),
            None => {
                for k in ["rate_limit_burst", "rate_limit_retry_after", "rate_limit_latency"] {
                    let key = format!("receiver.{k}");
                    if self.index.contains(&key) {
                        return Err(self.schema(&key, "has no effect without receiver.rate_limit; set both or neither"));
                    }
                }
                None
            }
        };
        set(&mut rc.ingest_after_client_timeout, r.ingest_after_client_timeout);
        rc.faults = Vec::new();
        for (i, f) in r.fault.unwrap_or_default().into_iter().enumerate() {
            let key = format!("receiver.fault[{i}]");
            let need = |k: &str, what: &str| self.missing(&format!("{key}.{k}"), what);
            let start = f.start.ok_or_else(|| need("start", r#"offset where the fault begins, e.g. start = "30m""#))?;
            let end = f.end.ok_or_else(|| need("end", r#"offset where the fault ends, e.g. end = "45m""#))?;
            let status = f
                .status
                .ok_or_else(|| need("status", r#"the answer, an HTTP status such as 503 or "timeout" or "refused""#))?;
            if f.retry_after.is_some() && matches!(status.0, Response::Timeout | Response::Refused) {
                return Err(self.schema(
                    &format!("{key}.retry_after"),
                    format!(r#"has no effect with status = "{}": no response is sent"#, status_word(status.0)),
                ));
            }
            let latency = match f.latency {
                Some(l) => Some(self.latency(&format!("{key}.latency"), l)?),
                None => None,
            };
            rc.faults.push(FaultWindow {
                start: start.0,
                end: end.0,
                response: status.0,
                probability: f.probability.map_or(DEFAULT_FAULT_PROBABILITY, |p| p.0),
                retry_after: f.retry_after.map(|d| d.0),
                latency,
            });
        }
        rc.incidents = Vec::new();
        for (i, inc) in r.incident.unwrap_or_default().into_iter().enumerate() {
            rc.incidents.push(self.incident(&format!("receiver.incident[{i}]"), inc)?);
        }
        Ok(rc)
    }

    /// One `[[sender.event]]`.
    fn sender_event(&self, key: &str, r: raw::SenderEvent) -> Result<SenderEvent, ScenarioError> {
        const KINDS: &str = r#""restart", "crash", "reload" or "oom""#;
        let need = |name: &str, what: &str| self.missing(&format!("{key}.{name}"), what);
        let kind =
            r.kind.clone().ok_or_else(|| need("kind", &format!("what happens to the sender: one of {KINDS}")))?;
        let Some(&(_, params)) = SENDER_EVENT_KINDS.iter().find(|(k, _)| *k == kind) else {
            return Err(
                self.schema(&format!("{key}.kind"), format!("unknown sender event kind {kind:?}: expected {KINDS}"))
            );
        };
        let given = [
            ("down_for", r.down_for.is_some()),
            ("replay_time", r.replay_time.is_some()),
            ("change", r.change.is_some()),
            ("memory_limit", r.memory_limit.is_some()),
            ("end", r.end.is_some()),
            ("backoff_initial", r.backoff_initial.is_some()),
            ("backoff_max", r.backoff_max.is_some()),
            ("backoff_reset", r.backoff_reset.is_some()),
        ];
        for (name, present) in given {
            if present && !params.contains(&name) {
                return Err(self.schema(
                    &format!("{key}.{name}"),
                    format!("not a parameter of a {kind} event, which takes at, {}", params.join(", ")),
                ));
            }
        }
        let at = r.at.ok_or_else(|| need("at", r#"when it happens, as an offset from the start, e.g. at = "2h""#))?.0;
        let down_for = r.down_for.map_or(DEFAULT_SENDER_DOWN_FOR, |d| d.0);
        let replay_time = r.replay_time.map(|d| d.0);
        let kind = match kind.as_str() {
            "restart" => SenderEventKind::Restart { down_for, replay_time },
            "crash" => SenderEventKind::Crash { down_for, replay_time },
            "reload" => {
                const CHANGES: &str = r#""remote_write", "secret", "scrape_config" or "external_labels""#;
                let change =
                    r.change.ok_or_else(|| need("change", &format!("what the reload changed: one of {CHANGES}")))?;
                let change = match change.as_str() {
                    "remote_write" => ReloadChange::RemoteWrite,
                    "secret" => ReloadChange::Secret,
                    "scrape_config" => ReloadChange::ScrapeConfig,
                    "external_labels" => ReloadChange::ExternalLabels,
                    other => {
                        return Err(self.schema(
                            &format!("{key}.change"),
                            format!("unknown change {other:?}: expected {CHANGES}"),
                        ));
                    }
                };
                SenderEventKind::Reload { change }
            }
            _ => {
                let limit = r
                    .memory_limit
                    .ok_or_else(|| need("memory_limit", r#"the container's memory limit, e.g. memory_limit = "8GiB""#))?
                    .0;
                let mut o = SenderOom::with_limit(limit);
                o.end = r.end.map(|d| d.0);
                set(&mut o.backoff_initial, r.backoff_initial.map(|d| d.0));
                set(&mut o.backoff_max, r.backoff_max.map(|d| d.0));
                set(&mut o.backoff_reset, r.backoff_reset.map(|d| d.0));
                SenderEventKind::Oom(o)
            }
        };
        Ok(SenderEvent { at, kind })
    }

    /// A status key that must be a number, not "timeout" or "refused".
    fn http_status(&self, key: &str, s: raw::Status) -> Result<u16, ScenarioError> {
        match s.0 {
            Response::Status(code) => Ok(code),
            other => {
                Err(self.schema(key, format!(r#"expected an HTTP status such as 503, not "{}""#, status_word(other))))
            }
        }
    }

    /// One `[[receiver.incident]]`.
    fn incident(&self, key: &str, r: raw::Incident) -> Result<Incident, ScenarioError> {
        use sim_core::config::{IncidentKind as K, Network, ObjectStorage, Oom, Proxy, Reject, Rollout};
        const KINDS: &str = r#""oom", "rollout", "proxy", "throttle", "reject", "object_storage" or "network""#;
        let kind = r
            .kind
            .clone()
            .ok_or_else(|| self.missing(&format!("{key}.kind"), &format!("what happens: one of {KINDS}")))?;
        let Some(&(_, params)) = INCIDENT_KINDS.iter().find(|(k, _)| *k == kind) else {
            return Err(
                self.schema(&format!("{key}.kind"), format!("unknown incident kind {kind:?}: expected {KINDS}"))
            );
        };
        let given: [(&str, bool); 30] = [
            ("memory_limit", r.memory_limit.is_some()),
            ("crash_at", r.crash_at.is_some()),
            ("restart_time", r.restart_time.is_some()),
            ("replay_time", r.replay_time.is_some()),
            ("backoff_initial", r.backoff_initial.is_some()),
            ("backoff_max", r.backoff_max.is_some()),
            ("backoff_reset", r.backoff_reset.is_some()),
            ("while_down", r.while_down.is_some()),
            ("replay_status", r.replay_status.is_some()),
            ("ingesters", r.ingesters.is_some()),
            ("replication_factor", r.replication_factor.is_some()),
            ("interval", r.interval.is_some()),
            ("unready_for", r.unready_for.is_some()),
            ("status", r.status.is_some()),
            ("read_timeout", r.read_timeout.is_some()),
            ("timeout_status", r.timeout_status.is_some()),
            ("max_body_bytes", r.max_body_bytes.is_some()),
            ("body_too_large_status", r.body_too_large_status.is_some()),
            ("rate", r.rate.is_some()),
            ("burst", r.burst.is_some()),
            ("retry_after", r.retry_after.is_some()),
            ("fraction", r.fraction.is_some()),
            ("per", r.per.is_some()),
            ("reason", r.reason.is_some()),
            ("disk_headroom", r.disk_headroom.is_some()),
            ("disk_bytes_per_sample", r.disk_bytes_per_sample.is_some()),
            ("catch_up", r.catch_up.is_some()),
            ("mode", r.mode.is_some()),
            ("latency", r.latency.is_some()),
            ("kind", true),
        ];
        for (name, present) in given {
            if present && name != "kind" && !params.contains(&name) {
                return Err(self.schema(
                    &format!("{key}.{name}"),
                    format!("not a parameter of a {kind} incident, which takes {}", params.join(", ")),
                ));
            }
        }
        let need = |name: &str, what: &str| self.missing(&format!("{key}.{name}"), what);
        let status_or = |name: &str, v: Option<raw::Status>, default: u16| match v {
            Some(s) => self.http_status(&format!("{key}.{name}"), s),
            None => Ok(default),
        };
        let secs = SimDuration::from_secs;
        let answer_latency = match r.latency.clone() {
            Some(l) => self.latency(&format!("{key}.latency"), l).map(Some),
            None => Ok(None),
        };
        let kind = match kind.as_str() {
            "oom" => K::Oom(Oom {
                memory_limit: r.memory_limit.map(|b| b.0),
                crash_at: r.crash_at.map(|d| d.0),
                restart_time: r.restart_time.map_or(secs(30), |d| d.0),
                replay_time: r.replay_time.map_or(SimDuration::from_mins(1), |d| d.0),
                backoff_initial: r.backoff_initial.map_or(secs(10), |d| d.0),
                backoff_max: r.backoff_max.map_or(SimDuration::from_mins(5), |d| d.0),
                backoff_reset: r.backoff_reset.map_or(SimDuration::from_mins(10), |d| d.0),
                while_down: r.while_down.map_or(Response::Refused, |s| s.0),
                replay_status: status_or("replay_status", r.replay_status, 503)?,
            }),
            "rollout" => K::Rollout(Rollout {
                ingesters: r
                    .ingesters
                    .ok_or_else(|| need("ingesters", "how many ingesters the ring has, e.g. ingesters = 9"))?
                    .0,
                replication_factor: r.replication_factor.map_or(3, |n| n.0),
                interval: r
                    .interval
                    .ok_or_else(|| need("interval", r#"time between two ingester restarts, e.g. interval = "2m""#))?
                    .0,
                unready_for: r
                    .unready_for
                    .ok_or_else(|| {
                        need("unready_for", r#"how long a restarted ingester is not ready, e.g. unready_for = "3m""#)
                    })?
                    .0,
                status: status_or("status", r.status, 500)?,
            }),
            "proxy" => K::Proxy(Proxy {
                read_timeout: r.read_timeout.map(|d| d.0),
                timeout_status: status_or("timeout_status", r.timeout_status, 504)?,
                max_body_bytes: r.max_body_bytes.map(|b| b.0),
                body_too_large_status: status_or("body_too_large_status", r.body_too_large_status, 413)?,
            }),
            "throttle" => {
                let rate = r
                    .rate
                    .ok_or_else(|| need("rate", "the tenant's ingestion limit in samples/s, e.g. rate = 25000"))?
                    .0;
                K::Throttle(RateLimit {
                    samples_per_second: rate,
                    burst: r.burst.map_or(rate.ceil() as u64, |b| b.0),
                    retry_after: r.retry_after.map(|d| d.0),
                    latency: answer_latency?,
                })
            }
            "reject" => {
                let per_sample = match r.per.as_deref() {
                    None | Some("request") => false,
                    Some("sample") => true,
                    Some(other) => {
                        return Err(self.schema(
                            &format!("{key}.per"),
                            format!(r#"unknown value {other:?}: expected "request" or "sample""#),
                        ));
                    }
                };
                K::Reject(Reject {
                    fraction: r.fraction.ok_or_else(|| need("fraction", "the share rejected, e.g. fraction = 0.2"))?.0,
                    per_sample,
                    status: status_or("status", r.status, 400)?,
                    reason: r.reason.unwrap_or_else(|| "invalid samples".into()),
                    latency: answer_latency?,
                })
            }
            "object_storage" => K::ObjectStorage(ObjectStorage {
                disk_headroom: r
                    .disk_headroom
                    .ok_or_else(|| {
                        need(
                            "disk_headroom",
                            r#"free local disk when uploads start failing, e.g. disk_headroom = "50GiB""#,
                        )
                    })?
                    .0,
                disk_bytes_per_sample: r.disk_bytes_per_sample.map_or(2.0, |n| n.0),
                catch_up: r.catch_up.map_or(SimDuration::from_mins(10), |d| d.0),
                status: status_or("status", r.status, 500)?,
            }),
            _ => K::Network(match r.mode.as_deref() {
                Some("refused") => Network::Refused,
                Some("blackhole") => Network::Blackhole,
                Some(other) => {
                    return Err(self.schema(
                        &format!("{key}.mode"),
                        format!(r#"unknown mode {other:?}: expected "refused" or "blackhole""#),
                    ));
                }
                None => {
                    return Err(need(
                        "mode",
                        r#""refused" (connections refused) or "blackhole" (no answer until remote_timeout)"#,
                    ));
                }
            }),
        };
        Ok(Incident { start: r.start.map_or(SimDuration::ZERO, |d| d.0), end: r.end.map(|d| d.0), kind })
    }

    fn latency(&self, key: &str, l: raw::Latency) -> Result<Latency, ScenarioError> {
        let t = match l {
            raw::Latency::Fixed(d) => return Ok(Latency::Fixed(d)),
            raw::Latency::Table(t) => t,
        };
        const DISTRIBUTIONS: &str = r#""fixed", "lognormal", "exponential" or "uniform""#;
        let dist = t
            .distribution
            .clone()
            .ok_or_else(|| self.missing(&format!("{key}.distribution"), &format!("one of {DISTRIBUTIONS}")))?;
        let params: &[&str] = match dist.as_str() {
            "fixed" => &["value"],
            "lognormal" => &["median", "p99"],
            "exponential" => &["mean"],
            "uniform" => &["min", "max"],
            other => {
                return Err(self.schema(
                    &format!("{key}.distribution"),
                    format!("unknown distribution {other:?}: expected {DISTRIBUTIONS}"),
                ));
            }
        };
        let given = [
            ("value", t.value),
            ("median", t.median),
            ("p99", t.p99),
            ("mean", t.mean),
            ("min", t.min),
            ("max", t.max),
        ];
        for (name, v) in given {
            if v.is_some() && !params.contains(&name) {
                return Err(self.schema(
                    &format!("{key}.{name}"),
                    format!("not a parameter of the {dist} distribution, which takes {}", params.join(" and ")),
                ));
            }
        }
        let get = |name: &str| -> Result<SimDuration, ScenarioError> {
            let v = given.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v);
            v.map(|d| d.0).ok_or_else(|| {
                self.missing(
                    &format!("{key}.{name}"),
                    &format!("the {dist} distribution takes {}", params.join(" and ")),
                )
            })
        };
        Ok(match dist.as_str() {
            "fixed" => Latency::Fixed(get("value")?),
            "lognormal" => Latency::LogNormal { median: get("median")?, p99: get("p99")? },
            "exponential" => Latency::Exponential { mean: get("mean")? },
            _ => Latency::Uniform { min: get("min")?, max: get("max")? },
        })
    }
}

fn status_word(r: Response) -> &'static str {
    match r {
        Response::Timeout => "timeout",
        Response::Refused => "refused",
        Response::Status(_) => "status",
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// `queue_config` over the sender's defaults (`config/config.go: DefaultQueueConfig`, or
/// Alloy's `DefaultQueueOptions`).
fn queue_config(q: raw::QueueConfig, profile: Profile, mode: &SenderMode) -> QueueConfig {
    let mut out = QueueConfig::defaults_for(profile, mode);
    set(&mut out.capacity, q.capacity.map(|n| n.0));
    set(&mut out.max_shards, q.max_shards.map(|n| n.0));
    set(&mut out.min_shards, q.min_shards.map(|n| n.0));
    set(&mut out.max_samples_per_send, q.max_samples_per_send.map(|n| n.0));
    set(&mut out.batch_send_deadline, q.batch_send_deadline.map(|d| d.0));
    set(&mut out.min_backoff, q.min_backoff.map(|d| d.0));
    set(&mut out.max_backoff, q.max_backoff.map(|d| d.0));
    set(&mut out.retry_on_http_429, q.retry_on_http_429);
    set(&mut out.sample_age_limit, q.sample_age_limit.map(|d| d.0));
    out
}

/// The table at `segments` (names and indices) of `doc`, if there is one.
fn lookup<'d, 't>(doc: &'d DeTable<'t>, segments: &[Segment]) -> Option<&'d DeTable<'t>> {
    let mut table = doc;
    let mut i = 0;
    while i < segments.len() {
        let Segment::Name(name) = &segments[i] else {
            return None;
        };
        let mut value = table.get(name.as_str())?.get_ref();
        while let Some(Segment::Index(n)) = segments.get(i + 1) {
            value = match value {
                DeValue::Array(a) => a.get(*n)?.get_ref(),
                _ => return None,
            };
            i += 1;
        }
        table = match value {
            DeValue::Table(t) => t,
            _ => return None,
        };
        i += 1;
    }
    Some(table)
}

/// Sets the value at `segments` (starting with a name) in `table`, creating missing tables.
/// Array elements must exist: a sweep changes values, it does not add fault windows.
fn set_path<'t>(
    table: &mut DeTable<'t>,
    segments: &[Segment],
    done: &str,
    value: Spanned<DeValue<'t>>,
) -> Result<(), String> {
    let Some(Segment::Name(name)) = segments.first() else {
        unreachable!("keys start with a name and an index follows a name")
    };
    let here = if done.is_empty() { name.clone() } else { format!("{done}.{name}") };
    let span = value.span();
    let new_key = || Spanned::new(span.clone(), Cow::Owned(name.clone()));
    match segments.get(1) {
        None => {
            table.insert(new_key(), value);
            Ok(())
        }
        Some(Segment::Name(_)) => {
            if table.get(name.as_str()).is_none() {
                table.insert(new_key(), Spanned::new(span.clone(), DeValue::Table(DeTable::new())));
            }
            match table.get_mut(name.as_str()).map(|v| v.get_mut()) {
                Some(DeValue::Table(inner)) => set_path(inner, &segments[1..], &here, value),
                Some(other) => Err(format!("{here} is a {} in this file, not a table", other.type_str())),
                None => unreachable!("inserted above"),
            }
        }
        Some(Segment::Index(i)) => {
            let i = *i;
            let element = format!("{here}[{i}]");
            match table.get_mut(name.as_str()).map(|v| v.get_mut()) {
                Some(DeValue::Array(array)) => {
                    let len = array.len();
                    match array.get_mut(i).map(|v| v.get_mut()) {
                        Some(DeValue::Table(inner)) if segments.len() > 2 => {
                            set_path(inner, &segments[2..], &element, value)
                        }
                        Some(_) => Err(format!("{element} is not a table in this file")),
                        None => {
                            Err(format!("{element} does not exist: the file has {len} [[{here}]] (numbered from 0)"))
                        }
                    }
                }
                Some(other) => Err(format!("{here} is a {} in this file, not an array of tables", other.type_str())),
                None => Err(format!("{element} does not exist: the file has no [[{here}]]")),
            }
        }
    }
}
