//! The robust answer: best, median and worst case over what the user cannot control.
//!
//! One run answers for one accident of timing and one set of default constants. The same
//! 3-hour outage loses nothing when it starts in one part of a block range and a fifth of the
//! data in another; a WAL written at 9.4 bytes per sample instead of the default loses where
//! the default says nothing is lost. [`analyse`] runs the scenario over a fixed, deterministic
//! set of variations of exactly those things:
//!
//! 1. **Phase**: the outage (every fault window, incident and scheduled crash, moved
//!    together) started at `k·R/P` after a block boundary for `P` phases over one block range
//!    `R`, with the smallest move that keeps it inside the run ([`crate::phase`]).
//! 2. **Refinement**: around the worst phase (and the best, when even it loses data), halving
//!    the step each round, so the worst start is found to `R/(P·2^rounds)`.
//! 3. **At the worst phase**: each model constant the scenario does not set, at each value
//!    of its plausible range ([`crate::constants`]), one at a time; and other seeds, which
//!    move the scrape phases of the targets and the receiver's random draws.
//! 4. **Corner**: every constant and the seed at its most damaging value together, at the
//!    worst phase (and, when even the best phase loses data, at its kindest at the best).
//!
//! Worst and best are the extremes over every run; the median is over the `P` evenly spaced
//! phases with the scenario's own constants (the upper median for an even count) — how much a
//! typical start of this outage loses. Runs within a stage are independent and collected in
//! order (rayon), so the answer is the same on any number of threads.

use crate::constants::{CONSTANTS, Constant, Unit};
use crate::phase;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sim_core::SimError;
use sim_core::config::SimConfig;
use sim_core::gaps::Gap;
use sim_core::result::RunResult;
use sim_core::time::SimDuration;

/// How many variations to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Evenly spaced outage phases over one block range.
    pub phases: usize,
    /// Rounds of refinement around the worst (and best) phase, each halving the step.
    pub refine_rounds: usize,
    /// Seeds besides the scenario's, at the worst (and best) phase.
    pub extra_seeds: usize,
}

impl Default for Options {
    /// 8 phases (15 minutes apart with 2 h blocks), 3 rounds (to 1m52.5s), 2 more seeds.
    fn default() -> Self {
        Options { phases: 8, refine_rounds: 3, extra_seeds: 2 }
    }
}

/// A model constant set away from the scenario's value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetConstant {
    /// The scenario key.
    pub key: String,
    /// Its value (bytes per sample, or seconds for a duration).
    pub value: f64,
}

/// What one run changed from the scenario as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Variation {
    /// How long after a block boundary the outage starts, seconds (`None` without an outage).
    pub phase_seconds: Option<f64>,
    /// How far the outage was moved, seconds (negative is earlier; 0 as written).
    pub shift_seconds: f64,
    /// The seed, when not the scenario's.
    pub seed: Option<u64>,
    /// Model constants away from the scenario's values.
    pub constants: Vec<SetConstant>,
}

impl Variation {
    /// Whether this is the scenario as written.
    pub fn is_literal(&self) -> bool {
        self.shift_seconds == 0.0 && self.seed.is_none() && self.constants.is_empty()
    }
}

/// What one variation lost (and a few figures of how the queue fared).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// What was varied.
    pub variation: Variation,
    /// Samples that never reach the receiver (the gaps' samples).
    pub lost_samples: u64,
    /// Samples appended.
    pub appended: u64,
    /// Samples produced: appended plus never scraped ([`RunResult::produced`]).
    #[serde(default)]
    pub produced: u64,
    /// `lost_samples / produced`.
    pub loss_fraction: f64,
    /// The time's worth of data lost (Σ gap duration × coverage), seconds.
    pub lost_seconds: f64,
    /// The gap with the most time lost.
    pub largest_gap: Option<Gap>,
    /// Largest lag, seconds.
    pub lag_max_seconds: f64,
    /// Peak queue memory, bytes.
    pub queue_memory_bytes_peak: u64,
}

