//! The scenario's timed inputs: receiver fault windows, incidents, sender events and workload
//! changes. Every sender model schedules them up front in the same order (which breaks ties
//! at one instant) and notes the receiver's and the workload's edges in its timeline in the
//! same words, so that `rwsim compare` lines the timelines up.

use crate::config::SimConfig;
use crate::observer::NotableKind;
use crate::time::SimTime;

/// One timed input; indexes point into the configuration's lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    /// `receiver.faults[index]` starts or ends.
    Fault { index: u32, start: bool },
    /// `receiver.incidents[index]` starts or ends.
    Incident { index: u32, start: bool },
    /// `sender.events[index]` happens (each model handles its own).
    Sender { index: u32 },
    /// `workload.changes[index]` takes effect.
    WorkloadChange { index: u32 },
}

impl Edge {
    /// Every edge of `cfg` with its time, in scheduling order: each fault's start and end,
    /// the sender events, the workload changes, then each incident's start and end.
    pub(crate) fn all(cfg: &SimConfig) -> Vec<(SimTime, Edge)> {
        let mut out = Vec::new();
        for (i, f) in cfg.receiver.faults.iter().enumerate() {
            let index = i as u32;
            out.push((SimTime(f.start.nanos()), Edge::Fault { index, start: true }));
            out.push((SimTime(f.end.nanos()), Edge::Fault { index, start: false }));
        }
        for (i, e) in cfg.sender.events.iter().enumerate() {
            out.push((SimTime(e.at.nanos()), Edge::Sender { index: i as u32 }));
        }
        for (i, ch) in cfg.workload.changes.iter().enumerate() {
            out.push((SimTime(ch.at.nanos()), Edge::WorkloadChange { index: i as u32 }));
        }
        for (i, inc) in cfg.receiver.incidents.iter().enumerate() {
            let index = i as u32;
            out.push((SimTime(inc.start.nanos()), Edge::Incident { index, start: true }));
            if let Some(end) = inc.end {
                out.push((SimTime(end.nanos()), Edge::Incident { index, start: false }));
            }
        }
        out
    }

    /// The timeline note of a receiver or workload edge (`None` for a sender event: the
    /// model notes what it does).
    pub(crate) fn note(self, cfg: &SimConfig) -> Option<(NotableKind, String)> {
        Some(match self {
            Edge::Fault { index, start: true } => {
                let f = &cfg.receiver.faults[index as usize];
                let pct = f.probability * 100.0;
                let ra = f.retry_after.map(|r| format!(", Retry-After {r}")).unwrap_or_default();
                let length = f.end.saturating_sub(f.start);
                let msg = format!("receiver fault #{index}: {} on {pct:.0}% of requests{ra}, for {length}", f.response);
                (NotableKind::FaultStarted, msg)
            }
            Edge::Fault { index, start: false } => {
                let f = &cfg.receiver.faults[index as usize];
                (NotableKind::FaultEnded, format!("receiver fault #{index} ({}) ended", f.response))
            }
            Edge::Incident { index, start: true } => {
                let inc = &cfg.receiver.incidents[index as usize];
                (NotableKind::IncidentStarted, format!("incident #{index} started: {}", inc.kind))
            }
            Edge::Incident { index, start: false } => {
                let inc = &cfg.receiver.incidents[index as usize];
                (NotableKind::IncidentEnded, format!("incident #{index} ({}) ended", inc.kind.name()))
            }
            Edge::WorkloadChange { index } => {
                let w = &cfg.workload;
                let i = index as usize;
                let prev = if i == 0 { w.series } else { w.changes[i - 1].series };
                (NotableKind::WorkloadChanged, format!("workload: {prev} → {} series", w.changes[i].series))
            }
            Edge::Sender { .. } => return None,
        })
    }
}
