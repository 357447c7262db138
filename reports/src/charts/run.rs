//! The run dashboard's data: pure functions from [`MetricsRow`]s, fault windows and timeline
//! moments to [`Panel`]s, with no drawing. `draw` turns any [`Dashboard`] into pixels.
//!
//! **Rates.** The rows hold cumulative counters (`samples_in_total`, `delivered_total`,
//! `responses_5xx_total`, ...). A per-second rate at row *i* is
//! `(c[i] − c[i−1]) / (t[i] − t[i−1])`: the average over the preceding output step (10 s by
//! default), plotted at the end of that step, as Prometheus's `rate()` is. The first row has
//! no rate.

use super::axis;
pub use super::downsample::{Channel, RunSeries};
use super::palette::{self, Rgb};
use sim_core::config::{FaultWindow, Response, SimConfig};
use sim_core::metrics::MetricsRow;
use sim_core::observer::{Notable, NotableKind};
use sim_core::result::RunResult;
use sim_core::time::SimTime;

/// A labelled span of time shaded on every panel. Faults come from `receiver.faults`;
/// [`WindowKind::Incident`] is for receiver incidents (crashes, rollouts) of later models.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Start, seconds since the start of the run.
    pub start_s: f64,
    /// End (exclusive), seconds since the start of the run.
    pub end_s: f64,
    /// Short label drawn in the window, e.g. `fault #0: 503`.
    pub label: String,
    /// Picks the shading colour.
    pub kind: WindowKind,
}

/// The receiver's incident periods of a run (crashes, WAL replays, rollouts, full disks,
/// proxies, ...) as shaded windows; fault windows are drawn from the scenario already.
pub fn incident_windows(result: &sim_core::result::RunResult) -> Vec<Window> {
    result
        .incident_windows
        .iter()
        // A window over (nearly) the whole run, such as an incident's susceptibility period,
        // would shade every panel and say nothing.
        .filter(|w| w.kind != "fault" && w.end_seconds - w.start_seconds < 0.95 * result.simulated_seconds)
        .map(|w| Window {
            start_s: w.start_seconds,
            end_s: w.end_seconds,
            label: w.label.clone(),
            kind: WindowKind::Incident,
        })
        .collect()
}

/// What a [`Window`] is; each kind has its own shade.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WindowKind {
    /// A `[[receiver.fault]]` window.
    Fault,
    /// A receiver incident (OOM crash, rollout, ...).
    Incident,
}

/// A moment marked by a vertical line on every panel, keyed by a letter explained in the
/// dashboard header.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Seconds since the start of the run.
    pub at_s: f64,
    /// `A`, `B`, ...
    pub key: String,
    /// One line for the header, e.g. `03:00:00  WAL segments deleted before they were read`.
    pub label: String,
}

/// How values map to the vertical axis.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Linear from 0.
    Linear,
    /// log10; values at or below the floor are drawn at the floor.
    Log,
}

/// How tick labels of a vertical axis are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// SI prefixes: `1.5k`, `2M`.
    Count,
    /// Durations: `10s`, `1h`.
    Seconds,
}

/// One line of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Legend text.
    pub label: String,
    /// Colour.
    pub color: Rgb,
    /// Dashed (for limits, estimates and references) or solid.
    pub dashed: bool,
    /// Also fill the area under the line (lightly), for a quantity that contains the others.
    pub area: bool,
    /// `(seconds since start, value)`, in time order; the upper edge of an envelope.
    pub points: Vec<(f64, f64)>,
    /// The lower edge of a min/max envelope (per time bucket, at the times of `points`),
    /// filled up to `points`; empty for a plain line.
    pub low: Vec<(f64, f64)>,
}

/// A vertical axis with its lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Axis description, with the unit (`samples/s`).
    pub label: String,
    /// Tick label style.
    pub unit: Unit,
    /// Linear or log.
    pub scale: Scale,
    /// Lines drawn against this axis, in order (later ones on top).
    pub lines: Vec<Line>,
    /// Fixed top of a linear axis (values above are cut by the data preparation); by
    /// default the axis covers the largest value.
    pub top: Option<f64>,
}

