//! One scenario, several senders: `rwsim compare FILE --senders prometheus-3.x,agent,alloy,vmagent`
//! loads the same file once per sender. The workload, receiver, faults and sender events stay;
//! the sender changes, with its own defaults unless the file sets them: `[sender.agent]` applies
//! to the agent only, `[sender.alloy]` to Alloy, `[vmagent]` to vmagent, and settings a sender
//! does not have (Prometheus's `queue_config` for vmagent, a server's block range for an agent)
//! are left out for that sender rather than refused.

use crate::raw::{ScenarioFile, Version};
use sim_core::profile::Profile;
use sim_core::sender::vmagent::VmVersion;
use std::fmt;

/// A sender of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SenderChoice {
    /// Prometheus in server mode; `None`: the file's `prometheus` version.
    Prometheus(Option<Profile>),
    /// Prometheus in agent mode (the file's version).
    Agent,
    /// Grafana Alloy (Prometheus 3.x code).
    Alloy,
    /// vmagent; `None`: the file's `[vmagent] version` (default current).
    Vmagent(Option<VmVersion>),
}

impl SenderChoice {
    /// Parses one name of `--senders`: `prometheus` (`server`), `prometheus-2.42`,
    /// `prometheus-3.x`, `agent`, `alloy`, `vmagent`, `vmagent-1.79`, `vmagent-current`.
    ///
    /// ```
    /// use scenarios::compare::SenderChoice;
    /// assert_eq!(SenderChoice::parse("vmagent-1.79").unwrap().label(), "vmagent-1.79");
    /// assert!(SenderChoice::parse("telegraf").unwrap_err().contains("prometheus-3.x"));
    /// ```
    pub fn parse(s: &str) -> Result<SenderChoice, String> {
        Ok(match s.trim() {
            "prometheus" | "server" => SenderChoice::Prometheus(None),
            "prometheus-2.42" => SenderChoice::Prometheus(Some(Profile::V2_42)),
            "prometheus-3.x" | "prometheus-3" => SenderChoice::Prometheus(Some(Profile::V3)),
            "agent" => SenderChoice::Agent,
            "alloy" => SenderChoice::Alloy,
            "vmagent" => SenderChoice::Vmagent(None),
            "vmagent-1.79" => SenderChoice::Vmagent(Some(VmVersion::V1_79)),
            "vmagent-current" => SenderChoice::Vmagent(Some(VmVersion::Current)),
            other => {
                return Err(format!(
                    "unknown sender {other:?}: expected prometheus, prometheus-2.42, prometheus-3.x, agent, alloy, \
                     vmagent, vmagent-1.79 or vmagent-current"
                ));
            }
        })
    }

    /// The name as given on the command line (canonical spelling).
    pub fn label(&self) -> String {
        match self {
            SenderChoice::Prometheus(None) => "prometheus".into(),
            SenderChoice::Prometheus(Some(p)) => format!("prometheus-{}", p.as_str()),
            SenderChoice::Agent => "agent".into(),
            SenderChoice::Alloy => "alloy".into(),
            SenderChoice::Vmagent(None) => "vmagent".into(),
            SenderChoice::Vmagent(Some(v)) => format!("vmagent-{}", v.as_str()),
        }
    }

    /// Points the parsed file at this sender: the mode, its version, and without the
    /// settings it does not have.
    pub(crate) fn retarget(&self, raw: &mut ScenarioFile) {
        let s = raw.sender.get_or_insert_with(Default::default);
        let vmagent = matches!(self, SenderChoice::Vmagent(_));
        s.mode = Some(
            match self {
                SenderChoice::Prometheus(_) => "server",
                SenderChoice::Agent => "agent",
                SenderChoice::Alloy => "alloy",
                SenderChoice::Vmagent(_) => "vmagent",
            }
            .to_string(),
        );
        if !matches!(self, SenderChoice::Agent) {
            s.agent = None;
        }
        if !matches!(self, SenderChoice::Alloy) {
            s.alloy = None;
        }
        if matches!(self, SenderChoice::Alloy) || vmagent {
            s.flush_deadline = None;
        }
        if vmagent {
            s.wal_persisted = None;
            s.wal_replay_bytes_per_second = None;
            s.reshard_tick_offset = None;
            for e in s.event.iter_mut().flatten() {
                e.replay_time = None;
            }
            if let Some(rw) = raw.remote_write.as_mut() {
                rw.queue_config = None;
                rw.remote_timeout = None;
            }
            raw.tsdb = None;
        } else {
            raw.vmagent = None;
        }
        if let Some(t) = raw.tsdb.as_mut() {
            if !matches!(self, SenderChoice::Prometheus(_)) {
                t.min_block_duration = None;
            }
            if matches!(self, SenderChoice::Alloy) {
                t.wal_segment_size = None;
            }
        }
        match self {
            SenderChoice::Prometheus(Some(p)) => raw.prometheus = Some(Version(*p)),
            SenderChoice::Alloy => raw.prometheus = Some(Version(Profile::V3)),
            SenderChoice::Vmagent(Some(v)) => {
                raw.vmagent.get_or_insert_with(Default::default).version = Some(v.as_str().to_string());
            }
            _ => {}
        }
    }
}

impl fmt::Display for SenderChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Parses a comma-separated `--senders` list; each sender at most once.
///
/// ```
/// let s = scenarios::compare::parse_senders("prometheus-3.x, agent,alloy,vmagent").unwrap();
/// assert_eq!(s.len(), 4);
/// assert!(scenarios::compare::parse_senders("agent,agent").is_err());
/// ```
pub fn parse_senders(list: &str) -> Result<Vec<SenderChoice>, String> {
    let mut out: Vec<SenderChoice> = Vec::new();
    for part in list.split(',').filter(|p| !p.trim().is_empty()) {
        let c = SenderChoice::parse(part)?;
        if out.contains(&c) {
            return Err(format!("--senders names {} twice", c.label()));
        }
        out.push(c);
    }
    if out.is_empty() {
        return Err("--senders is empty: name at least one sender, e.g. prometheus-3.x,vmagent".into());
    }
    Ok(out)
}
