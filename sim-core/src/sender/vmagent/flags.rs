//! vmagent's command-line flags, their defaults per version, and the values vmagent derives
//! from them at start-up (`app/vmagent/remotewrite/remotewrite.go: newRemoteWriteCtxs` in
//! v1.79.5, `newRemoteWriteCtx` in current releases).

use crate::config::ConfigError;
use crate::time::SimDuration;

/// Size of one chunk file of the persistent queue: `(MaxBlockSize + 8) × 16` with
/// `MaxBlockSize = 32 MiB` (`lib/persistentqueue/persistentqueue.go: DefaultChunkFileSize`).
pub const CHUNK_FILE_SIZE: u64 = (MAX_QUEUE_BLOCK_SIZE + 8) * 16;
/// Largest block the persistent queue accepts (`persistentqueue.MaxBlockSize`).
pub const MAX_QUEUE_BLOCK_SIZE: u64 = 32 << 20;
/// Smallest effective `-remoteWrite.maxDiskUsagePerURL` since v1.91.0: a non-zero value below
/// one chunk file is raised to it, with a warning (VictoriaMetrics#4195).
pub const MIN_DISK_USAGE_CURRENT: u64 = CHUNK_FILE_SIZE;

/// Which vmagent.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum VmVersion {
    /// v1.79.5, Debian 12's `victoria-metrics` package: retries sleep 2 s doubling to 60 s
    /// with no jitter and no Retry-After; 415 is retried; the disk cap is taken as given.
    V1_79,
    /// The current release (checked: v1.150.0): retries start at `retryMinInterval` (1 s),
    /// double to `retryMaxInterval` (1 m) with up to 10 % jitter and honour Retry-After
    /// (clamped to those bounds); 415 drops the block like 400; the disk cap is at least one
    /// 512 MiB chunk file.
    #[default]
    Current,
}

impl VmVersion {
    /// The scenario spelling: `"1.79"` or `"current"`.
    pub fn as_str(self) -> &'static str {
        match self {
            VmVersion::V1_79 => "1.79",
            VmVersion::Current => "current",
        }
    }

    /// For headers: `vmagent 1.79.5`, `vmagent (current, v1.150)`.
    pub fn describe(self) -> &'static str {
        match self {
            VmVersion::V1_79 => "vmagent 1.79.5",
            VmVersion::Current => "vmagent (current, v1.150)",
        }
    }
}

/// The `[vmagent]` table: flags under their vmagent names, plus two facts about the host.
#[derive(Clone, Debug, PartialEq)]
pub struct VmagentConfig {
    /// Which vmagent.
    pub version: VmVersion,
    /// `-remoteWrite.queues`; `None`: 2 × CPUs.
    pub queues: Option<u32>,
    /// `-remoteWrite.maxDiskUsagePerURL`, bytes; 0 = unlimited. Default 0.
    pub max_disk_usage_per_url: u64,
    /// `-remoteWrite.maxBlockSize`, unpacked bytes. Default 8 MiB.
    pub max_block_size: u64,
    /// `-remoteWrite.maxRowsPerBlock`. Default 10000.
    pub max_rows_per_block: u64,
    /// `-remoteWrite.flushInterval`. Default 1s.
    pub flush_interval: SimDuration,
    /// `-remoteWrite.sendTimeout`: per attempt. Default 1m.
    pub send_timeout: SimDuration,
    /// `-remoteWrite.rateLimit`, bytes per second; 0 = off. Default 0.
    pub rate_limit: u64,
    /// `-remoteWrite.retryMinInterval` (current only). Default 1s.
    pub retry_min_interval: SimDuration,
    /// `-remoteWrite.retryMaxInterval` (current only). Default 1m.
    pub retry_max_interval: SimDuration,
    /// `-memory.allowedPercent`. Default 60.
    pub memory_allowed_percent: f64,
    /// `-memory.allowedBytes`; 0: use the percentage. Default 0.
    pub memory_allowed_bytes: u64,
    /// Host (or cgroup) CPUs vmagent sees. Not a flag. Default 4.
    pub cpus: u32,
    /// Host (or cgroup) memory, bytes. Not a flag. Default 16 GiB.
    pub host_memory: u64,
    /// Unpacked `WriteRequest` bytes per sample (labels and value), for
    /// `-remoteWrite.maxBlockSize`. A model constant, not a flag. Default 200 (about ten
    /// labels): with it the 10000-row limit binds first, as it usually does.
    pub unpacked_bytes_per_sample: f64,
}

