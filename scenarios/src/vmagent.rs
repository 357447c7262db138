//! The `[vmagent]` table: vmagent's flags under their own names, so that
//! `-remoteWrite.maxDiskUsagePerURL=2MB` becomes `remoteWrite.maxDiskUsagePerURL = "2MB"`
//! (a TOML dotted key, or a `[vmagent.remoteWrite]` table). Sizes follow vmagent's
//! `flagutil.Bytes`: `KB`, `MB`, `GB`, `TB` are powers of 1000 and `KiB` … `TiB` powers of 1024
//! (unlike the rest of the scenario file, where `MB` = `MiB` as in Prometheus).

use crate::raw::{Duration, Number, U32, U64};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use sim_core::sender::vmagent::{VmVersion, VmagentConfig};
use std::fmt;

/// `[vmagent]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vmagent {
    /// `version`: `"1.79"` (v1.79.5, Debian 12) or `"current"` (v1.150).
    pub version: Option<String>,
    /// `remoteWrite.*` flags.
    #[serde(rename = "remoteWrite")]
    pub remote_write: Option<RemoteWriteFlags>,
    /// `memory.*` flags.
    pub memory: Option<MemoryFlags>,
    /// CPUs vmagent sees (not a flag).
    pub cpus: Option<U32>,
    /// Memory of the host or container (not a flag).
    pub host_memory: Option<VmBytes>,
    /// Unpacked bytes per sample, for `maxBlockSize` (a model constant).
    pub unpacked_bytes_per_sample: Option<Number>,
}

/// `-remoteWrite.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RemoteWriteFlags {
    /// `-remoteWrite.queues`.
    pub queues: Option<U32>,
    /// `-remoteWrite.maxDiskUsagePerURL`.
    #[serde(rename = "maxDiskUsagePerURL")]
    pub max_disk_usage_per_url: Option<VmBytes>,
    /// `-remoteWrite.maxBlockSize`.
    pub max_block_size: Option<VmBytes>,
    /// `-remoteWrite.maxRowsPerBlock`.
    pub max_rows_per_block: Option<U64>,
    /// `-remoteWrite.flushInterval`.
    pub flush_interval: Option<Duration>,
    /// `-remoteWrite.sendTimeout`.
    pub send_timeout: Option<Duration>,
    /// `-remoteWrite.rateLimit`, bytes per second.
    pub rate_limit: Option<VmBytes>,
    /// `-remoteWrite.retryMinInterval` (current only).
    pub retry_min_interval: Option<Duration>,
    /// `-remoteWrite.retryMaxInterval` (current only).
    pub retry_max_interval: Option<Duration>,
}

/// `-memory.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MemoryFlags {
    /// `-memory.allowedPercent`.
    pub allowed_percent: Option<Number>,
    /// `-memory.allowedBytes`.
    pub allowed_bytes: Option<VmBytes>,
}

/// A byte count as vmagent's flags take it: an integer, or a number with `KB`/`MB`/`GB`/`TB`
/// (powers of 1000) or `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VmBytes(pub u64);

/// Parses a vmagent byte flag value.
///
/// ```
/// use scenarios::vmagent::parse_vm_bytes;
/// assert_eq!(parse_vm_bytes("2MB").unwrap(), 2_000_000);
/// assert_eq!(parse_vm_bytes("1GiB").unwrap(), 1 << 30);
/// assert_eq!(parse_vm_bytes("1.5KB").unwrap(), 1500);
/// assert!(parse_vm_bytes("2 parsecs").is_err());
/// ```
pub fn parse_vm_bytes(s: &str) -> Result<u64, String> {
    const UNITS: [(&str, f64); 9] = [
        ("KiB", 1024.0),
        ("MiB", 1048576.0),
        ("GiB", 1073741824.0),
        ("TiB", 1099511627776.0),
        ("KB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("TB", 1e12),
        ("B", 1.0),
    ];
    let t = s.trim();
    let (num, mult) = UNITS.iter().find_map(|(u, m)| t.strip_suffix(u).map(|n| (n, *m))).unwrap_or((t, 1.0));
    match num.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && (v * mult) < 9e18 => Ok((v * mult).round() as u64),
        _ => Err(format!(
            "invalid size {s:?}: expected a number of bytes with vmagent's units (KB, MB, GB, TB are powers of 1000; \
             KiB, MiB, GiB, TiB powers of 1024), e.g. \"2MB\""
        )),
    }
}

pub use sim_core::sender::vmagent::flags::format_vm_bytes;

