//! The outage budget: the longest outage of the scenario's kind that loses nothing.
//!
//! The outage is the scenario's first fault window (else its first incident with an end),
//! alone: other windows and incidents are left out, so the answer is about one outage. For
//! each of `P` phases over one block range ([`crate::phase`]), lengths are tried on a grid
//! (`step`, `2·step`, ...) until one loses data; between the last lossless grid length and
//! the first lossy one, bisection finds the boundary to `resolution`. Loss against length is
//! not monotone everywhere (a longer outage can end after a truncation that a shorter one
//! straddles), so the budget of a phase is the length before the *first* loss on the grid —
//! every shorter grid length was run and lost nothing — and a lossy stretch shorter than
//! `step` inside it could be missed (`step` is the grid's resolution for that; the
//! bisection assumes no such stretch). The worst phase has the smallest budget, the best
//! the largest; their loss-against-length curves over the whole grid are returned for a
//! table and a chart.
//!
//! Each run lasts until two block ranges after the outage ends (the scenario's own length
//! if longer); a queue still behind then runs two block ranges more, and if it is still
//! behind, the length counts as lossy (it would be, sooner or later) and is marked.

use crate::phase;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sim_core::SimError;
use sim_core::config::SimConfig;
use sim_core::result::RunResult;
use sim_core::time::SimDuration;
use std::collections::BTreeMap;

/// The search's grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Phases over one block range.
    pub phases: usize,
    /// Spacing of the length grid (a multiple of `resolution`).
    pub step: SimDuration,
    /// Longest length tried.
    pub max_length: SimDuration,
    /// The bisection's resolution: budgets are multiples of it.
    pub resolution: SimDuration,
    /// Rounds of refinement around the worst and the best phase, each halving the phase
    /// spacing there (as the robust answer does): a budget can jump between two phases of
    /// the grid, where an outage starts late enough to miss a truncation, and the worst
    /// phase sits just before such a jump.
    pub refine_rounds: usize,
}

impl Options {
    /// The defaults for a scenario: 8 phases refined to R/64 around the worst and the best,
    /// lengths every R/4 up to 4R (R the block range), to the minute.
    pub fn for_scenario(cfg: &SimConfig) -> Options {
        let r = phase::block_nanos(cfg);
        let min = SimDuration::from_mins(1);
        let step = SimDuration((r / 4 / min.nanos()).max(1) * min.nanos());
        Options { phases: 8, step, max_length: SimDuration(step.nanos() * 16), resolution: min, refine_rounds: 3 }
    }
}

/// One point of a loss-against-length curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Outage length, seconds.
    pub length_seconds: f64,
    /// Samples that never reach the receiver.
    pub lost_samples: u64,
    /// `lost_samples / appended`.
    pub loss_fraction: f64,
    /// The time's worth of data lost, seconds.
    pub lost_seconds: f64,
    /// Whether the queue had caught up by the end of the run (if not, counted as lossy).
    pub settled: bool,
    /// Why most of the data was lost (the reason of the gap with the most time lost).
    pub reason: Option<sim_core::gaps::LossReason>,
}

impl CurvePoint {
    /// Whether the outage loses data (or has not caught up by the end of its run).
    pub fn lossy(&self) -> bool {
        self.lost_samples > 0 || !self.settled
    }
}

/// The budget at one phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseBudget {
    /// How long after a block boundary the outage starts, seconds.
    pub phase_seconds: f64,
    /// The longest length that loses nothing (every shorter grid length too), seconds;
    /// `None` when nothing up to the longest length tried loses data.
    pub budget_seconds: Option<f64>,
    /// The shortest length seen to lose data, seconds.
    pub first_loss_seconds: Option<f64>,
}