impl Default for VmagentConfig {
    fn default() -> Self {
        VmagentConfig {
            version: VmVersion::default(),
            queues: None,
            max_disk_usage_per_url: 0,
            max_block_size: 8 << 20,
            max_rows_per_block: 10_000,
            flush_interval: SimDuration::from_secs(1),
            send_timeout: SimDuration::from_mins(1),
            rate_limit: 0,
            retry_min_interval: SimDuration::from_secs(1),
            retry_max_interval: SimDuration::from_mins(1),
            memory_allowed_percent: 60.0,
            memory_allowed_bytes: 0,
            cpus: 4,
            host_memory: 16 << 30,
            unpacked_bytes_per_sample: 200.0,
        }
    }
}

fn err(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { key: format!("vmagent.{key}"), message: message.into() }
}

impl VmagentConfig {
    /// Worker count: the flag, else 2 × CPUs; at least 1 and at most 16 × CPUs
    /// (`remotewrite.go: init` / `flag` handling of `-remoteWrite.queues`). Fixed for the
    /// life of the process: vmagent never reshards.
    pub fn queues(&self) -> u32 {
        let max = 16 * self.cpus.max(1);
        self.queues.unwrap_or(2 * self.cpus.max(1)).clamp(1, max)
    }

    /// `pendingSeries` buffers per URL: `min(queues, CPUs)`, filled round-robin.
    pub fn pending_buffers(&self) -> u32 {
        self.queues().min(self.cpus.max(1))
    }

    /// `memory.Allowed()`: `-memory.allowedBytes`, else the percentage of the host memory.
    pub fn memory_allowed(&self) -> u64 {
        if self.memory_allowed_bytes > 0 {
            self.memory_allowed_bytes
        } else {
            (self.host_memory as f64 * self.memory_allowed_percent / 100.0) as u64
        }
    }

    /// Capacity of the in-memory queue in blocks: `allowed / URLs / maxRowsPerBlock / 100`,
    /// at most `100 × queues` (when that quotient over `queues` exceeds 100), at least 2.
    pub fn max_inmemory_blocks(&self) -> u64 {
        let mut n = self.memory_allowed() / self.max_rows_per_block.max(1) / 100;
        let q = u64::from(self.queues());
        if n / q > 100 {
            n = 100 * q;
        }
        n.max(2)
    }

    /// The disk cap vmagent applies: v1.91.0+ raises a non-zero value below one chunk file
    /// (536,871,040 bytes) to it; 1.79 takes it as given. 0 = unlimited.
    pub fn effective_disk_cap(&self) -> u64 {
        match self.version {
            VmVersion::Current if self.max_disk_usage_per_url > 0 => {
                self.max_disk_usage_per_url.max(MIN_DISK_USAGE_CURRENT)
            }
            _ => self.max_disk_usage_per_url,
        }
    }

    /// Most samples in one block: `maxRowsPerBlock`, fewer when `maxBlockSize` (unpacked)
    /// binds first.
    pub fn rows_per_block(&self) -> u64 {
        let by_size = (self.max_block_size as f64 / self.unpacked_bytes_per_sample.max(1.0)).floor() as u64;
        self.max_rows_per_block.min(by_size).max(1)
    }

    /// The run's work by source, in events (`SimConfig::run_cost` for vmagent): two per
    /// block (an attempt and its answer), a flush tick per `flushInterval`, a retry per
    /// worker every 2 s at most while the receiver fails, and the output rows.
    pub fn run_cost(&self, cfg: &crate::config::SimConfig) -> crate::config::RunCost {
        use crate::config::{CostSource, RunCost};
        let d = cfg.duration.as_secs_f64();
        let run = |x: SimDuration| x.as_secs_f64().max(1e-9);
        let per_sec = cfg.peak_samples_per_interval() as f64 / run(cfg.workload.scrape_interval);
        let ticks = d / run(self.flush_interval);
        let blocks = per_sec * d / self.rows_per_block() as f64 + ticks * f64::from(self.pending_buffers());
        let span = |a: SimDuration, b: SimDuration| b.min(cfg.duration).saturating_sub(a).as_secs_f64();
        let failing: f64 = cfg.receiver.faults.iter().map(|f| span(f.start, f.end)).sum::<f64>()
            + cfg.receiver.incidents.iter().map(|i| span(i.start, i.end_or(cfg.duration))).sum::<f64>();
        RunCost {
            sources: vec![
                CostSource {
                    what: "vmagent blocks (an attempt and its answer each)",
                    key: "vmagent.remoteWrite.maxRowsPerBlock".into(),
                    events: 2.0 * blocks,
                    hint: "raise remoteWrite.maxRowsPerBlock or shorten the run",
                },
                CostSource {
                    what: "vmagent flush ticks",
                    key: "vmagent.remoteWrite.flushInterval".into(),
                    events: ticks,
                    hint: "use a longer remoteWrite.flushInterval or a shorter run",
                },
                CostSource {
                    what: "vmagent retries (every worker while the receiver fails)",
                    key: "vmagent.remoteWrite.queues".into(),
                    events: failing / 2.0 * f64::from(self.queues()),
                    hint: "use fewer remoteWrite.queues or shorter faults",
                },
                CostSource {
                    what: "output rows",
                    key: "output.step".into(),
                    events: d / run(cfg.output_step),
                    hint: "use a longer output.step",
                },
            ],
        }
    }