/// One panel of the dashboard; all panels share the time axis. One vertical axis per panel:
/// two units in one plot (a log axis beside a linear one) read wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Title, with the unit.
    pub title: String,
    /// The vertical axis and its lines.
    pub left: Axis,
    /// Text drawn in the middle of the panel (e.g. "nothing lost") or appended to the
    /// legend (e.g. an off-scale limit).
    pub note: Option<String>,
}

/// A range of sample timestamps whose data never reaches the receiver, drawn as a band
/// along the bottom of every panel.
#[derive(Clone, Debug, PartialEq)]
pub struct GapBand {
    /// First lost timestamp, seconds since the start of the run.
    pub start_s: f64,
    /// End of the range (exclusive), seconds.
    pub end_s: f64,
    /// Share of the range's samples lost (a full band at 1).
    pub coverage: f64,
}

/// Everything the dashboard shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    /// First header line.
    pub title: String,
    /// The answer in time, under the title: how much data is lost, and on a second line the
    /// worst case.
    pub headline: Option<String>,
    /// The header lines under the headline: the description and the configuration.
    pub subtitle: String,
    /// Length of the time axis, seconds.
    pub duration_s: f64,
    /// Unix seconds of t = 0, for the time-axis description.
    pub start_unix_secs: u64,
    /// Panels, top to bottom.
    pub panels: Vec<Panel>,
    /// Shaded windows.
    pub windows: Vec<Window>,
    /// Marked moments.
    pub markers: Vec<Marker>,
    /// Lost data, by sample timestamp.
    pub gaps: Vec<GapBand>,
}

/// A series: `(seconds since start, value)` in time order.
pub type Series = Vec<(f64, f64)>;

/// A gauge column as `(t, value)`.
pub fn gauge(rows: &[MetricsRow], f: impl Fn(&MetricsRow) -> f64) -> Vec<(f64, f64)> {
    rows.iter().map(|r| (r.t_seconds, f(r))).collect()
}

/// The per-second rate of counter `f` over the step from row `a` to row `b` (see the module
/// doc); `None` when the step has no length. A decrease is a counter reset (Prometheus's
/// counters start again with every sender process and every new queue): the increase is
/// then the new value, as `rate()` takes it.
pub fn rate_between(a: &MetricsRow, b: &MetricsRow, f: impl Fn(&MetricsRow) -> u64) -> Option<f64> {
    if b.t_seconds <= a.t_seconds {
        return None;
    }
    let (x, y) = (f(a), f(b));
    let dc = if y < x { y } else { y - x } as f64;
    Some(dc / (b.t_seconds - a.t_seconds))
}

/// A cumulative counter as a per-second rate: the increase over each output step divided by
/// its length, at the end of the step ([`rate_between`]).
pub fn rate(rows: &[MetricsRow], f: impl Fn(&MetricsRow) -> u64) -> Vec<(f64, f64)> {
    rows.windows(2).filter_map(|w| rate_between(&w[0], &w[1], &f).map(|v| (w[1].t_seconds, v))).collect()
}

/// Samples committed to the WAL per second, and samples acknowledged (2xx) per second.
pub fn throughput_series(rows: &[MetricsRow]) -> (Series, Series) {
    (rate(rows, |r| r.appended_total), rate(rows, |r| r.delivered_total))
}

/// Turns samples of a stepwise quantity into a staircase: each value holds until the next.
pub fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(t, v)) in points.iter().enumerate() {
        if i > 0 {
            out.push((t, points[i - 1].1));
        }
        out.push((t, v));
    }
    out
}

/// Log scale when the values span more than ~1.5 decades above their typical level: the
/// largest value is over 30 × the median of the non-zero values. Otherwise linear.
pub fn choose_scale<'a>(series: impl IntoIterator<Item = &'a [(f64, f64)]>) -> Scale {
    let mut v: Vec<f64> =
        series.into_iter().flat_map(|s| s.iter().map(|p| p.1)).filter(|x| *x > 0.0 && x.is_finite()).collect();
    if v.is_empty() {
        return Scale::Linear;
    }
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    let max = v[v.len() - 1];
    if max > 30.0 * median { Scale::Log } else { Scale::Linear }
}

