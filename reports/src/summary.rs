//! The human-readable forecast: the answer in time first (how much data is lost, the gaps,
//! and the best, median and worst case over what nobody controls), then a table of where the
//! samples went, how the queue behaved, and a short timeline of notable moments.

use analysis::robust::{Outcome, Robust, Variation};
use sim_core::gaps::{Gap, Gaps};
use sim_core::observer::{Notable, NotableKind};
use sim_core::result::RunResult;
use sim_core::time::{SimDuration, SimTime};
use std::fmt::Write;

/// Timeline lines shown in the summary (the JSON and `report` show all of them).
pub const TIMELINE_LINES: usize = 40;
/// Occurrences of one kind of moment listed before the rest are folded into one line.
pub const REPEATS_SHOWN: usize = 3;

/// Groups digits in threes: `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in seconds as `850ms`, `12.3s`, `4m05s`, `3h12m`.
pub fn secs(s: f64) -> String {
    if !s.is_finite() || s <= 0.0 {
        return "0s".into();
    }
    if s < 1.0 {
        return format!("{:.0}ms", s * 1000.0);
    }
    if s < 60.0 {
        return format!("{s:.1}s");
    }
    let t = s.round() as u64;
    if t < 3600 {
        return format!("{}m{:02}s", t / 60, t % 60);
    }
    format!("{}h{:02}m", t / 3600, (t % 3600) / 60)
}