/// What `rwsim budget` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// The outage whose length is varied, e.g. `receiver.fault[0]`.
    pub window: String,
    /// What it does, e.g. `503 on 100% of requests`.
    pub kind: String,
    /// The scenario's own length of it, seconds.
    pub scenario_length_seconds: f64,
    /// Windows and incidents left out, by key.
    pub left_out: Vec<String>,
    /// What phases are measured from (see [`crate::phase::reference`]).
    pub reference: String,
    /// The truncation cycle (`tsdb.min_block_duration`, or the agent's or Alloy's period),
    /// seconds.
    pub block_seconds: f64,
    /// Grid spacing, seconds.
    pub step_seconds: f64,
    /// Longest length tried, seconds.
    pub max_length_seconds: f64,
    /// Resolution of the budgets, seconds.
    pub resolution_seconds: f64,
    /// Phases of the even grid; `phases` holds more when refinement added some.
    #[serde(default)]
    pub grid_phases: usize,
    /// The finest phase spacing reached around the worst and the best phase, seconds (the
    /// grid's spacing when nothing was refined).
    #[serde(default)]
    pub phase_resolution_seconds: f64,
    /// Per phase, in phase order.
    pub phases: Vec<PhaseBudget>,
    /// The phase with the smallest budget.
    pub worst: PhaseBudget,
    /// The phase with the largest budget.
    pub best: PhaseBudget,
    /// Loss against length at the worst phase, over the whole grid.
    pub curve_worst: Vec<CurvePoint>,
    /// Loss against length at the best phase.
    pub curve_best: Vec<CurvePoint>,
    /// Simulations run.
    pub runs: usize,
}

/// Why a scenario has no budget to search.
#[derive(Debug)]
pub enum BudgetError {
    /// No fault window or incident with an end.
    NoOutage,
    /// A run failed.
    Sim(SimError),
    /// The options do not make a grid.
    Options(String),
}

impl std::fmt::Display for BudgetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BudgetError::NoOutage => f.write_str(
                "the scenario has no outage to lengthen: add a [[receiver.fault]] window (or an incident with an end)",
            ),
            BudgetError::Sim(e) => e.fmt(f),
            BudgetError::Options(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BudgetError {}

impl From<SimError> for BudgetError {
    fn from(e: SimError) -> Self {
        BudgetError::Sim(e)
    }
}

/// Whether the scenario has an outage whose length [`search`] can vary: a fault window, or
/// an incident with an end.
pub fn has_outage(cfg: &SimConfig) -> bool {
    main_outage(cfg).is_ok()
}

/// The scenario reduced to its main outage: `(config, window key, kind, own length, left out)`.
fn main_outage(cfg: &SimConfig) -> Result<(SimConfig, String, String, SimDuration, Vec<String>), BudgetError> {
    let mut c = cfg.clone();
    let mut left_out = Vec::new();
    if let Some(f) = cfg.receiver.faults.first() {
        let kind = format!("{} on {}% of requests", f.response, crate_pct(f.probability));
        left_out.extend((1..cfg.receiver.faults.len()).map(|i| format!("receiver.fault[{i}]")));
        left_out.extend((0..cfg.receiver.incidents.len()).map(|i| format!("receiver.incident[{i}]")));
        c.receiver.faults.truncate(1);
        c.receiver.incidents.clear();
        return Ok((c, "receiver.fault[0]".into(), kind, f.end.saturating_sub(f.start), left_out));
    }
    let Some(i) = cfg.receiver.incidents.iter().position(|inc| inc.end.is_some()) else {
        return Err(BudgetError::NoOutage);
    };
    let inc = cfg.receiver.incidents[i].clone();
    left_out.extend((0..cfg.receiver.incidents.len()).filter(|&j| j != i).map(|j| format!("receiver.incident[{j}]")));
    c.receiver.incidents = vec![inc.clone()];
    let len = inc.end.expect("an incident with an end").saturating_sub(inc.start);
    Ok((c, format!("receiver.incident[{i}]"), inc.kind.to_string(), len, left_out))
}

/// The length of the outage [`search`] would lengthen (the first fault window, else the
/// first incident with an end), if the scenario has one.
pub fn outage_length(cfg: &SimConfig) -> Option<SimDuration> {
    main_outage(cfg).ok().map(|(_, _, _, len, _)| len)
}

fn crate_pct(p: f64) -> String {
    let v = p * 100.0;
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }
}

/// The configuration of the main outage at `phase` lasting `length`.
fn outage_at(base: &SimConfig, phase_at: SimDuration, length: SimDuration, settle: SimDuration) -> SimConfig {
    let mut c = base.clone();
    let r = phase::block_nanos(base);
    // Start: the scenario's own start moved to the phase, never before the run's start.
    let own = if let Some(f) = c.receiver.faults.first() { f.start } else { c.receiver.incidents[0].start };
    let now = phase::phase_of(base, own).nanos();
    let base_shift = (i128::from(phase_at.nanos()) - i128::from(now)).rem_euclid(i128::from(r));
    let start = [base_shift - i128::from(r), base_shift]
        .into_iter()
        .map(|d| i128::from(own.nanos()) + d)
        .filter(|s| *s >= 0)
        .min_by_key(|s| (s - i128::from(own.nanos())).abs())
        .expect("the later candidate is never negative") as u64;
    let (start, end) = (SimDuration(start), SimDuration(start + length.nanos()));
    c.duration = c.duration.max(end + settle);
    if let Some(f) = c.receiver.faults.first_mut() {
        f.start = start;
        f.end = end;
    } else {
        let inc = &mut c.receiver.incidents[0];
        inc.start = start;
        inc.end = Some(end);
    }
    c
}