impl Outcome {
    /// The figures of run `r` of variation `v`.
    pub fn of(v: Variation, r: &RunResult) -> Outcome {
        let lost = r.gaps.samples;
        Outcome {
            variation: v,
            lost_samples: lost,
            appended: r.samples.appended,
            produced: r.produced(),
            loss_fraction: r.loss_fraction(),
            lost_seconds: r.gaps.lost_seconds,
            largest_gap: r.gaps.largest_gap().cloned(),
            lag_max_seconds: r.lag_seconds.max,
            queue_memory_bytes_peak: r.queue_memory_bytes_peak,
        }
    }

    /// What `loss_fraction` divides by: the produced samples (`appended` in a summary.json
    /// written before `produced` was recorded).
    pub fn produced_or_appended(&self) -> u64 {
        self.produced.max(self.appended)
    }

    /// Worse first: more time lost, then more samples.
    fn severity(&self) -> (f64, u64) {
        (self.lost_seconds, self.lost_samples)
    }
}

fn worse(a: &Outcome, b: &Outcome) -> bool {
    let (sa, na) = a.severity();
    let (sb, nb) = b.severity();
    sa.total_cmp(&sb).then(na.cmp(&nb)).is_gt()
}

/// A constant the robust answer varied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Varied {
    /// The scenario key.
    pub key: String,
    /// The scenario's value (its default).
    pub scenario_value: f64,
    /// The values tried.
    pub values: Vec<f64>,
    /// `true` for a duration in seconds.
    pub seconds: bool,
    /// Where the range comes from.
    pub source: String,
}

/// Something the robust answer did not vary, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotVaried {
    /// The scenario key, or `outage phase`.
    pub key: String,
    /// Why.
    pub why: String,
}

/// How the outage's phase was scanned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseScan {
    /// What phases are measured from: `block boundary` (a server's, Unix time) or `WAL
    /// truncation tick` (an agent's or Alloy's timer, from the process start).
    pub reference: String,
    /// The cycle: `tsdb.min_block_duration`, or the agent's or Alloy's truncation period,
    /// seconds.
    pub block_seconds: f64,
    /// Offset of the outage's start in the scenario, seconds.
    pub outage_start_seconds: f64,
    /// Evenly spaced phases run.
    pub grid: usize,
    /// The finest step around the worst phase, seconds.
    pub resolution_seconds: f64,
    /// Share of the block range the outage could be moved over inside the run (1 = all).
    pub reachable_share: f64,
    /// When some phases lose data and others do not: the lossless stretch around the best
    /// phase, its edges refined to `resolution_seconds` (starts outside it were seen to lose
    /// data, or were not tried).
    pub safe: Option<SafeRange>,
}

/// A stretch of outage phases that lose nothing: from `from` to `to` after a block boundary
/// (wrapping around the block range when `to < from`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SafeRange {
    /// First lossless phase seen, seconds after a block boundary.
    pub from_seconds: f64,
    /// Last lossless phase seen.
    pub to_seconds: f64,
}

/// The robust answer (the `robust` field of `rwsim run --json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Robust {
    /// Simulations run, the scenario as written included.
    pub runs: usize,
    /// The phase scan, when the scenario has an outage that can move.
    pub phase: Option<PhaseScan>,
    /// Seeds tried besides the scenario's.
    pub seeds: Vec<u64>,
    /// Constants varied.
    pub varied: Vec<Varied>,
    /// Constants (and the phase) left alone, and why.
    pub not_varied: Vec<NotVaried>,
    /// The scenario as written.
    pub literal: Outcome,
    /// The least loss of any run.
    pub best: Outcome,
    /// The median over the evenly spaced phases (the scenario as written without an outage).
    pub median: Outcome,
    /// The most loss of any run.
    pub worst: Outcome,
    /// Whether best or worst differ from the scenario as written.
    pub changes_answer: bool,
    /// Loss against the outage's phase with the scenario's constants, by phase.
    pub phase_curve: Vec<Outcome>,
    /// At the worst phase, one constant or seed at a time.
    pub sensitivity: Vec<Outcome>,
}

/// SplitMix64's finaliser, for derived seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `i`-th seed derived from the scenario's (63 bits, as a scenario can hold).
pub fn derived_seed(seed: u64, i: usize) -> u64 {
    mix(mix(seed ^ 0x524F_4255_5354) ^ i as u64) & (u64::MAX >> 1)
}