/// The shaded windows of `receiver.faults`: `fault #0: 503`, `fault #1: timeout on 10%`.
pub fn fault_windows(faults: &[FaultWindow]) -> Vec<Window> {
    faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let what = match f.response {
                Response::Status(s) => s.to_string(),
                Response::Timeout => "timeout".into(),
                Response::Refused => "refused".into(),
            };
            let share =
                if f.probability < 1.0 { format!(" on {}%", axis::si(f.probability * 100.0)) } else { String::new() };
            Window {
                start_s: f.start.as_secs_f64(),
                end_s: f.end.as_secs_f64(),
                label: format!("fault #{i}: {what}{share}"),
                kind: WindowKind::Fault,
            }
        })
        .collect()
}

/// Markers for the major timeline moments where data is lost or the queue is cut: WAL
/// segments deleted unread, the watcher skipping ahead, hard shutdowns. Keyed A, B, ...
/// (at most 26).
pub fn loss_markers(timeline: &[Notable]) -> Vec<Marker> {
    timeline
        .iter()
        .filter(|n| n.major)
        .filter_map(|n| {
            let what = match n.kind {
                NotableKind::WalTruncationLoss => "WAL truncation deleted segments not yet read",
                NotableKind::WatcherRestart => "WAL watcher restarted at the newest segment: unread samples skipped",
                NotableKind::HardShutdown => "flush_deadline hit (reshard or queue stop): queued samples dropped",
                NotableKind::SenderDown => "sender process stopped or killed",
                NotableKind::QueueStarted => "new remote-write queue: unsent backlog skipped",
                _ => return None,
            };
            Some((n.at.as_secs_f64(), format!("{}  {what}", moment(n.at))))
        })
        .take(26)
        .enumerate()
        .map(|(i, (at_s, label))| Marker { at_s, key: char::from(b'A' + i as u8).to_string(), label })
        .collect()
}

/// A moment as the header lists it: `09:00:14.862`, or from four days on `213d 09:00:14.862`
/// (a year in hours would read `5121:00:14`).
pub fn moment(at: SimTime) -> String {
    const DAY_NS: u64 = 86_400 * sim_core::time::NANOS_PER_SEC;
    if at.as_secs_f64() < axis::DAY_SCALE_S {
        return at.to_string();
    }
    format!("{}d {}", at.0 / DAY_NS, SimTime(at.0 % DAY_NS))
}

/// What the CLI knows about a run, to build its dashboard.
pub struct RunCharts<'a> {
    /// The configuration that ran.
    pub config: &'a SimConfig,
    /// Its result (for the timeline).
    pub result: &'a RunResult,
    /// The rows, downsampled as they streamed ([`RunSeries`]).
    pub series: &'a RunSeries,
    /// The scenario's one-line description, if any.
    pub description: Option<&'a str>,
    /// Extra shaded windows (receiver incidents), added to the fault windows.
    pub incidents: Vec<Window>,
    /// The answer in time for the header ([`crate::summary::headline`]), if any.
    pub headline: Option<String>,
}

/// The gaps of a run as bands.
pub fn gap_bands(result: &RunResult) -> Vec<GapBand> {
    result
        .gaps
        .list
        .iter()
        .map(|g| GapBand { start_s: g.from_seconds, end_s: g.to_seconds, coverage: g.coverage })
        .collect()
}

impl Dashboard {
    /// The six panels of a run: throughput, queue depth, lag, shards, responses, losses.
    pub fn for_run(input: &RunCharts<'_>) -> Dashboard {
        let cfg = input.config;
        let s = input.series;
        let mut windows = fault_windows(&cfg.receiver.faults);
        windows.extend(input.incidents.iter().cloned());
        let subtitle = subtitle(cfg, input.description);
        Dashboard {
            title: format!("rwsim run: {}", cfg.name),
            headline: input.headline.as_deref().map(crate::summary::headline_lines),
            subtitle,
            duration_s: cfg.duration.as_secs_f64(),
            start_unix_secs: cfg.clock.start_unix_nanos / sim_core::time::NANOS_PER_SEC,
            panels: vec![
                throughput_panel(s),
                queue_panel(s),
                lag_panel(s),
                shards_panel(s, cfg.remote_write.queue.max_shards),
                responses_panel(s),
                losses_panel(s),
            ],
            windows,
            markers: loss_markers(&input.result.timeline),
            gaps: gap_bands(input.result),
        }
    }
}

