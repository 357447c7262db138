//! What a scenario key is to the person running the sender: a setting they choose (and where
//! it goes: `queue_config`, the `remote_write` entry, Alloy's `wal` block, or a command-line
//! flag), a model constant they may not know (a property of their data or network), or a
//! condition of the world (the workload, the receiver, its faults).
//!
//! A sweep recommends settings only, judged by their worst case over the conditions and
//! constants it swept; a recommended flag is printed as a flag. Where a setting goes depends
//! on the sending program ([`Sender`]): the same scenario key is a server flag for a
//! Prometheus server, an agent flag in agent mode, and does not exist in Alloy.

use serde::{Deserialize, Serialize};
use sim_core::config::SenderMode;

/// The sending program of a scenario (`[sender] mode`), which decides how its settings are
/// spelled: `prometheus.yml` and server flags, agent flags, Alloy's configuration syntax, or
/// vmagent's flags.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    /// A Prometheus server.
    #[default]
    Server,
    /// Prometheus in agent mode.
    Agent,
    /// Grafana Alloy's `prometheus.remote_write` component.
    Alloy,
    /// VictoriaMetrics vmagent.
    Vmagent,
}

impl Sender {
    /// The sender of a configuration.
    pub fn of(mode: &SenderMode) -> Sender {
        match mode {
            SenderMode::Server => Sender::Server,
            SenderMode::Agent(_) => Sender::Agent,
            SenderMode::Alloy(_) => Sender::Alloy,
            SenderMode::Vmagent(_) => Sender::Vmagent,
        }
    }

    /// The scenario spelling (`[sender] mode`): `server`, `agent`, `alloy`, `vmagent`.
    pub fn name(self) -> &'static str {
        match self {
            Sender::Server => "server",
            Sender::Agent => "agent",
            Sender::Alloy => "alloy",
            Sender::Vmagent => "vmagent",
        }
    }

    /// The sender of a [`Sender::name`].
    pub fn from_name(name: &str) -> Option<Sender> {
        [Sender::Server, Sender::Agent, Sender::Alloy, Sender::Vmagent].into_iter().find(|s| s.name() == name)
    }

    /// Whether it is a Prometheus server (the default, whose files carry no sender).
    pub fn is_server(&self) -> bool {
        *self == Sender::Server
    }
}