/// A variation and the configuration that runs it.
struct Job {
    v: Variation,
    cfg: SimConfig,
    /// The scenario's length when `cfg` stops early (see [`settle_cut`]).
    full: Option<SimDuration>,
}

/// Where a variation may stop: half a block range after the last fault window, incident,
/// sender event or workload change ends. A queue caught up by then, with nothing unsendable, loses nothing
/// more (a truncation only deletes WAL more than about half a block range old), so its
/// losses are those of the full run at a fraction of the cost; a run that has not caught up
/// is run again to the end (see [`run`]). `None` when the scenario has an open-ended
/// incident (it may strike at any time) or the cut would not be earlier than the end.
fn settle_cut(cfg: &SimConfig) -> Option<SimDuration> {
    let mut last = 0u64;
    for f in &cfg.receiver.faults {
        last = last.max(f.end.nanos());
    }
    for inc in &cfg.receiver.incidents {
        last = last.max(inc.end?.nanos());
    }
    for ch in &cfg.workload.changes {
        last = last.max(ch.at.nanos());
    }
    for ev in &cfg.sender.events {
        let end = match &ev.kind {
            sim_core::config::SenderEventKind::Oom(o) => o.end?,
            _ => ev.at,
        };
        last = last.max(end.nanos());
    }
    let cut = last.saturating_add(phase::block_nanos(cfg) / 2);
    (cut < cfg.duration.nanos()).then_some(SimDuration(cut))
}

/// Whether a run that stopped early had caught up.
fn settled(r: &RunResult) -> bool {
    r.lag_seconds.final_ <= sim_core::result::BEHIND_LAG_SECS && r.samples.unsendable_at_end == 0
}

/// Runs every job (in parallel, collected in order); a job that stopped early without
/// catching up runs again to the scenario's end.
fn run(jobs: &mut [Job]) -> Result<Vec<RunResult>, SimError> {
    let mut results: Vec<RunResult> =
        jobs.par_iter().map(|j| sim_core::simulate(&j.cfg, &mut ())).collect::<Result<_, _>>()?;
    let again: Vec<usize> = (0..jobs.len()).filter(|&i| jobs[i].full.is_some() && !settled(&results[i])).collect();
    for &i in &again {
        let j = &mut jobs[i];
        j.cfg.duration = j.full.take().expect("a cut job");
    }
    let rerun: Vec<RunResult> =
        again.par_iter().map(|&i| sim_core::simulate(&jobs[i].cfg, &mut ())).collect::<Result<_, _>>()?;
    for (i, r) in again.into_iter().zip(rerun) {
        results[i] = r;
    }
    Ok(results)
}

/// The plan's view of one scenario.
struct Plan<'a> {
    cfg: &'a SimConfig,
    varied: Vec<(&'static Constant, Vec<f64>)>,
    seeds: Vec<u64>,
    /// Whether the outage's phase is varied (then every variation names its phase).
    phases: bool,
}