/// Bytes as `12.5 MiB`.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{b} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// `part` as a percentage of `whole`, two decimals (`-` for an empty whole).
pub fn pct(part: u64, whole: u64) -> String {
    if whole == 0 { "-".into() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

/// A duration as a timeline prints it, to the second: `3h58m40s`, `4m5s`, `255ms`.
pub fn span(seconds: f64) -> String {
    if seconds < 1.0 {
        return SimDuration::from_secs_f64((seconds * 1000.0).round() / 1000.0).to_string();
    }
    SimDuration::from_secs(seconds.round() as u64).to_string()
}

/// A short duration for a constant's value: `0.8ms`, `20ms`, `5s`.
pub fn short_duration(seconds: f64) -> String {
    if seconds > 0.0 && seconds < 1.0 {
        let ms = (seconds * 1e6).round() / 1e3;
        return format!("{ms}ms");
    }
    SimDuration::from_secs_f64(seconds).to_string()
}

/// A timestamp of a gap table, always to the millisecond: `01:00:04.368`, `02:30:00.000`.
fn stamp(seconds: f64) -> String {
    let t = SimTime(SimDuration::from_secs_f64(seconds).nanos()).to_string();
    if t.len() == 8 { format!("{t}.000") } else { t }
}

/// The cycle phases are measured over: `2h block range`, `2h truncation period`.
fn cycle_words(p: &analysis::robust::PhaseScan) -> String {
    let what = if p.reference == "block boundary" { "block range" } else { "truncation period" };
    format!("{} {what}", span(p.block_seconds))
}

/// An offset from the start of the run as `HH:MM:SS`.
pub fn clock(seconds: f64) -> String {
    SimTime(SimDuration::from_secs(seconds.round() as u64).nanos()).to_string()
}

/// A sample count in words for a headline: `103 M`, `2,691`.
pub fn samples_words(n: u64) -> String {
    match n {
        0..100_000 => count(n),
        100_000..1_000_000_000 => format!("{:.1} M", n as f64 / 1e6).replace(".0 M", " M"),
        _ => format!("{:.2} G", n as f64 / 1e9),
    }
}

/// One gap for a headline: `the gap 01:01:38–05:00:18 (480 M samples, WAL truncation)`, with
/// its share when only some of its samples are lost.
pub fn gap_words(g: &Gap) -> String {
    let share = if g.coverage < 0.995 { format!(", {:.0}% of its samples", g.coverage * 100.0) } else { String::new() };
    format!(
        "{}–{} ({} samples, {}{share})",
        clock(g.from_seconds),
        clock(g.to_seconds),
        samples_words(g.samples),
        g.reason.describe()
    )
}

/// The answer in time for one run: `3h58m40s of data lost: the gap 01:01:38–05:00:18 (...)`.
/// `produced` is what the share is of ([`RunResult::produced`]).
pub fn loss_words(gaps: &Gaps, produced: u64) -> String {
    let Some(largest) = gaps.largest_gap() else {
        return "No data lost".into();
    };
    let share =
        if produced == 0 { String::new() } else { format!(", {} of the run's samples", pct(gaps.samples, produced)) };
    let more = match gaps.list.len() {
        1 => String::new(),
        n => format!(" and {} more gap{}", n - 1, if n == 2 { "" } else { "s" }),
    };
    format!("{} of data lost{share}: the gap {}{more}", span(gaps.lost_seconds), gap_words(largest),)
}

/// `The run ends 2h26m behind: 176.1 M samples (81.13%) not yet sent, ...` for a run that
/// ends behind ([`RunResult::behind_at_end`]).
pub fn behind_words(r: &RunResult) -> Option<String> {
    r.behind_at_end().map(|(lag, unsent)| {
        format!(
            "The run ends {} behind: {} samples ({}) not yet sent, lost or not depending on what follows; run it \
             longer to see",
            span(lag),
            samples_words(unsent),
            pct(unsent, r.produced())
        )
    })
}

/// What the phases of `rb` are measured from: `block boundary` or `WAL truncation tick`.
pub fn reference(rb: &Robust) -> &str {
    rb.phase.as_ref().map_or("block boundary", |p| p.reference.as_str())
}

/// A variation in words: `the outage starts 1h52m after a block boundary, wal_bytes_per_sample
/// 10`; `reference` is what phases are measured from ([`reference()`]).
pub fn variation_words(v: &Variation, reference: &str) -> String {
    let mut parts = Vec::new();
    if let Some(p) = v.phase_seconds {
        parts.push(format!("the outage starts {} after a {reference}", span(p)));
    }
    for c in &v.constants {
        let name = c.key.rsplit('.').next().unwrap_or(&c.key);
        let value =
            if analysis::constants::constant(&c.key).is_some_and(|k| k.unit == analysis::constants::Unit::Seconds) {
                short_duration(c.value)
            } else {
                format!("{}", c.value)
            };
        parts.push(format!("{name} {value}"));
    }
    if let Some(seed) = v.seed {
        // The seed itself, so that the case can be run again (`--seed`).
        parts.push(format!("seed {seed} (scrape phases, receiver draws)"));
    }
    if parts.is_empty() {
        return "the scenario as written".into();
    }
    parts.join(", ")
}

fn case_line(o: &Outcome, reference: &str) -> String {
    let lost = if o.lost_samples == 0 {
        "nothing lost".to_string()
    } else {
        format!("{} lost ({})", span(o.lost_seconds), pct(o.lost_samples, o.produced_or_appended()))
    };
    format!("{lost:<22}  {}", variation_words(&o.variation, reference))
}

/// The headline: the answer in time, and the worst case when the robust answer ran.
pub fn headline(r: &RunResult, robust: Option<&Robust>) -> String {
    let behind = behind_words(r);
    let mut o = if behind.is_some() && r.gaps.samples == 0 {
        "No data lost by the end of the run.".to_string()
    } else {
        format!("{}.", loss_words(&r.gaps, r.produced()))
    };
    if let Some(b) = &behind {
        let _ = write!(o, " {b}.");
    }
    if let Some(rb) = robust {
        let w = &rb.worst;
        if w.lost_samples == 0 {
            let by_end = if behind.is_some() { " by the end of the run" } else { "" };
            let _ = write!(o, " Worst case: nothing lost{by_end} either ({} runs).", rb.runs);
        } else if w.variation.is_literal() {
            let _ = write!(o, " Worst case: the same; no variation of {} runs loses more.", rb.runs);
        } else {
            let _ = write!(
                o,
                " Worst case: {} ({}), when {}.",
                span(w.lost_seconds),
                pct(w.lost_samples, w.produced_or_appended()),
                variation_words(&w.variation, reference(rb))
            );
        }
    }
    o
}

/// A headline ([`headline`]) as lines: the answer, whether the run ends behind, the worst case.
pub fn headline_lines(h: &str) -> String {
    h.replacen(". The run ends ", ".\nThe run ends ", 1).replacen(". Worst case: ", ".\nWorst case: ", 1)
}

/// The gaps as a table.
fn gaps_table(o: &mut String, g: &Gaps) {
    if g.list.is_empty() {
        return;
    }
    let _ = writeln!(o, "Gaps (sample timestamps that never reach the receiver)");
    let _ =
        writeln!(o, "  {:<12}  {:<12}  {:>10}  {:>14}  {:>8}  reason", "from", "to", "duration", "samples", "coverage");
    const SHOWN: usize = 12;
    for gap in g.list.iter().take(SHOWN) {
        let _ = writeln!(
            o,
            "  {:<12}  {:<12}  {:>10}  {:>14}  {:>7.0}%  {}",
            stamp(gap.from_seconds),
            stamp(gap.to_seconds),
            span(gap.duration_seconds),
            count(gap.samples),
            gap.coverage * 100.0,
            gap.reason.describe()
        );
    }
    if g.list.len() > SHOWN {
        let _ = writeln!(o, "  ... and {} more (see --json)", g.list.len() - SHOWN);
    }
    if g.merged_for_cap > 0 {
        let _ = writeln!(
            o,
            "  (some gaps were merged with their neighbours to keep the list short; no sample is left out)"
        );
    }
    let _ = writeln!(o);
}

/// The robust answer as a few lines.
pub fn robust_section(rb: &Robust) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Best, median and worst case: {} runs over what the scenario does not fix", rb.runs);
    let r = reference(rb);
    let _ = writeln!(o, "  as written  {}", case_line(&rb.literal, r));
    let _ = writeln!(o, "  best        {}", case_line(&rb.best, r));
    let _ = writeln!(o, "  median      {}", case_line(&rb.median, r));
    let _ = writeln!(o, "  worst       {}", case_line(&rb.worst, r));
    if let Some(p) = &rb.phase
        && let Some(safe) = &p.safe
    {
        let _ = writeln!(
            o,
            "  This outage loses nothing only if it starts {} to {} after a {} ({} of the {}; found to {}).",
            span(safe.from_seconds),
            span(safe.to_seconds),
            p.reference,
            span(((safe.to_seconds - safe.from_seconds).rem_euclid(p.block_seconds)).max(0.0)),
            cycle_words(p),
            span(p.resolution_seconds)
        );
    }
    let mut varied = Vec::new();
    if let Some(p) = &rb.phase {
        varied.push(format!(
            "the outage's start over one {} ({} phases, refined to {} around the worst)",
            cycle_words(p),
            p.grid,
            span(p.resolution_seconds)
        ));
    }
    if !rb.seeds.is_empty() {
        varied.push(format!("{} other seeds (scrape phases, receiver draws)", rb.seeds.len()));
    }
    for v in &rb.varied {
        let fmt = |x: f64| if v.seconds { short_duration(x) } else { format!("{x}") };
        let values: Vec<String> = v.values.iter().map(|&x| fmt(x)).collect();
        varied.push(format!("{} {} (default {})", v.key, values.join(" and "), fmt(v.scenario_value)));
    }
    let _ = writeln!(o, "  varied: {}", varied.join("; "));
    if !rb.not_varied.is_empty() {
        let nv: Vec<String> = rb.not_varied.iter().map(|n| format!("{} ({})", n.key, n.why)).collect();
        let _ = writeln!(o, "  not varied: {}", nv.join("; "));
    }
    let median = if rb.phase.is_some() {
        "The median is over the evenly spaced start phases with the scenario's constants."
    } else {
        "With no outage to move, the median is the scenario as written."
    };
    let _ = writeln!(o, "  {median} --literal runs the scenario as written only; docs/answers.md explains the ranges.");
    o
}

/// Why the shard count did not follow the desired one, in a user's words: the reshard gate
/// of `shouldReshard` (docs/model.md §9.3), whose skips rwsim counts once per 10 s tick.
/// Lines after the first start with `indent`.
pub fn reshards_skipped(r: &RunResult, indent: &str) -> String {
    let sends = if r.prometheus == "2.42" {
        "a batch completed within the last 2 × batch_send_deadline (so not while the receiver is down)"
    } else {
        "a batch completed in the last 10s (so not while the receiver is down), no retry has paused resharding"
    };
    let text = format!(
        "{}: the desired shard count differed, but Prometheus kept its shards: it reshards only when {sends} \
         and no reshard is still draining (docs/model.md §9.3)",
        count(u64::from(r.shards.reshards_skipped))
    );
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > 84 {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines.join(&format!("\n{indent}"))
}

/// Renders the forecast table and the first [`TIMELINE_LINES`] timeline entries.
pub fn render(r: &RunResult) -> String {
    render_with(r, None, None)
}

/// The forecast with the answer in time first: the headline, the gaps, then the robust
/// answer (when it ran) or `note` (why it did not), then the tables and the timeline.
pub fn render_with(r: &RunResult, robust: Option<&Robust>, note: Option<&str>) -> String {
    let mut o = String::new();
    let s = &r.samples;
    let d = &s.dropped;
    let sender = match &r.vmagent {
        Some(v) if v.version == "1.79" => "vmagent 1.79.5".to_string(),
        Some(_) => "vmagent (current)".to_string(),
        None => sim_core::config::SenderMode::describe(&r.sender.mode, &r.prometheus),
    };
    let _ = writeln!(
        o,
        "rwsim forecast: {} ({sender}, seed {}, {} simulated)\n",
        r.scenario,
        r.seed,
        secs(r.simulated_seconds)
    );
    let _ = writeln!(o, "{}\n", headline_lines(&headline(r, robust)));
    gaps_table(&mut o, &r.gaps);
    match (robust, note) {
        (Some(rb), _) => {
            o.push_str(&robust_section(rb));
            o.push('\n');
        }
        (None, Some(n)) => {
            let _ = writeln!(o, "{n}\n");
        }
        (None, None) => {}
    }
    let _ = writeln!(o, "Samples                          count      share");
    let mut row = |label: &str, n: u64, note: &str| {
        let _ = writeln!(o, "  {label:<24}{:>17}  {:>8}{note}", count(n), pct(n, s.appended));
    };
    row(if r.vmagent.is_some() { "scraped (appended)" } else { "appended to the WAL" }, s.appended, "");
    row("delivered (2xx)", s.delivered, "");
    row("failed (4xx, 429)", s.failed, "");
    row("lost: WAL truncation", d.wal_truncation, if d.wal_truncation > 0 { "  <- silent in Prometheus" } else { "" });
    row("lost: too old", d.too_old, "");
    row("lost: reshard shutdown", d.reshard_shutdown, "");
    if d.restart_skip > 0 {
        row("lost: restart skip", d.restart_skip, "  <- silent in Prometheus: unsent when a queue started anew");
    }
    if let Some(v) = &r.vmagent {
        let blocks = format!(
            "  <- vm_persistentqueue_blocks_dropped_total {} ({} bytes){}",
            count(v.disk_blocks_dropped),
            count(v.disk_bytes_dropped),
            if v.disk_blocks_dropped_uncounted > 0 {
                format!(", {} blocks over the cap uncounted", count(v.disk_blocks_dropped_uncounted))
            } else {
                String::new()
            }
        );
        row("lost: disk cap (oldest)", d.disk_full, &blocks);
        row("lost: sender kill", d.sender_crash, if d.sender_crash > 0 { "  <- vmagent counts none" } else { "" });
    }
    row("pending at end", s.pending_at_end, "");
    if s.unsendable_at_end > 0 {
        row("  of which unsendable", s.unsendable_at_end, "  <- WAL already deleted: lost at the watcher's restart");
    }
    let _ = writeln!(o, "  {:<24}{:>17}  (re-sends, not a bucket)", "retried", count(s.retried));
    if s.not_scraped > 0 {
        let _ = writeln!(
            o,
            "  {:<24}{:>17}  {:>8}  <- never appended: the sender was down",
            "never scraped",
            count(s.not_scraped),
            pct(s.not_scraped, s.appended)
        );
    }
    // Every gap: the buckets above that never reach the receiver, as the headline counts them.
    let never = r.gaps.samples;
    let verdict = if let (0, Some((_, unsent))) = (never, r.behind_at_end()) {
        format!("no data lost or rejected by the end of the run; {} not yet sent", pct(unsent, r.produced()))
    } else if never == 0 {
        "no data lost or rejected".to_string()
    } else {
        format!("{} of the data never reaches the receiver", pct(never, r.produced()))
    };
    let _ = writeln!(o, "  => {verdict}\n");

    let l = &r.delivery_latency_seconds;
    let sh = &r.shards;
    let _ = writeln!(o, "Queue");
    let _ = writeln!(o, "  lag (max / final)           {} / {}", secs(r.lag_seconds.max), secs(r.lag_seconds.final_));
    let _ = writeln!(o, "  delivery latency            p50 {}  p99 {}  max {}", secs(l.p50), secs(l.p99), secs(l.max));
    let _ = writeln!(
        o,
        "  shards (min / max / final)  {} / {} / {}   reshards {}, hard shutdowns {}",
        sh.min, sh.max, sh.final_, sh.reshards, sh.hard_shutdowns
    );
    if sh.reshards_skipped > 0 {
        let _ = writeln!(o, "  reshards skipped            {}", reshards_skipped(r, &" ".repeat(30)));
    }
    let _ = writeln!(
        o,
        "  samples pending (max)       {}   backlog incl. unread WAL (max) {}",
        count(r.pending.max),
        count(r.pending.backlog_max)
    );
    let _ = writeln!(o, "  queue memory (peak)         {}", bytes(r.queue_memory_bytes_peak));
    let rx = &r.receiver;
    let rs = &rx.responses;
    let _ = writeln!(o, "\nReceiver");
    let _ = writeln!(
        o,
        "  requests {}: 2xx {}, 429 {}, other 4xx {}, 5xx {}, timeout {}, refused {}",
        count(rx.requests),
        count(rs.ok),
        count(rs.throttled),
        count(rs.client_error),
        count(rs.server_error),
        count(rs.timeout),
        count(rs.refused)
    );
    if rx.duplicate_samples > 0 {
        let _ = writeln!(
            o,
            "  duplicate samples ingested {} (retries of requests that timed out)",
            count(rx.duplicate_samples)
        );
    }
    let w = &r.wal;
    if let Some(v) = &r.vmagent {
        // vmagent has no WAL: its queue instead, in its own units.
        let _ = writeln!(o, "\nvmagent {} queue (no WAL)", v.version);
        let cap = if v.disk_cap_bytes == 0 { "unlimited".to_string() } else { bytes(v.disk_cap_bytes) };
        let _ = writeln!(
            o,
            "  queues {}, in-memory queue {} blocks, disk cap {cap}, disk pending peak {}, chunk files peak {}",
            v.queues,
            count(v.max_inmemory_blocks),
            bytes(v.disk_pending_peak_bytes),
            bytes(v.disk_file_peak_bytes)
        );
        let _ = writeln!(
            o,
            "  blocks sent {}, retries {}, packets dropped (400/409) {}, disk-cap drops {} blocks ({}){}",
            count(v.blocks_sent),
            count(v.retries),
            count(v.packets_dropped),
            count(v.disk_blocks_dropped),
            bytes(v.disk_bytes_dropped),
            if v.rate_limit_reached > 0 {
                format!(", rate limit waits {}", count(v.rate_limit_reached))
            } else {
                String::new()
            }
        );
    } else {
        let _ = writeln!(o, "\nWAL");
        let _ = writeln!(
            o,
            "  segments created {}, truncations {}, segments deleted {}, watcher restarts {}, enqueue retries {}",
            w.segments_created,
            w.truncations,
            w.segments_deleted,
            w.watcher_restarts,
            count(w.enqueue_retries)
        );
    }
    if w.truncations_skipped > 0 {
        let _ = writeln!(
            o,
            "  truncation ticks skipped {} (Alloy: the remote-write timestamp had not moved)",
            w.truncations_skipped
        );
    }
    let se = &r.sender;
    if se.restarts + se.crashes + se.oom_kills + se.reloads > 0 {
        let _ = writeln!(o, "\nSender process");
        let _ = writeln!(
            o,
            "  restarts {}, crashes {}, OOM kills {}, reloads {}, queues started {}, down {}, memory (peak) {}",
            se.restarts,
            se.crashes,
            se.oom_kills,
            se.reloads,
            se.queue_starts,
            secs(se.down_seconds),
            bytes(se.memory_peak_bytes)
        );
    }
    let _ = writeln!(o, "\nTimeline");
    if r.timeline.is_empty() {
        let _ = writeln!(o, "  (nothing notable)");
    }
    // Major moments first-class; minor ones (small reshards, short stalls) only counted. A
    // kind that repeats (a crash loop) shows its first few and then one line for the rest,
    // so a loop cannot push everything else out of the summary.
    let mut shown: Vec<&Notable> = Vec::new();
    let mut folded: Vec<(NotableKind, usize, &Notable)> = Vec::new();
    for n in r.timeline.iter().filter(|n| n.major) {
        let seen = shown.iter().filter(|s| s.kind == n.kind).count();
        if seen < REPEATS_SHOWN {
            shown.push(n);
        } else {
            match folded.iter_mut().find(|(k, _, _)| *k == n.kind) {
                Some(f) => {
                    f.1 += 1;
                    f.2 = n;
                }
                None => folded.push((n.kind, 1, n)),
            }
        }
    }
    for n in shown.iter().take(TIMELINE_LINES) {
        let _ = writeln!(o, "  {}  {}", n.at, n.message);
    }
    for (_, count, last) in &folded {
        let _ = writeln!(o, "  ... {count} more like the above, the last at {}: {}", last.at, last.message);
    }
    let more = shown.len().saturating_sub(TIMELINE_LINES) as u64 + r.timeline_omitted;
    let minor_reshards = r.timeline.iter().filter(|n| !n.major && n.kind == NotableKind::Reshard).count();
    let minor_stalls = r.timeline.iter().filter(|n| !n.major && n.kind == NotableKind::WalReadingBlocked).count();
    let mut notes = Vec::new();
    if more > 0 {
        notes.push(format!("{more} more moments"));
    }
    if minor_reshards > 0 {
        notes.push(format!("{minor_reshards} small reshard{}", if minor_reshards == 1 { "" } else { "s" }));
    }
    if minor_stalls > 0 {
        notes.push(format!(
            "{minor_stalls} WAL-reading stall{} under a minute",
            if minor_stalls == 1 { "" } else { "s" }
        ));
    }
    if r.incident_windows_omitted > 0 {
        // A crash loop over months: the run keeps the first windows only (incident.rs).
        notes.push(format!(
            "{} later incident windows, counted but not kept (the dashboard shades the first ones)",
            r.incident_windows_omitted
        ));
    }
    if !notes.is_empty() {
        let _ = writeln!(o, "  ... and {} (see --json)", notes.join(", "));
    }
    let _ = writeln!(
        o,
        "\nConservation: {}",
        if r.conservation_ok {
            "ok (appended = delivered + failed + lost + pending, checked at every step)"
        } else {
            "VIOLATED: this is a bug in rwsim, please report it with the scenario"
        }
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(100), "100");
        assert_eq!(secs(0.0425), "42ms");
        assert_eq!(secs(12.34), "12.3s");
        assert_eq!(secs(245.0), "4m05s");
        assert_eq!(secs(11520.0), "3h12m");
        assert_eq!(bytes(31_300_000), "29.9 MiB");
    }
}
