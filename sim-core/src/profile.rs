//! The two Prometheus versions rwsim models, and what differs between them.
//!
//! Each difference is a named switch with the version that introduced it, so the model code
//! reads `if profile.retry_after_on_5xx` rather than comparing version numbers. Sources are in
//! `docs/model.md` §13.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which Prometheus sender to model.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Profile {
    /// v2.42.0, the Debian reference.
    #[serde(rename = "2.42")]
    V2_42,
    /// v3.x (modelled on v3.14.0).
    #[serde(rename = "3.x")]
    V3,
}

/// How the WAL watcher notices new data (§4.1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReadTrigger {
    /// v2.42: a 10 ms ticker reads everything available.
    Poll10ms,
    /// v2.45.0+: the TSDB notifies the watcher after every WAL write.
    Notify,
}

/// Gate on the age of the last completed send before a reshard (§9.3).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReshardSendGate {
    /// v2.42: `lastSendTimestamp ≥ unix(now − 2·batch_send_deadline)`.
    TwiceBatchDeadline,
    /// v2.55.0+: `lastSendTimestamp ≥ unix(now − 10s)`.
    TenSeconds,
}

impl Profile {
    /// Parses `"2.42"` or `"3.x"`.
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "2.42" => Some(Profile::V2_42),
            "3.x" => Some(Profile::V3),
            _ => None,
        }
    }
    /// The scenario spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::V2_42 => "2.42",
            Profile::V3 => "3.x",
        }
    }
    /// §4.1: poll every 10 ms (v2.42) or read on notification (v2.45.0+).
    pub fn read_trigger(self) -> ReadTrigger {
        match self {
            Profile::V2_42 => ReadTrigger::Poll10ms,
            Profile::V3 => ReadTrigger::Notify,
        }
    }
    /// §8.2: v2.48.0+ honours Retry-After on 5xx; v2.42 only on a retried 429.
    pub fn retry_after_on_5xx(self) -> bool {
        self == Profile::V3
    }
    /// §9.3: v2.51.0+ disables resharding until `now + 2·sleep` after a recoverable error.
    pub fn reshard_disable_on_retry(self) -> bool {
        self == Profile::V3
    }
    /// §9.3: the last-send gate.
    pub fn reshard_send_gate(self) -> ReshardSendGate {
        match self {
            Profile::V2_42 => ReshardSendGate::TwiceBatchDeadline,
            Profile::V3 => ReshardSendGate::TenSeconds,
        }
    }
    /// §5, §8.1: `sample_age_limit` exists from v2.50.0.
    pub fn has_sample_age_limit(self) -> bool {
        self == Profile::V3
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
