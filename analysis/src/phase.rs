//! Moving an outage against the WAL's truncation schedule.
//!
//! A Prometheus server cuts head blocks at multiples of `min_block_duration` R in Unix time
//! (and truncates the WAL about 1.5 R after a block starts); an agent and Alloy truncate on a
//! timer from the process start. Whether an outage loses data depends on where it starts
//! within that cycle — its *phase* — which nobody chooses. [`shift_for_phase`] finds the
//! smallest move of every fault window, incident and sender event that puts the outage at a
//! given phase while keeping them all inside the run; [`shifted`] applies it.

use sim_core::config::{IncidentKind, SenderEventKind, SenderMode, SimConfig};
use sim_core::sender::agent::AgentOptions;
use sim_core::time::{NANOS_PER_MILLI, SimDuration};

/// The truncation cycle in nanoseconds (at least 1 ms): the block range R of a server, the
/// truncation period of an agent or Alloy.
pub fn block_nanos(cfg: &SimConfig) -> u64 {
    let period = match &cfg.sender.mode {
        SenderMode::Server => cfg.tsdb.min_block_duration,
        SenderMode::Agent(a) => AgentOptions::from_flags(a).truncate_frequency,
        SenderMode::Alloy(a) => a.truncate_frequency,
        // vmagent has no WAL to truncate; its only cycle is the pendingSeries flush tick.
        SenderMode::Vmagent(v) => v.flush_interval,
    };
    period.nanos().max(NANOS_PER_MILLI)
}

/// What a phase is measured from, in words: a server's block boundary (Unix time), an
/// agent's or Alloy's truncation tick (from the process start).
pub fn reference(cfg: &SimConfig) -> &'static str {
    match cfg.sender.mode {
        SenderMode::Server => "block boundary",
        SenderMode::Agent(_) | SenderMode::Alloy(_) => "WAL truncation tick",
        SenderMode::Vmagent(_) => "vmagent flush tick",
    }
}

/// Grid phases sit this far past `k·R/n`: half the period of Prometheus's 10 s reshard
/// ticker, so that an outage never starts on the very instant of a tick. (A scenario's round
/// numbers put every tick, scrape and fault edge on whole seconds; an outage starting on a
/// tick that begins a reshard catches the drain and loses its queue at the flush deadline,
/// which a real outage does only if it starts within the drain's few milliseconds.)
pub const GRID_OFFSET: SimDuration = SimDuration::from_secs(5);

/// `n` evenly spaced phases over one block range, [`GRID_OFFSET`] past `k·R/n`.
pub fn grid(cfg: &SimConfig, n: usize) -> Vec<SimDuration> {
    let r = block_nanos(cfg);
    let n = n.max(1) as u64;
    (0..n).map(|k| SimDuration((r / n * k + GRID_OFFSET.nanos()) % r)).collect()
}

/// Offsets (from the start of the run) of everything that moves with the outage, as
/// `(first, last)` bounds: fault windows, incidents with an end, and scheduled crashes. An
/// incident without an end spans the rest of the run and does not move (its scheduled crash
/// does).
struct Movable {
    /// Earliest start: the outage's start, whose phase is varied.
    anchor: u64,
    /// How far everything may move earlier (−) and later (+) and stay inside the run.
    earliest: i128,
    latest: i128,
}

fn movable(cfg: &SimConfig) -> Option<Movable> {
    let run = cfg.duration.nanos() as i128;
    // (anchor, how far earlier it may move, how far later), per thing that moves.
    let mut items: Vec<(u64, i128, i128)> = Vec::new();
    for f in &cfg.receiver.faults {
        items.push((f.start.nanos(), -(f.start.nanos() as i128), run - f.end.nanos() as i128));
    }
    // The sender's own events (restarts, kills, reloads) move with the outage.
    for ev in &cfg.sender.events {
        let at = ev.at.nanos() as i128;
        let end = match &ev.kind {
            SenderEventKind::Oom(o) => o.end.map_or(at, |e| e.nanos() as i128),
            _ => at,
        };
        items.push((at as u64, -at, run - 1 - end));
    }
    for inc in &cfg.receiver.incidents {
        match inc.end {
            Some(end) => items.push((inc.start.nanos(), -(inc.start.nanos() as i128), run - end.nanos() as i128)),
            None => {
                if let IncidentKind::Oom(o) = &inc.kind
                    && let Some(at) = o.crash_at
                {
                    // The crash moves within its open-ended incident.
                    let at = at.nanos() as i128;
                    items.push((at as u64, inc.start.nanos() as i128 - at, run - 1 - at));
                }
            }
        }
    }
    let anchor = items.iter().map(|i| i.0).min()?;
    let earliest = items.iter().map(|i| i.1).max()?;
    let latest = items.iter().map(|i| i.2).min()?;
    (earliest <= latest).then_some(Movable { anchor, earliest, latest })
}

/// The start of the outage (the earliest fault window, incident with an end, or scheduled
/// crash), if the scenario has one.
pub fn outage_start(cfg: &SimConfig) -> Option<SimDuration> {
    movable(cfg).map(|m| SimDuration(m.anchor))
}