impl<'de> Deserialize<'de> for VmBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VmBytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a size such as "2MB" (vmagent units) or a number of bytes"#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<VmBytes, E> {
                parse_vm_bytes(s).map(VmBytes).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<VmBytes, E> {
                u64::try_from(v).map(VmBytes).map_err(|_| E::custom(format!("{v}: sizes cannot be negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VmBytes, E> {
                Ok(VmBytes(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// What went wrong, with the dotted key it concerns.
pub(crate) struct FlagError {
    pub key: String,
    pub message: String,
}

fn fail(key: &str, message: impl Into<String>) -> FlagError {
    FlagError { key: format!("vmagent.{key}"), message: message.into() }
}

/// The model's configuration from the table (absent keys keep vmagent's defaults).
pub(crate) fn convert(v: &Vmagent) -> Result<VmagentConfig, FlagError> {
    let version = match v.version.as_deref().map(str::trim) {
        None | Some("current") | Some("1.150") | Some("1.150.0") => VmVersion::Current,
        Some("1.79") | Some("1.79.5") => VmVersion::V1_79,
        Some(other) => {
            return Err(fail(
                "version",
                format!("unknown vmagent version {other:?}: expected \"1.79\" (v1.79.5, Debian 12) or \"current\""),
            ));
        }
    };
    let mut c = VmagentConfig { version, ..VmagentConfig::default() };
    if let Some(rw) = &v.remote_write {
        if c.version == VmVersion::V1_79 {
            for (set, name) in [
                (rw.retry_min_interval.is_some(), "retryMinInterval"),
                (rw.retry_max_interval.is_some(), "retryMaxInterval"),
            ] {
                if set {
                    return Err(fail(
                        &format!("remoteWrite.{name}"),
                        "vmagent 1.79 has no such flag (added in v1.103.0): its retries sleep 2s doubling to 1m",
                    ));
                }
            }
        }
        c.queues = rw.queues.map(|q| q.0);
        set(&mut c.max_disk_usage_per_url, rw.max_disk_usage_per_url.map(|b| b.0));
        set(&mut c.max_block_size, rw.max_block_size.map(|b| b.0));
        set(&mut c.max_rows_per_block, rw.max_rows_per_block.map(|n| n.0));
        set(&mut c.flush_interval, rw.flush_interval.map(|d| d.0));
        set(&mut c.send_timeout, rw.send_timeout.map(|d| d.0));
        set(&mut c.rate_limit, rw.rate_limit.map(|b| b.0));
        set(&mut c.retry_min_interval, rw.retry_min_interval.map(|d| d.0));
        set(&mut c.retry_max_interval, rw.retry_max_interval.map(|d| d.0));
    }
    if let Some(m) = &v.memory {
        set(&mut c.memory_allowed_percent, m.allowed_percent.map(|n| n.0));
        set(&mut c.memory_allowed_bytes, m.allowed_bytes.map(|b| b.0));
    }
    set(&mut c.cpus, v.cpus.map(|n| n.0));
    set(&mut c.host_memory, v.host_memory.map(|b| b.0));
    set(&mut c.unpacked_bytes_per_sample, v.unpacked_bytes_per_sample.map(|n| n.0));
    Ok(c)
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

#[cfg(test)]
mod tests {
    use sim_core::config::SenderMode;
    use sim_core::sender::vmagent::VmVersion;

    const HEAD: &str = "duration = \"1h\"\n[workload]\nseries = 1000\n";

    fn load(rest: &str) -> Result<sim_core::config::SimConfig, String> {
        crate::load_str(&format!("{HEAD}{rest}"), "t.toml").map(|s| s.config).map_err(|e| e.to_string())
    }

    #[test]
    fn pasted_flags_keep_vmagent_names_and_units() {
        let c = load(
            "[sender]\nmode = \"vmagent\"\n[vmagent]\nversion = \"1.79\"\nremoteWrite.queues = 3\n\
             remoteWrite.maxDiskUsagePerURL = \"2MB\"\nremoteWrite.flushInterval = \"2s\"\nmemory.allowedBytes = \"1MB\"\n",
        )
        .unwrap();
        let SenderMode::Vmagent(v) = c.sender.mode else { panic!("vmagent") };
        assert_eq!(v.version, VmVersion::V1_79);
        assert_eq!((v.queues, v.max_disk_usage_per_url, v.memory_allowed_bytes), (Some(3), 2_000_000, 1_000_000));
        assert_eq!(v.flush_interval.as_secs_f64(), 2.0);
        assert_eq!(v.max_inmemory_blocks(), 2);
    }

    #[test]
    fn wrong_keys_say_what_vmagent_has_instead() {
        let e = load(
            "[sender]\nmode = \"vmagent\"\n[vmagent]\nversion = \"1.79\"\nremoteWrite.retryMinInterval = \"1s\"\n",
        )
        .unwrap_err();
        assert!(e.contains("vmagent.remoteWrite.retryMinInterval") && e.contains("v1.103.0"), "{e}");
        let e = load("[sender]\nmode = \"vmagent\"\n[remote_write.queue_config]\ncapacity = 10\n").unwrap_err();
        assert!(e.contains("remote_write.queue_config") && e.contains("remoteWrite.queues"), "{e}");
        let e = load("[vmagent]\nremoteWrite.queues = 3\n").unwrap_err();
        assert!(e.contains("mode = \"vmagent\"") && e.contains("server"), "{e}");
        let e = load("[sender]\nmode = \"vmagent\"\n[vmagent]\nversion = \"1.80\"\n").unwrap_err();
        assert!(e.starts_with("t.toml:") && e.contains("\"1.79\""), "{e}");
        let e = load("[sender]\nmode = \"vmagent\"\n[vmagent]\nremoteWrite.queues = 0\n").unwrap_err();
        assert!(e.contains("vmagent.remoteWrite.queues: must be at least 1"), "{e}");
        let e = load("[sender]\nmode = \"vmagent\"\n[vmagent]\nremoteWrite.maxDiskUsage = \"1GB\"\n").unwrap_err();
        assert!(e.contains("maxDiskUsage"), "{e}");
    }
}