/// The description, then the configuration, leaving out of the configuration line what the
/// description already says (`1M series @15s`, `Prometheus 3.x`), so the header does not
/// repeat itself.
fn subtitle(cfg: &SimConfig, description: Option<&str>) -> String {
    let w = &cfg.workload;
    let said = |part: &str| description.is_some_and(|d| d.contains(part));
    let series = format!("{} series", axis::si(w.series as f64));
    let every = format!("@{}", sim_core::time::SimDuration::from_nanos(w.scrape_interval.nanos()));
    let sender = sim_core::config::SenderMode::describe(cfg.sender.mode.name(), cfg.profile.as_str());
    let mut parts = Vec::new();
    if !said(&sender) {
        parts.push(sender.to_string());
    }
    if said(&series) && said(&every) {
        parts.push(format!("{} targets", w.targets));
    } else {
        parts.push(format!("{series} {every} from {} targets", w.targets));
    }
    parts.push(format!("max_shards {}", cfg.remote_write.queue.max_shards));
    parts.push(format!("seed {}", cfg.seed));
    let config = parts.join(" · ");
    match description {
        Some(d) => format!("{d}\n{config}"),
        None => config,
    }
}

fn line(label: &str, color: Rgb, points: Vec<(f64, f64)>) -> Line {
    Line { label: label.into(), color, dashed: false, area: false, points, low: Vec::new() }
}

fn axis_for(label: &str, unit: Unit, lines: Vec<Line>) -> Axis {
    let scale = choose_scale(lines.iter().map(|l| l.points.as_slice()));
    Axis { label: label.into(), unit, scale, lines, top: None }
}

fn throughput_panel(s: &RunSeries) -> Panel {
    let mut lines = vec![
        line("delivered (2xx)", palette::GREEN, s.points(Channel::DeliveredRate)),
        Line { dashed: true, ..line("in (appended to the WAL)", palette::BLUE, s.points(Channel::InRate)) },
    ];
    // Retries are samples per second too: on this axis, not on a second one elsewhere.
    let retried = s.last().is_some_and(|r| r.samples_retried_total > 0);
    let title = if retried {
        lines.push(Line { dashed: true, ..line("retried", palette::GREY, s.points(Channel::RetriedRate)) });
        "Samples in vs delivered vs retried (samples/s)"
    } else {
        "Samples in vs delivered (samples/s)"
    };
    Panel { title: title.into(), left: axis_for("samples/s", Unit::Count, lines), note: None }
}

/// The envelope of a channel as a line: its maxima, with the minima as the lower edge.
fn envelope(label: &str, color: Rgb, s: &RunSeries, ch: Channel) -> Line {
    let env = s.envelope(ch);
    Line {
        points: env.iter().map(|&(t, _, hi)| (t, hi)).collect(),
        low: env.iter().map(|&(t, lo, _)| (t, lo)).collect(),
        ..line(label, color, Vec::new())
    }
}

fn queue_panel(s: &RunSeries) -> Panel {
    Panel {
        title: "Pending samples (samples)".into(),
        left: axis_for(
            "samples",
            Unit::Count,
            vec![
                Line { area: true, ..line("backlog: unread WAL + queued", palette::BLUE, s.points(Channel::Backlog)) },
                envelope("samples_pending (in shards): min–max", palette::SKY, s, Channel::Pending),
            ],
        ),
        note: None,
    }
}

fn lag_panel(s: &RunSeries) -> Panel {
    Panel {
        title: "Lag: newest sample in − newest sample sent".into(),
        left: axis_for("lag", Unit::Seconds, vec![envelope("lag: min–max", palette::VERMILLION, s, Channel::Lag)]),
        note: None,
    }
}