/// The phase of offset `t`: how long after a block boundary (Unix time, multiples of R) it
/// falls, or for an agent or Alloy after a truncation tick (multiples of the period from the
/// process start).
pub fn phase_of(cfg: &SimConfig, t: SimDuration) -> SimDuration {
    let r = u128::from(block_nanos(cfg));
    let origin = match cfg.sender.mode {
        SenderMode::Server => u128::from(cfg.clock.start_unix_nanos),
        SenderMode::Agent(_) | SenderMode::Alloy(_) | SenderMode::Vmagent(_) => 0,
    };
    SimDuration(((origin + u128::from(t.nanos())) % r) as u64)
}

/// The move (nanoseconds, negative is earlier) that makes the outage start `phase` after a
/// block boundary with the smallest change, keeping every window inside the run; `None` if
/// no move does (a window spanning most of the run).
pub fn shift_for_phase(cfg: &SimConfig, phase: SimDuration) -> Option<i64> {
    let m = movable(cfg)?;
    let r = i128::from(block_nanos(cfg));
    let now = i128::from(phase_of(cfg, SimDuration(m.anchor)).nanos());
    let base = (i128::from(phase.nanos()) - now).rem_euclid(r);
    // Candidates base + k·R inside [earliest, latest], smallest |move| first, earlier on a tie.
    let k_lo = (m.earliest - base).div_euclid(r) - 1;
    let k_hi = (m.latest - base).div_euclid(r) + 1;
    (k_lo..=k_hi)
        .map(|k| base + k * r)
        .filter(|d| (m.earliest..=m.latest).contains(d))
        .min_by_key(|d| (d.abs(), *d))
        .map(|d| d as i64)
}

/// The share of phases `[0, R)` that [`shift_for_phase`] can reach: 1 when the windows may
/// move by a whole block range.
pub fn reachable_share(cfg: &SimConfig) -> f64 {
    match movable(cfg) {
        Some(m) => ((m.latest - m.earliest) as f64 / block_nanos(cfg) as f64).min(1.0),
        None => 0.0,
    }
}

/// `cfg` with every fault window, incident with an end, scheduled crash and sender event
/// moved by `delta` nanoseconds (from [`shift_for_phase`], so everything stays inside the
/// run).
pub fn shifted(cfg: &SimConfig, delta: i64) -> SimConfig {
    let mut c = cfg.clone();
    let mv = |d: SimDuration| SimDuration((i128::from(d.nanos()) + i128::from(delta)).max(0) as u64);
    for ev in &mut c.sender.events {
        ev.at = mv(ev.at);
        if let SenderEventKind::Oom(o) = &mut ev.kind {
            o.end = o.end.map(mv);
        }
    }
    for f in &mut c.receiver.faults {
        f.start = mv(f.start);
        f.end = mv(f.end);
    }
    for inc in &mut c.receiver.incidents {
        if let Some(end) = inc.end {
            inc.start = mv(inc.start);
            inc.end = Some(mv(end));
        }
        if let IncidentKind::Oom(o) = &mut inc.kind {
            o.crash_at = o.crash_at.map(mv);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::config::{FaultWindow, Response};
    use sim_core::profile::Profile;

    fn outage(start_h: u64, end_h: u64, run_h: u64) -> SimConfig {
        let mut c = SimConfig::baseline(Profile::V3);
        c.duration = SimDuration::from_hours(run_h);
        c.receiver.faults.push(FaultWindow {
            start: SimDuration::from_hours(start_h),
            end: SimDuration::from_hours(end_h),
            response: Response::Status(503),
            probability: 1.0,
            retry_after: None,
            latency: None,
        });
        c
    }

    #[test]
    fn phases_are_reached_by_the_smallest_move_inside_the_run() {
        let c = outage(1, 5, 12); // starts 1h after a boundary (2h blocks, midnight start)
        assert_eq!(phase_of(&c, SimDuration::from_hours(1)), SimDuration::from_hours(1));
        let m = |mins: u64| shift_for_phase(&c, SimDuration::from_mins(mins)).map(|d| d / 60_000_000_000);
        assert_eq!(m(60), Some(0));
        assert_eq!(m(59), Some(-1));
        assert_eq!(m(90), Some(30));
        assert_eq!(m(0), Some(-60), "an hour earlier, not an hour later: a tie goes earlier");
        assert_eq!(m(119), Some(59));
        let s = shifted(&c, -3_600_000_000_000);
        assert_eq!(
            (s.receiver.faults[0].start, s.receiver.faults[0].end),
            (SimDuration::ZERO, SimDuration::from_hours(4))
        );
        assert_eq!(reachable_share(&c), 1.0);

        // A window near the end can only move earlier.
        let c = outage(10, 12, 12);
        assert_eq!(shift_for_phase(&c, SimDuration::from_mins(30)).map(|d| d / 60_000_000_000), Some(-90));
        // A window over the whole run cannot move.
        let c = outage(0, 12, 12);
        assert_eq!(shift_for_phase(&c, SimDuration::from_mins(30)), None);
        assert_eq!(shift_for_phase(&c, SimDuration::ZERO), Some(0));
        assert_eq!(reachable_share(&c), 0.0);
    }

    #[test]
    fn the_unix_start_sets_the_phase() {
        let mut c = outage(1, 5, 12);
        c.clock.start_unix_nanos += 30 * 60 * 1_000_000_000;
        assert_eq!(phase_of(&c, SimDuration::from_hours(1)), SimDuration::from_mins(90));
    }
}