fn point(length: SimDuration, r: &RunResult) -> CurvePoint {
    let lost = r.gaps.samples;
    CurvePoint {
        length_seconds: length.as_secs_f64(),
        lost_samples: lost,
        loss_fraction: r.loss_fraction(),
        lost_seconds: r.gaps.lost_seconds,
        settled: r.lag_seconds.final_ <= sim_core::result::BEHIND_LAG_SECS || r.samples.unsendable_at_end > 0,
        reason: r.gaps.largest_gap().map(|g| g.reason),
    }
}

/// The searcher: the reduced scenario, its phases and every run made so far.
struct Search {
    base: SimConfig,
    phases: Vec<SimDuration>,
    resolution: u64,
    settle: SimDuration,
    /// (phase index, length in resolution units) → result.
    seen: BTreeMap<(usize, u64), CurvePoint>,
    runs: usize,
}

impl Search {
    /// Runs every (phase, length) not seen yet, in parallel.
    fn run(&mut self, wanted: &[(usize, u64)]) -> Result<(), SimError> {
        let mut todo: Vec<(usize, u64)> = wanted.iter().copied().filter(|k| !self.seen.contains_key(k)).collect();
        todo.sort_unstable();
        todo.dedup();
        let pts: Vec<CurvePoint> = todo
            .par_iter()
            .map(|&(p, k)| {
                let len = SimDuration(k * self.resolution);
                if k == 0 {
                    return Ok(CurvePoint {
                        length_seconds: 0.0,
                        lost_samples: 0,
                        loss_fraction: 0.0,
                        lost_seconds: 0.0,
                        settled: true,
                        reason: None,
                    });
                }
                let cfg = outage_at(&self.base, self.phases[p], len, self.settle);
                let r = sim_core::simulate(&cfg, &mut ())?;
                let pt = point(len, &r);
                if pt.settled {
                    return Ok(pt);
                }
                let mut longer = cfg.clone();
                longer.duration = cfg.duration + self.settle;
                Ok(point(len, &sim_core::simulate(&longer, &mut ())?))
            })
            .collect::<Result<_, SimError>>()?;
        self.runs += todo.iter().filter(|k| k.1 > 0).count();
        for (k, pt) in todo.into_iter().zip(pts) {
            self.seen.insert(k, pt);
        }
        Ok(())
    }

    fn lossy(&self, k: (usize, u64)) -> bool {
        self.seen[&k].lossy()
    }

    /// The budget of each phase of `ps` as `(last lossless, first lossy)` in resolution
    /// units (`None`: nothing up to `max` loses data): the grid of lengths walked (every
    /// `step`, all phases in step) until each finds a loss, then bisection between the last
    /// lossless grid length and the first lossy one.
    fn budgets(&mut self, ps: &[usize], step: u64, max: u64) -> Result<Vec<Option<(u64, u64)>>, SimError> {
        let n = ps.len();
        let mut first_loss: Vec<Option<u64>> = vec![None; n];
        let mut k = step;
        while k <= max {
            let open: Vec<usize> = (0..n).filter(|&i| first_loss[i].is_none()).collect();
            if open.is_empty() {
                break;
            }
            let wanted: Vec<(usize, u64)> = open.iter().map(|&i| (ps[i], k)).collect();
            self.run(&wanted)?;
            for i in open {
                if self.lossy((ps[i], k)) {
                    first_loss[i] = Some(k);
                }
            }
            k += step;
        }
        let mut bounds: Vec<Option<(u64, u64)>> = first_loss.iter().map(|f| f.map(|hi| (hi - step, hi))).collect();
        loop {
            let mids: Vec<(usize, u64)> = (0..n)
                .filter_map(|i| bounds[i].filter(|(lo, hi)| hi - lo > 1).map(|(lo, hi)| (i, lo + (hi - lo) / 2)))
                .collect();
            if mids.is_empty() {
                break;
            }
            self.run(&mids.iter().map(|&(i, mid)| (ps[i], mid)).collect::<Vec<_>>())?;
            for (i, mid) in mids {
                let (lo, hi) = bounds[i].expect("bisecting");
                bounds[i] = Some(if self.lossy((ps[i], mid)) { (lo, mid) } else { (mid, hi) });
            }
        }
        Ok(bounds)
    }
}