impl Plan<'_> {
    /// The variation at `shift` (nanoseconds) with `constants` and `seed` set.
    fn job(&self, shift: i64, seed: Option<u64>, constants: &[(&Constant, f64)]) -> Job {
        let mut cfg = if shift == 0 { self.cfg.clone() } else { phase::shifted(self.cfg, shift) };
        if let Some(s) = seed {
            cfg.seed = s;
        }
        for (c, v) in constants {
            c.set(&mut cfg, *v);
        }
        // An outcome reads losses, lag and memory, never the latency histogram.
        cfg.limits.delivery_latency = false;
        let phase_seconds =
            phase::outage_start(&cfg).filter(|_| self.phases).map(|s| phase::phase_of(&cfg, s).as_secs_f64());
        let v = Variation {
            phase_seconds,
            shift_seconds: shift as f64 / 1e9,
            seed,
            constants: constants.iter().map(|(c, v)| SetConstant { key: c.key.to_string(), value: *v }).collect(),
        };
        let full = settle_cut(&cfg).map(|cut| std::mem::replace(&mut cfg.duration, cut));
        Job { v, cfg, full }
    }

    /// The figures of a job's run, its loss as a share of what the whole run appends.
    fn outcome(&self, j: &Job, r: &RunResult) -> Outcome {
        let mut o = Outcome::of(j.v.clone(), r);
        if j.cfg.duration < self.cfg.duration {
            let wl = sim_core::workload::Workload::new(&j.cfg.workload, j.cfg.seed);
            // The arrival function alone knows no pauses: what the whole run would produce.
            o.appended = wl.committed_by(sim_core::time::SimTime(self.cfg.duration.nanos()));
            o.produced = o.appended;
            o.loss_fraction = sim_core::result::loss_share(o.lost_samples, o.produced);
        }
        o
    }

    /// One constant or seed at a time at `shift`.
    fn one_at_a_time(&self, shift: i64) -> Vec<Job> {
        let mut jobs = Vec::new();
        for (c, values) in &self.varied {
            for &v in values {
                jobs.push(self.job(shift, None, &[(c, v)]));
            }
        }
        for &s in &self.seeds {
            jobs.push(self.job(shift, Some(s), &[]));
        }
        jobs
    }

    /// The corner at `shift`: each constant and the seed at the value whose one-at-a-time
    /// outcome (`singles`, run where `base` was) is the most (`worst`) or least severe, when
    /// that is not the scenario's own.
    fn corner(&self, shift: i64, base: &Outcome, singles: &[Outcome], worst: bool) -> Option<Job> {
        fn pick<'o>(base: &'o Outcome, cands: Vec<&'o Outcome>, worst: bool) -> &'o Outcome {
            cands
                .into_iter()
                .fold(base, |acc, o| if (worst && worse(o, acc)) || (!worst && worse(acc, o)) { o } else { acc })
        }
        let mut set: Vec<(&Constant, f64)> = Vec::new();
        for (c, _) in &self.varied {
            let same = singles.iter().filter(|o| o.variation.constants.first().is_some_and(|s| s.key == c.key));
            let o = pick(base, same.collect(), worst);
            if let Some(s) = o.variation.constants.first() {
                set.push((c, s.value));
            }
        }
        let seed = pick(base, singles.iter().filter(|o| o.variation.seed.is_some()).collect(), worst).variation.seed;
        // A corner of one change is that single run again.
        (set.len() + usize::from(seed.is_some()) > 1).then(|| self.job(shift, seed, &set))
    }
}