    /// Checks the values; keys are named as in the scenario file (`vmagent.remoteWrite.queues`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.queues == Some(0) {
            return Err(err("remoteWrite.queues", "must be at least 1"));
        }
        if self.cpus == 0 || self.cpus > 1024 {
            return Err(err("cpus", "must be between 1 and 1024"));
        }
        if self.max_rows_per_block == 0 {
            return Err(err("remoteWrite.maxRowsPerBlock", "must be at least 1"));
        }
        if self.max_block_size == 0 {
            return Err(err("remoteWrite.maxBlockSize", "must be greater than 0"));
        }
        if self.flush_interval.nanos() < SimDuration::from_millis(1).nanos() {
            return Err(err("remoteWrite.flushInterval", "must be at least 1ms"));
        }
        if self.send_timeout.nanos() == 0 {
            return Err(err("remoteWrite.sendTimeout", "must be greater than 0"));
        }
        if self.retry_min_interval.nanos() == 0 {
            return Err(err("remoteWrite.retryMinInterval", "must be greater than 0"));
        }
        if self.retry_max_interval < self.retry_min_interval {
            return Err(err(
                "remoteWrite.retryMaxInterval",
                format!(
                    "{} is below remoteWrite.retryMinInterval ({})",
                    self.retry_max_interval, self.retry_min_interval
                ),
            ));
        }
        if !(self.memory_allowed_percent > 0.0 && self.memory_allowed_percent <= 100.0) {
            return Err(err("memory.allowedPercent", "must be above 0 and at most 100"));
        }
        if !(self.unpacked_bytes_per_sample >= 1.0 && self.unpacked_bytes_per_sample <= 1e6) {
            return Err(err("unpacked_bytes_per_sample", "must be between 1 and 1000000 bytes"));
        }
        if self.host_memory == 0 {
            return Err(err("host_memory", "must be greater than 0"));
        }
        Ok(())
    }
}

/// A byte count in vmagent's spelling, as vmagent's `flagutil.Bytes` (and rwsim's `[vmagent]` table) reads it back: the largest unit
/// that divides it exactly, powers of 1000 first (`2GB`, `50MB`), then of 1024 (`512MiB`),
/// else the bare number.
///
/// ```
/// use sim_core::sender::vmagent::flags::format_vm_bytes;
/// assert_eq!(format_vm_bytes(2_000_000_000), "2GB");
/// assert_eq!(format_vm_bytes(512 << 20), "512MiB");
/// assert_eq!(format_vm_bytes(1500), "1500");
/// ```
pub fn format_vm_bytes(b: u64) -> String {
    let units = [("TB", 1_000_000_000_000u64), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000)];
    let binary = [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, m) in units.into_iter().chain(binary) {
        if b >= m && b.is_multiple_of(m) {
            return format!("{}{unit}", b / m);
        }
    }
    b.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// D.3 vector 4: 60 % of 16 GiB, 1 URL, 10000 rows, 8 queues → 10307 → capped at 800;
    /// `-memory.allowedBytes=1MB` → 1 → raised to 2.
    #[test]
    fn inmemory_queue_size_follows_the_d3_vector() {
        let mut c = VmagentConfig { queues: Some(8), ..VmagentConfig::default() };
        assert_eq!(c.memory_allowed(), 10_307_921_510);
        assert_eq!(c.max_inmemory_blocks(), 800);
        c.memory_allowed_bytes = 1_000_000;
        assert_eq!(c.max_inmemory_blocks(), 2);
    }

    /// D.3 vector 6: current raises a 100MB cap to one chunk file; 1.79 keeps it.
    #[test]
    fn current_raises_a_small_disk_cap_to_one_chunk() {
        let mut c = VmagentConfig { max_disk_usage_per_url: 100_000_000, ..VmagentConfig::default() };
        assert_eq!(c.effective_disk_cap(), 536_871_040);
        c.version = VmVersion::V1_79;
        assert_eq!(c.effective_disk_cap(), 100_000_000);
        c.max_disk_usage_per_url = 0;
        assert_eq!(c.effective_disk_cap(), 0, "0 stays unlimited");
    }

    #[test]
    fn queues_default_to_twice_the_cpus_and_are_capped() {
        let mut c = VmagentConfig { cpus: 2, ..VmagentConfig::default() };
        assert_eq!((c.queues(), c.pending_buffers()), (4, 2));
        c.queues = Some(1000);
        assert_eq!(c.queues(), 32);
    }
}