/// The role of a scenario key.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A `queue_config` key, pasted as YAML under `queue_config:` (its Prometheus name).
    QueueConfig(&'static str),
    /// A key of the `remote_write` entry itself (its Prometheus name).
    RemoteWrite(&'static str),
    /// A command-line flag of the sender (its name, with the dashes: `--storage.tsdb...` for
    /// Prometheus, `-remoteWrite...` for vmagent).
    Flag(&'static str),
    /// An attribute of the `wal` block of Alloy's `prometheus.remote_write` (its Alloy name).
    AlloyWal(&'static str),
    /// A model constant: not a Prometheus setting, but a property of the data, the machine
    /// or the network that the model needs (`tsdb.wal_bytes_per_sample`, ...).
    Constant,
    /// The world the settings must cope with: workload, receiver, faults, run length.
    Condition,
}

/// Flags of the Prometheus server that scenario keys stand for.
const FLAGS: [(&str, &str); 6] = [
    ("tsdb.min_block_duration", "--storage.tsdb.min-block-duration"),
    ("tsdb.wal_segment_size", "--storage.tsdb.wal-segment-size"),
    ("sender.flush_deadline", "--storage.remote.flush-deadline"),
    ("sender.agent.wal_truncate_frequency", "--storage.agent.wal-truncate-frequency"),
    ("sender.agent.retention_min_time", "--storage.agent.retention.min-time"),
    ("sender.agent.retention_max_time", "--storage.agent.retention.max-time"),
];

/// Agent mode's flag for `tsdb.wal_segment_size` (the server's flag is refused in agent mode).
const AGENT_SEGMENT_FLAG: &str = "--storage.agent.wal-segment-size";

/// vmagent's flags that scenario keys stand for (`[vmagent]` keeps vmagent's names).
const VMAGENT_FLAGS: [(&str, &str); 11] = [
    ("vmagent.remoteWrite.queues", "-remoteWrite.queues"),
    ("vmagent.remoteWrite.maxDiskUsagePerURL", "-remoteWrite.maxDiskUsagePerURL"),
    ("vmagent.remoteWrite.maxBlockSize", "-remoteWrite.maxBlockSize"),
    ("vmagent.remoteWrite.maxRowsPerBlock", "-remoteWrite.maxRowsPerBlock"),
    ("vmagent.remoteWrite.flushInterval", "-remoteWrite.flushInterval"),
    ("vmagent.remoteWrite.sendTimeout", "-remoteWrite.sendTimeout"),
    ("vmagent.remoteWrite.rateLimit", "-remoteWrite.rateLimit"),
    ("vmagent.remoteWrite.retryMinInterval", "-remoteWrite.retryMinInterval"),
    ("vmagent.remoteWrite.retryMaxInterval", "-remoteWrite.retryMaxInterval"),
    ("vmagent.memory.allowedPercent", "-memory.allowedPercent"),
    ("vmagent.memory.allowedBytes", "-memory.allowedBytes"),
];

/// The attributes of Alloy's `wal` block that scenario keys stand for.
const ALLOY_WAL: [&str; 3] = ["truncate_frequency", "min_keepalive_time", "max_keepalive_time"];

/// Model constants among the scenario keys.
const CONSTANTS: [&str; 7] = [
    "tsdb.wal_bytes_per_sample",
    "workload.wire_bytes_per_sample",
    "sender.request_overhead",
    "sender.reshard_tick_offset",
    "sender.cpu_us_per_sample",
    "sender.cpu_cores",
    "vmagent.unpacked_bytes_per_sample",
];

/// The role of `key` (a dotted scenario key, as swept) for a Prometheus server; see
/// [`role_for`]. Whether a key is a setting does not depend on the sender, only its spelling.
///
/// ```
/// use analysis::settings::{Role, role};
/// assert_eq!(role("remote_write.queue_config.capacity"), Role::QueueConfig("capacity"));
/// assert_eq!(role("tsdb.wal_segment_size"), Role::Flag("--storage.tsdb.wal-segment-size"));
/// assert_eq!(role("tsdb.wal_bytes_per_sample"), Role::Constant);
/// assert_eq!(role("receiver.fault[0].length"), Role::Condition);
/// ```
pub fn role(key: &str) -> Role {
    role_for(Sender::Server, key)
}

/// The role of `key` for `sender`, with the sender's own names: an agent's segment size is
/// `--storage.agent.wal-segment-size`, Alloy's WAL keys are its `wal` block's attributes,
/// vmagent's keys its flags.
///
/// ```
/// use analysis::settings::{Role, Sender, role_for};
/// assert_eq!(role_for(Sender::Agent, "tsdb.wal_segment_size"), Role::Flag("--storage.agent.wal-segment-size"));
/// assert_eq!(role_for(Sender::Alloy, "sender.alloy.truncate_frequency"), Role::AlloyWal("truncate_frequency"));
/// assert_eq!(role_for(Sender::Vmagent, "vmagent.remoteWrite.queues"), Role::Flag("-remoteWrite.queues"));
/// assert_eq!(role_for(Sender::Vmagent, "vmagent.cpus"), Role::Condition);
/// ```
pub fn role_for(sender: Sender, key: &str) -> Role {
    if let Some(k) = key.strip_prefix("remote_write.queue_config.") {
        return Role::QueueConfig(static_name(k));
    }
    if CONSTANTS.contains(&key) {
        return Role::Constant;
    }
    if sender == Sender::Agent && key == "tsdb.wal_segment_size" {
        return Role::Flag(AGENT_SEGMENT_FLAG);
    }
    if let Some((_, flag)) = FLAGS.iter().chain(&VMAGENT_FLAGS).find(|(k, _)| *k == key) {
        return Role::Flag(flag);
    }
    if let Some(name) = key.strip_prefix("sender.alloy.").and_then(|k| ALLOY_WAL.iter().find(|n| **n == k)) {
        return Role::AlloyWal(name);
    }
    if key == "remote_write.remote_timeout" {
        return Role::RemoteWrite("remote_timeout");
    }
    Role::Condition
}

/// The `queue_config` key names as `'static` strings.
fn static_name(k: &str) -> &'static str {
    sim_core::config::QUEUE_CONFIG_KEYS.iter().find(|n| **n == k).copied().unwrap_or("queue_config")
}

/// Whether `key` is something the user sets (queue_config, remote_write, a flag, Alloy's
/// `wal` block).
pub fn is_setting(key: &str) -> bool {
    matches!(role(key), Role::QueueConfig(_) | Role::RemoteWrite(_) | Role::Flag(_) | Role::AlloyWal(_))
}

/// A value in scenario syntax as the flag takes it: sizes in Prometheus's `units.Base2Bytes`
/// spelling (`256MB` is 256 MiB), durations unchanged.
///
/// ```
/// use analysis::settings::flag_value;
/// assert_eq!(flag_value("268435456"), "256MB");
/// assert_eq!(flag_value("256MiB"), "256MB");
/// assert_eq!(flag_value("4h"), "4h");
/// ```
pub fn flag_value(value: &str) -> String {
    let bytes = value.parse::<u64>().ok().or_else(|| {
        let units = [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)];
        units.iter().find_map(|(u, m)| value.strip_suffix(u).and_then(|n| n.parse::<u64>().ok()).map(|n| n * m))
    });
    match bytes {
        Some(b) => size_flag(b),
        None => value.to_string(),
    }
}

/// Bytes as a Prometheus size flag: `256MB`, `10MB`, `32KB`.
pub fn size_flag(b: u64) -> String {
    for (unit, m) in [("TB", 1u64 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)] {
        if b >= m && b.is_multiple_of(m) {
            return format!("{}{unit}", b / m);
        }
    }
    format!("{b}B")
}

/// `--flag=value` for a flag key and its value in scenario syntax.
pub fn flag_assignment(flag: &str, value: &str) -> String {
    format!("{flag}={}", flag_value(value))
}