/// Runs the robust answer for `cfg`. `is_set(key)` says whether the user gave a model
/// constant a value (then it is theirs and not varied). `literal` runs the scenario as
/// written — with whatever observers the caller wants — alongside the first stage; its
/// result is returned with the robust answer.
pub fn analyse<F>(
    cfg: &SimConfig,
    is_set: &dyn Fn(&str) -> bool,
    opts: &Options,
    literal: F,
) -> Result<(RunResult, Robust), SimError>
where
    F: FnOnce() -> Result<RunResult, SimError> + Send,
{
    let mut not_varied = Vec::new();
    let mut varied = Vec::new();
    for c in &CONSTANTS {
        let own = c.get(cfg);
        if is_set(c.key) {
            not_varied.push(NotVaried { key: c.key.into(), why: "set in the scenario".into() });
        } else if let Some(why) = c.inert(cfg) {
            not_varied.push(NotVaried { key: c.key.into(), why: why.into() });
        } else {
            let values: Vec<f64> = c.values.iter().copied().filter(|v| (v - own).abs() > 1e-9).collect();
            varied.push((c, values));
        }
    }
    let r = phase::block_nanos(cfg);
    let grid = phase::grid(cfg, opts.phases);
    // The phase is varied when the outage can move to another phase of the grid.
    let start = phase::outage_start(cfg)
        .filter(|_| grid.iter().any(|&p| phase::shift_for_phase(cfg, p).is_some_and(|d| d != 0)));
    let plan = Plan {
        cfg,
        varied,
        seeds: (0..opts.extra_seeds).map(|i| derived_seed(cfg.seed, i)).collect(),
        phases: start.is_some(),
    };
    let mut runs = 0;

    // Stage 1: the evenly spaced phases (and the scenario as written).
    let mut jobs = Vec::new();
    // Per grid phase: the job running it, or `None` for the scenario's own phase.
    let mut grid_jobs: Vec<Option<usize>> = Vec::new();
    if start.is_some() {
        for &p in &grid {
            match phase::shift_for_phase(cfg, p) {
                Some(0) => grid_jobs.push(None),
                Some(d) => {
                    grid_jobs.push(Some(jobs.len()));
                    jobs.push(plan.job(d, None, &[]));
                }
                None => {}
            }
        }
    }
    let (literal, results) = rayon::join(literal, || run(&mut jobs));
    let (literal, results) = (literal?, results?);
    runs += jobs.len() + 1;
    let outcomes: Vec<Outcome> = jobs.iter().zip(&results).map(|(j, r)| plan.outcome(j, r)).collect();
    let lit = Outcome::of(plan.job(0, None, &[]).v, &literal);
    let grid_outcomes: Vec<Outcome> =
        grid_jobs.iter().map(|j| j.map_or_else(|| lit.clone(), |i| outcomes[i].clone())).collect();
    let mut curve: Vec<Outcome> = grid_outcomes.clone();
    if start.is_some() && !curve.iter().any(|o| o.variation.is_literal()) {
        curve.push(lit.clone());
    }

    // Stage 2: refine around the worst phase (and the best, when even it loses data).
    let step0 = r / opts.phases.max(1) as u64;
    let mut phase_scan = None;
    let (mut worst_p, mut best_p) = (lit.clone(), lit.clone());
    if start.is_some() && !curve.is_empty() {
        for o in &curve {
            if worse(o, &worst_p) {
                worst_p = o.clone();
            }
            if worse(&best_p, o) {
                best_p = o.clone();
            }
        }
        // The lossless stretch of phases around the best one, when other phases lose data:
        // (last lossy, first lossless, last lossless, first lossy), refined at its edges.
        let nanos = |o: &Outcome| (o.variation.phase_seconds.unwrap_or(0.0) * 1e9).round() as u64;
        let mut edges = None;
        if worst_p.lost_samples > 0 && best_p.lost_samples == 0 && phase::reachable_share(cfg) >= 1.0 {
            let mut ring: Vec<&Outcome> = grid_outcomes.iter().collect();
            ring.sort_by_key(|o| nanos(o));
            let n = ring.len();
            // Both kinds on the grid (the scenario's own phase may be the only lossy one).
            if let Some(b) = ring.iter().position(|o| o.lost_samples == 0)
                && ring.iter().any(|o| o.lost_samples > 0)
            {
                let (mut lo, mut hi) = (b, b);
                while ring[(lo + n - 1) % n].lost_samples == 0 {
                    lo = (lo + n - 1) % n;
                }
                while ring[(hi + 1) % n].lost_samples == 0 {
                    hi = (hi + 1) % n;
                }
                edges =
                    Some([nanos(ring[(lo + n - 1) % n]), nanos(ring[lo]), nanos(ring[hi]), nanos(ring[(hi + 1) % n])]);
            }
        }
        let ahead = |a: u64, b: u64| (b + r - a) % r; // distance from a forward to b
        let mut step = step0;
        for _ in 0..opts.refine_rounds {
            step /= 2;
            if step < 1_000_000_000 {
                break;
            }
            let mut targets = vec![worst_p.clone()];
            if best_p.lost_samples > 0 && best_p != worst_p {
                targets.push(best_p.clone());
            }
            let mut phases: Vec<u64> = Vec::new();
            for o in &targets {
                let p = nanos(o);
                phases.extend([(p + r - step) % r, (p + step) % r]);
            }
            if let Some([a, b, c, d]) = edges {
                phases.push((a + ahead(a, b) / 2) % r);
                phases.push((c + ahead(c, d) / 2) % r);
            }
            let mut jobs = Vec::new();
            let mut at = Vec::new();
            for q in phases {
                if let Some(d) = phase::shift_for_phase(cfg, SimDuration(q))
                    && !curve.iter().any(|c| c.variation.shift_seconds == d as f64 / 1e9)
                    && !jobs.iter().any(|j: &Job| j.v.shift_seconds == d as f64 / 1e9)
                {
                    jobs.push(plan.job(d, None, &[]));
                    at.push(q);
                }
            }
            let results = run(&mut jobs)?;
            runs += results.len();
            for ((j, res), q) in jobs.iter().zip(&results).zip(at) {
                let o = plan.outcome(j, res);
                if worse(&o, &worst_p) {
                    worst_p = o.clone();
                }
                if worse(&best_p, &o) {
                    best_p = o.clone();
                }
                if let Some([a, b, c, d]) = &mut edges {
                    let zero = o.lost_samples == 0;
                    if q == (*a + ahead(*a, *b) / 2) % r {
                        if zero { *b = q } else { *a = q }
                    } else if q == (*c + ahead(*c, *d) / 2) % r {
                        if zero { *c = q } else { *d = q }
                    }
                }
                curve.push(o);
            }
        }
        let resolution = step.max(1_000_000_000).min(step0);
        let safe = edges.map(|[_, b, c, _]| SafeRange { from_seconds: b as f64 / 1e9, to_seconds: c as f64 / 1e9 });
        phase_scan = Some(PhaseScan {
            reference: phase::reference(cfg).into(),
            block_seconds: r as f64 / 1e9,
            outage_start_seconds: start.map_or(0.0, |s| s.as_secs_f64()),
            grid: grid_jobs.len(),
            resolution_seconds: resolution as f64 / 1e9,
            reachable_share: phase::reachable_share(cfg),
            safe,
        });
        if phase::reachable_share(cfg) < 1.0 {
            not_varied.push(NotVaried {
                key: "outage phase".into(),
                why: format!(
                    "the outage can move over only {:.0}% of a block range inside the run",
                    phase::reachable_share(cfg) * 100.0
                ),
            });
        }
    } else if phase::outage_start(cfg).is_none() {
        not_varied.push(NotVaried {
            key: "outage phase".into(),
            why: "no fault window, incident with an end or scheduled crash to move: its incidents last the whole run"
                .into(),
        });
    } else {
        not_varied.push(NotVaried {
            key: "outage phase".into(),
            why: "its windows span (nearly) the whole run and cannot move to another phase".into(),
        });
    }
    curve.sort_by(|a, b| a.variation.phase_seconds.unwrap_or(0.0).total_cmp(&b.variation.phase_seconds.unwrap_or(0.0)));

    // Stage 3: constants and seeds one at a time, at the worst phase.
    let shift_of = |o: &Outcome| (o.variation.shift_seconds * 1e9).round() as i64;
    let mut jobs = plan.one_at_a_time(shift_of(&worst_p));
    let results = run(&mut jobs)?;
    runs += results.len();
    let singles: Vec<Outcome> = jobs.iter().zip(&results).map(|(j, r)| plan.outcome(j, r)).collect();

    // Stage 4: the corners: every constant and the seed at its most damaging value at the
    // worst phase, and (when even the best phase loses data) at its kindest, as seen at the
    // worst phase, at the best one.
    let mut jobs = Vec::new();
    jobs.extend(plan.corner(shift_of(&worst_p), &worst_p, &singles, true));
    if best_p.lost_samples > 0 {
        jobs.extend(plan.corner(shift_of(&best_p), &worst_p, &singles, false));
    }
    let results = run(&mut jobs)?;
    runs += results.len();
    let corners: Vec<Outcome> = jobs.iter().zip(&results).map(|(j, r)| plan.outcome(j, r)).collect();

    let everything: Vec<&Outcome> = std::iter::once(&lit).chain(&curve).chain(&singles).chain(&corners).collect();
    let worst = everything.iter().copied().fold(&lit, |acc, o| if worse(o, acc) { o } else { acc }).clone();
    let best = everything.iter().copied().fold(&lit, |acc, o| if worse(acc, o) { o } else { acc }).clone();
    let median = if grid_outcomes.is_empty() {
        lit.clone()
    } else {
        let mut sorted = grid_outcomes.clone();
        sorted.sort_by(|a, b| a.severity().0.total_cmp(&b.severity().0).then(a.severity().1.cmp(&b.severity().1)));
        sorted[sorted.len() / 2].clone()
    };
    let changes_answer = worst.lost_samples != lit.lost_samples || best.lost_samples != lit.lost_samples;
    let robust = Robust {
        runs,
        phase: phase_scan,
        seeds: plan.seeds.clone(),
        varied: plan
            .varied
            .iter()
            .map(|(c, values)| Varied {
                key: c.key.into(),
                scenario_value: c.get(cfg),
                values: values.clone(),
                seconds: c.unit == Unit::Seconds,
                source: c.source.into(),
            })
            .collect(),
        not_varied,
        literal: lit,
        best,
        median,
        worst,
        changes_answer,
        phase_curve: curve,
        sensitivity: singles,
    };
    Ok((literal, robust))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::config::{FaultWindow, Response};
    use sim_core::profile::Profile;

    /// 25 minutes of 503 against 20-minute blocks and 10 MiB segments (~6k samples/s): as
    /// written (41 minutes in, a minute after a boundary) the WAL holds it; started 5–16
    /// minutes after a boundary it does not.
    fn phase_sensitive() -> SimConfig {
        let mut c = SimConfig::baseline(Profile::V3);
        c.duration = SimDuration::from_mins(150);
        c.workload.series = 60_000;
        c.workload.targets = 20;
        c.workload.scrape_interval = SimDuration::from_secs(10);
        c.tsdb.min_block_duration = SimDuration::from_mins(20);
        c.tsdb.wal_segment_size = 10 << 20;
        c.receiver.faults.push(FaultWindow {
            start: SimDuration::from_mins(41),
            end: SimDuration::from_mins(66),
            response: Response::Status(503),
            probability: 1.0,
            retry_after: None,
            latency: None,
        });
        c
    }

    #[test]
    fn a_phase_sensitive_outage_has_a_different_best_and_worst_case() {
        let cfg = phase_sensitive();
        let (lit, rb) = analyse(&cfg, &|_| false, &Options::default(), || sim_core::simulate(&cfg, &mut ())).unwrap();
        assert_eq!(lit.gaps.samples, 0, "the scenario as written loses nothing");
        assert_eq!(rb.literal.lost_samples, 0);
        assert_eq!(rb.best.lost_samples, 0);
        assert!(rb.worst.lost_samples > 0, "another start loses data: {:?}", rb.worst);
        assert!(rb.changes_answer);
        let worst_phase = rb.worst.variation.phase_seconds.unwrap();
        assert!((300.0..=1000.0).contains(&worst_phase), "5 to 16 minutes after a boundary: {worst_phase}");
        let safe = rb.phase.as_ref().unwrap().safe.as_ref().expect("a lossless stretch of phases");
        // The stretch wraps around the block range: from about 16 minutes to about 4.
        let within = |x: f64| {
            (x - safe.from_seconds).rem_euclid(1200.0) <= (safe.to_seconds - safe.from_seconds).rem_euclid(1200.0)
        };
        assert!(within(60.0) && within(5.0) && !within(600.0), "{safe:?}");
        // Every run is accounted for, and the constants tried are the unset ones.
        assert!(rb.runs > 8, "the scenario as written and 8 phases at least");
        assert!(rb.varied.iter().any(|v| v.key == "tsdb.wal_bytes_per_sample"));
        assert!(rb.not_varied.iter().any(|v| v.key == "workload.wire_bytes_per_sample"));
    }

    #[test]
    fn a_constant_the_user_set_is_not_varied_and_the_answer_does_not_depend_on_threads() {
        let cfg = phase_sensitive();
        let set = |k: &str| k == "tsdb.wal_bytes_per_sample";
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let run = || analyse(&cfg, &set, &Options::default(), || sim_core::simulate(&cfg, &mut ())).unwrap().1;
        let a = one.install(run);
        let b = two.install(run);
        assert_eq!(a, b, "same answer on one thread and two");
        assert!(a.varied.iter().all(|v| v.key != "tsdb.wal_bytes_per_sample"));
        assert!(a.not_varied.iter().any(|v| v.key == "tsdb.wal_bytes_per_sample" && v.why == "set in the scenario"));
    }
}