fn shards_panel(s: &RunSeries, max_shards: u32) -> Panel {
    let running = s.points(Channel::Shards);
    let desired = s.points(Channel::ShardsDesired);
    let peak_running = s.max(Channel::Shards).unwrap_or(0.0);
    let max = f64::from(max_shards);
    // Show max_shards when it is within reach; otherwise it would flatten everything else.
    let show_max = max <= 4.0 * peak_running.max(1.0);
    let wanted = if show_max { max } else { peak_running.max(1.0) };
    // Above a dozen shards a linear axis draws 1 shard on top of 0: a log axis (with its band
    // for 0 at the bottom) keeps every count apart.
    let scale = if wanted > 12.0 { Scale::Log } else { Scale::Linear };
    let top = match scale {
        Scale::Linear => *axis::linear_ticks(wanted * 1.2, 6).last().unwrap_or(&1.0),
        Scale::Log => 10f64.powf(wanted.log10().ceil()),
    };
    // A desired count far above the limit (during an outage the backlog makes it huge) runs
    // along the top edge; the legend gives its peak.
    let peak_desired = s.max(Channel::ShardsDesired).unwrap_or(0.0);
    let desired_label = if peak_desired > top {
        format!("desired (off the top, up to {})", axis::si(peak_desired))
    } else {
        "desired".to_string()
    };
    let desired: Vec<_> = desired.iter().map(|&(t, v)| (t, v.min(top))).collect();
    let mut lines = vec![
        line("shards running", palette::BLUE, steps(&running)),
        Line { dashed: true, ..line(&desired_label, palette::ORANGE, desired) },
    ];
    let mut note = None;
    if show_max {
        let end = s.last().map_or(0.0, |r| r.t_seconds);
        lines.push(Line { dashed: true, ..line("max_shards", palette::BLACK, vec![(0.0, max), (end, max)]) });
    } else {
        note = Some(format!("max_shards = {max_shards} (above the chart)"));
    }
    Panel {
        title: "Shards: running vs desired vs max".into(),
        left: Axis { label: "shards".into(), unit: Unit::Count, scale, lines, top: Some(top) },
        note,
    }
}

type Counter = fn(&MetricsRow) -> u64;

fn responses_panel(s: &RunSeries) -> Panel {
    let statuses: [(&str, Rgb, Counter, Channel); 6] = [
        ("2xx", palette::GREEN, |r| r.responses_2xx_total, Channel::Rate2xx),
        ("5xx", palette::VERMILLION, |r| r.responses_5xx_total, Channel::Rate5xx),
        ("429", palette::ORANGE, |r| r.responses_429_total, Channel::Rate429),
        ("other 4xx", palette::PURPLE, |r| r.responses_4xx_total, Channel::Rate4xx),
        ("timeout", palette::BROWN, |r| r.responses_timeout_total, Channel::RateTimeout),
        ("refused", palette::BLACK, |r| r.responses_refused_total, Channel::RateRefused),
    ];
    let last = s.last();
    let lines = statuses
        .iter()
        .filter(|(name, _, f, _)| *name == "2xx" || last.is_some_and(|r| f(r) > 0))
        .map(|(name, color, _, ch)| line(name, *color, s.points(*ch)))
        .collect();
    Panel {
        title: "Responses by status (requests/s)".into(),
        left: axis_for("requests/s", Unit::Count, lines),
        note: None,
    }
}