/// The phase with the smallest budget and the one with the largest (`None`, no loss up to
/// the longest length, is the largest), the earlier phase on a tie.
fn extremes(phases: &[SimDuration], bounds: &[Option<(u64, u64)>]) -> (usize, usize) {
    let key = |i: usize| bounds[i].map_or(u64::MAX, |(lo, _)| lo);
    let worst = (0..phases.len()).min_by_key(|&i| (key(i), phases[i])).expect("phases");
    let best = (0..phases.len()).max_by(|&a, &b| key(a).cmp(&key(b)).then(phases[b].cmp(&phases[a]))).expect("phases");
    (worst, best)
}

/// Searches the outage budget of `cfg` (see the module doc).
pub fn search(cfg: &SimConfig, opts: &Options) -> Result<Budget, BudgetError> {
    let res = opts.resolution.nanos();
    if res == 0 || opts.step.nanos() == 0 || !opts.step.nanos().is_multiple_of(res) {
        return Err(BudgetError::Options("the step must be a positive multiple of the resolution".into()));
    }
    if opts.max_length < opts.step || opts.phases == 0 {
        return Err(BudgetError::Options(
            "the longest length must be at least one step, with at least one phase".into(),
        ));
    }
    let (mut base, window, kind, own_len, left_out) = main_outage(cfg)?;
    // A curve point reads losses only, never the latency histogram.
    base.limits.delivery_latency = false;
    let r = phase::block_nanos(cfg);
    let step = opts.step.nanos() / res;
    let max = opts.max_length.nanos() / res / step * step;
    let mut s = Search {
        base,
        phases: phase::grid(cfg, opts.phases),
        resolution: res,
        settle: SimDuration(2 * r),
        seen: BTreeMap::new(),
        runs: 0,
    };
    let n = opts.phases;
    let mut bounds = s.budgets(&(0..n).collect::<Vec<_>>(), step, max)?;
    // Refine around the worst and the best phase: halve the spacing there, each round.
    let mut spacing = r / n as u64;
    for _ in 0..opts.refine_rounds {
        if spacing / 2 < 1_000_000_000 {
            break;
        }
        spacing /= 2;
        let (worst, best) = extremes(&s.phases, &bounds);
        let mut fresh = Vec::new();
        for i in [worst, best] {
            let p = s.phases[i].nanos();
            for q in [(p + r - spacing) % r, (p + spacing) % r] {
                if !s.phases.iter().any(|x| x.nanos() == q) {
                    s.phases.push(SimDuration(q));
                    fresh.push(s.phases.len() - 1);
                }
            }
        }
        bounds.extend(s.budgets(&fresh, step, max)?);
    }
    let secs = |k: u64| (k * res) as f64 / 1e9;
    let mut order: Vec<usize> = (0..s.phases.len()).collect();
    order.sort_by_key(|&i| s.phases[i]);
    let budget_at = |i: usize| PhaseBudget {
        phase_seconds: s.phases[i].as_secs_f64(),
        budget_seconds: bounds[i].map(|(lo, _)| secs(lo)),
        first_loss_seconds: bounds[i].map(|(_, hi)| secs(hi)),
    };
    let phases: Vec<PhaseBudget> = order.iter().map(|&i| budget_at(i)).collect();
    let (worst_i, best_i) = extremes(&s.phases, &bounds);
    let (worst, best) = (budget_at(worst_i), budget_at(best_i));
    let grid: Vec<u64> = (0..=max / step).map(|i| i * step).collect();
    let wanted: Vec<(usize, u64)> = grid.iter().flat_map(|&k| [(worst_i, k), (best_i, k)]).collect();
    s.run(&wanted)?;
    let curve = |p: usize| grid.iter().map(|&k| s.seen[&(p, k)].clone()).collect::<Vec<_>>();
    Ok(Budget {
        window,
        kind,
        scenario_length_seconds: own_len.as_secs_f64(),
        left_out,
        reference: phase::reference(cfg).into(),
        block_seconds: r as f64 / 1e9,
        step_seconds: secs(step),
        max_length_seconds: secs(max),
        resolution_seconds: secs(1),
        grid_phases: n,
        phase_resolution_seconds: spacing as f64 / 1e9,
        worst,
        best,
        curve_worst: curve(worst_i),
        curve_best: curve(best_i),
        phases,
        runs: s.runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::config::{FaultWindow, Response};
    use sim_core::profile::Profile;

    /// A small, fast scenario whose WAL loses data within the hour: 20-minute blocks, 10 MiB
    /// segments, ~8k samples/s.
    fn small() -> SimConfig {
        let mut c = SimConfig::baseline(Profile::V3);
        c.duration = SimDuration::from_mins(90);
        c.workload.series = 60_000;
        c.workload.targets = 20;
        c.workload.scrape_interval = SimDuration::from_secs(10);
        c.tsdb.min_block_duration = SimDuration::from_mins(20);
        c.tsdb.wal_segment_size = 10 << 20;
        c.receiver.faults.push(FaultWindow {
            start: SimDuration::from_mins(30),
            end: SimDuration::from_mins(40),
            response: Response::Status(503),
            probability: 1.0,
            retry_after: None,
            latency: None,
        });
        c
    }

    /// The budget equals a brute-force scan of every length at the resolution, at every
    /// phase of the grid and of its refinement.
    #[test]
    fn budget_equals_brute_force_on_a_small_grid() {
        let cfg = small();
        let opts = Options {
            phases: 4,
            step: SimDuration::from_mins(8),
            max_length: SimDuration::from_mins(40),
            resolution: SimDuration::from_mins(2),
            refine_rounds: 2,
        };
        let b = search(&cfg, &opts).unwrap();
        let (base, ..) = main_outage(&cfg).unwrap();
        let settle = SimDuration(2 * phase::block_nanos(&cfg));
        let phases: Vec<SimDuration> = b.phases.iter().map(|p| SimDuration::from_secs_f64(p.phase_seconds)).collect();
        assert_eq!(b.grid_phases, 4);
        assert!(phase::grid(&cfg, 4).iter().all(|g| phases.contains(g)), "{phases:?}");
        assert!(phases.len() > 4 && phases.is_sorted(), "refined, in phase order: {phases:?}");
        // Refinement halves the spacing around the worst phase: its neighbours are 2.5 min away.
        let worst = SimDuration::from_secs_f64(b.worst.phase_seconds);
        let r = phase::block_nanos(&cfg);
        let near = |d: u64| phases.iter().any(|p| (p.nanos() + r - worst.nanos()) % r == d);
        assert!(near(150_000_000_000) || near(r - 150_000_000_000), "{phases:?} around {worst:?}");
        for (i, pb) in b.phases.iter().enumerate() {
            let ph = phases[i];
            let mut brute = None;
            for k in 1..=20u64 {
                let len = SimDuration::from_mins(2 * k);
                let c = outage_at(&base, ph, len, settle);
                let r = sim_core::simulate(&c, &mut ()).unwrap();
                let mut pt = point(len, &r);
                if !pt.settled {
                    let mut longer = c.clone();
                    longer.duration = c.duration + settle;
                    pt = point(len, &sim_core::simulate(&longer, &mut ()).unwrap());
                }
                if pt.lossy() {
                    brute = Some(((k - 1) * 120) as f64);
                    break;
                }
            }
            assert_eq!(pb.budget_seconds, brute, "phase {i}: {pb:?}");
        }
        let key = |p: &PhaseBudget| p.budget_seconds.unwrap_or(f64::INFINITY);
        assert!(b.phases.iter().all(|p| key(&b.worst) <= key(p) && key(p) <= key(&b.best)), "{b:?}");
        assert!(b.phases.iter().any(|p| p.budget_seconds.is_some()), "the grid reaches a loss: {b:?}");
        assert!(b.worst.budget_seconds.unwrap_or(f64::INFINITY) <= b.best.budget_seconds.unwrap_or(f64::INFINITY));
        assert_eq!(b.curve_worst.len(), 6, "0 to 40 minutes every 8");
        assert_eq!(b.curve_worst[0].lost_samples, 0);
    }

    #[test]
    fn a_scenario_without_an_outage_has_no_budget() {
        let cfg = SimConfig::baseline(Profile::V3);
        assert!(matches!(search(&cfg, &Options::for_scenario(&cfg)), Err(BudgetError::NoOutage)));
    }
}