fn losses_panel(s: &RunSeries) -> Panel {
    let reasons: [(&str, Rgb, Channel); 6] = [
        ("WAL truncation (silent in Prometheus)", palette::VERMILLION, Channel::LostTruncation),
        ("failed: 4xx, 429 not retried", palette::PURPLE, Channel::Failed),
        ("too old (sample_age_limit)", palette::ORANGE, Channel::LostTooOld),
        ("hard shutdown (reshard, stop)", palette::SKY, Channel::LostShutdown),
        ("skipped at a sender restart (silent)", palette::BROWN, Channel::LostRestartSkip),
        ("never scraped: sender down", palette::GREY, Channel::NotScraped),
    ];
    let any = |ch| s.max(ch).is_some_and(|m| m > 0.0);
    let mut lines: Vec<Line> = reasons
        .iter()
        .filter(|(_, _, ch)| any(*ch))
        .map(|(name, color, ch)| line(name, *color, steps(&s.points(*ch))))
        .collect();
    // Not lost yet, but certain to be: unread data whose WAL segments are already deleted.
    if any(Channel::Unsendable) {
        let mut l = line(
            "unsendable: unread, certain to be skipped (WAL deleted, or queue stopped)",
            palette::VERMILLION,
            steps(&s.points(Channel::Unsendable)),
        );
        l.dashed = true;
        lines.push(l);
    }
    let note = lines.is_empty().then(|| "no samples lost or failed".to_string());
    Panel {
        title: "Samples lost or failed, cumulative (samples)".into(),
        left: Axis { label: "samples".into(), unit: Unit::Count, scale: Scale::Linear, lines, top: None },
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::time::SimDuration;

    fn row(t: f64, f: impl FnOnce(&mut MetricsRow)) -> MetricsRow {
        let mut r = MetricsRow { t_seconds: t, ..MetricsRow::default() };
        f(&mut r);
        r
    }

    #[test]
    fn rates_difference_counters_over_each_step() {
        let rows = [
            row(0.0, |r| r.appended_total = 0),
            row(10.0, |r| r.appended_total = 1000),
            row(20.0, |r| r.appended_total = 3000),
        ];
        assert_eq!(rate(&rows, |r| r.appended_total), vec![(10.0, 100.0), (20.0, 200.0)]);
        let (inp, delivered) = throughput_series(&rows);
        assert_eq!(inp.len(), 2);
        assert_eq!(delivered, vec![(10.0, 0.0), (20.0, 0.0)]);
    }

    #[test]
    fn a_counter_reset_is_not_a_negative_rate() {
        // A sender restart: Prometheus's counter starts again from 0.
        let rows = [
            row(0.0, |r| r.samples_total = 5000),
            row(10.0, |r| r.samples_total = 6000),
            row(20.0, |r| r.samples_total = 400),
        ];
        assert_eq!(rate(&rows, |r| r.samples_total), vec![(10.0, 100.0), (20.0, 40.0)]);
    }

    #[test]
    fn steps_hold_each_value_until_the_next() {
        assert_eq!(steps(&[(0.0, 1.0), (10.0, 2.0)]), vec![(0.0, 1.0), (10.0, 1.0), (10.0, 2.0)]);
    }

    #[test]
    fn log_scale_only_when_values_span_decades() {
        let flat: Vec<_> = (0..100).map(|i| (i as f64, 10.0 + i as f64 % 3.0)).collect();
        assert_eq!(choose_scale([flat.as_slice()]), Scale::Linear);
        let mut outage = flat.clone();
        outage.push((100.0, 14_400.0));
        assert_eq!(choose_scale([outage.as_slice()]), Scale::Log);
        assert_eq!(choose_scale([&[(0.0, 0.0)][..]]), Scale::Linear);
    }

    /// A 40-minute run of the baseline with 10 minutes of 503 and a 5% rejection window.
    fn small_run() -> (SimConfig, RunResult, RunSeries) {
        let mut cfg = SimConfig::baseline(sim_core::profile::Profile::V3);
        cfg.duration = SimDuration::from_mins(40);
        let fault = |start, end, response, probability| FaultWindow {
            start: SimDuration::from_mins(start),
            end: SimDuration::from_mins(end),
            response,
            probability,
            retry_after: None,
            latency: None,
        };
        cfg.receiver.faults =
            vec![fault(10, 20, Response::Status(503), 1.0), fault(25, 30, Response::Status(400), 0.05)];
        let mut series = RunSeries::new(cfg.duration.as_secs_f64());
        let result = sim_core::simulate(&cfg, &mut series).unwrap();
        (cfg, result, series)
    }

    #[test]
    fn a_run_becomes_six_panels_with_its_faults_shaded() {
        let (cfg, result, series) = small_run();
        let d = Dashboard::for_run(&RunCharts {
            config: &cfg,
            result: &result,
            series: &series,
            description: Some("two faults"),
            incidents: vec![Window {
                start_s: 60.0,
                end_s: 120.0,
                label: "OOM crash".into(),
                kind: WindowKind::Incident,
            }],
            headline: Some("3m of data lost".into()),
        });
        assert_eq!(d.headline.as_deref(), Some("3m of data lost"));
        assert_eq!(d.gaps.len(), result.gaps.list.len());
        assert!(!d.gaps.is_empty(), "the 400s lose data: {:?}", result.gaps);
        let titles: Vec<&str> = d.panels.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles.len(), 6, "{titles:?}");
        assert_eq!(d.windows.len(), 3);
        assert_eq!(d.windows[0].label, "fault #0: 503");
        assert_eq!(d.windows[1].label, "fault #1: 400 on 5%");
        assert_eq!(d.windows[2].kind, WindowKind::Incident);
        assert!(d.subtitle.starts_with("two faults\nPrometheus 3.x · 100k series @15s"));
        // The throughput panel: delivered drops to zero during the 503s, and the input
        // rate is about 100k + 5 × 100 series every 15 s.
        let tp = &d.panels[0].left.lines;
        let delivered = &tp[0].points;
        assert!(delivered.iter().any(|&(t, v)| t > 700.0 && t < 1200.0 && v == 0.0));
        let input = &tp[1].points;
        let mean = input.iter().map(|p| p.1).sum::<f64>() / input.len() as f64;
        assert!((mean - 100_500.0 / 15.0).abs() < 100.0, "mean input rate {mean}");
        // The 503s are retried (with the throughput, in samples/s) and the 400s fail samples
        // (losses panel).
        assert_eq!(d.panels[0].left.lines[2].label, "retried");
        let losses = &d.panels[5].left.lines;
        assert_eq!(losses.len(), 1);
        assert!(losses[0].label.starts_with("failed"));
        let last = losses[0].points.last().unwrap().1;
        assert_eq!(last, result.samples.failed as f64, "failed from conservation");
    }

    #[test]
    fn the_header_does_not_repeat_the_description_and_one_shard_stands_apart_from_none() {
        let (cfg, result, series) = small_run();
        let d = Dashboard::for_run(&RunCharts {
            config: &cfg,
            result: &result,
            series: &series,
            description: Some("100k series @15s on Prometheus 3.x, two faults"),
            incidents: Vec::new(),
            headline: None,
        });
        assert_eq!(d.subtitle, "100k series @15s on Prometheus 3.x, two faults\n100 targets · max_shards 50 · seed 1");
        // max_shards 50 with 1 or 2 shards running: a log axis, not 1/60 of a linear one.
        let shards = &d.panels[3].left;
        assert_eq!(shards.scale, Scale::Log);
        assert!(shards.lines[0].points.iter().all(|p| p.1 >= 1.0));
        // One axis per panel: the retries are samples/s with the throughput.
        assert_eq!(d.panels[4].title, "Responses by status (requests/s)");
        assert!(d.panels[4].left.lines.iter().all(|l| !l.label.contains("retried")));
    }

    #[test]
    fn windows_and_markers_are_labelled() {
        let f = FaultWindow {
            start: SimDuration::from_hours(1),
            end: SimDuration::from_hours(5),
            response: Response::Status(503),
            probability: 1.0,
            retry_after: None,
            latency: None,
        };
        let g = FaultWindow { response: Response::Timeout, probability: 0.1, ..f.clone() };
        let w = fault_windows(&[f, g]);
        assert_eq!(w[0].label, "fault #0: 503");
        assert_eq!((w[0].start_s, w[0].end_s), (3600.0, 18000.0));
        assert_eq!(w[1].label, "fault #1: timeout on 10%");
        let notable = |kind, major| Notable { at: SimTime(10_800_000_000_000), kind, message: String::new(), major };
        let m = loss_markers(&[
            notable(NotableKind::FaultStarted, true),
            notable(NotableKind::WalTruncationLoss, true),
            notable(NotableKind::HardShutdown, false),
        ]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].key, "A");
        assert!(m[0].label.starts_with("03:00:00  WAL truncation"));
        assert_eq!(moment(SimTime(213 * 86_400_000_000_000 + 32_414_862_000_000)), "213d 09:00:14.862");
    }
}
