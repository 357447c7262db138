//! The human-readable forecast: a table of where the samples went, how the queue behaved,
//! and a short timeline of notable moments.

use sim_core::observer::{Notable, NotableKind};
use sim_core::result::RunResult;
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

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 { "-".into() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

/// Renders the forecast table and the first [`TIMELINE_LINES`] timeline entries.
pub fn render(r: &RunResult) -> String {
    let mut o = String::new();
    let s = &r.samples;
    let d = &s.dropped;
    let lost = d.wal_truncation + d.too_old + d.reshard_shutdown + d.restart_skip;
    let sender = sim_core::config::SenderMode::describe(&r.sender.mode, &r.prometheus);
    let _ = writeln!(
        o,
        "rwsim forecast: {} ({sender}, seed {}, {} simulated)\n",
        r.scenario,
        r.seed,
        secs(r.simulated_seconds)
    );
    let _ = writeln!(o, "Samples                          count      share");
    let mut row = |label: &str, n: u64, note: &str| {
        let _ = writeln!(o, "  {label:<24}{:>17}  {:>8}{note}", count(n), pct(n, s.appended));
    };
    row("appended to the WAL", s.appended, "");
    row("delivered (2xx)", s.delivered, "");
    row("failed (4xx, 429)", s.failed, "");
    row("lost: WAL truncation", d.wal_truncation, if d.wal_truncation > 0 { "  <- silent in Prometheus" } else { "" });
    row("lost: too old", d.too_old, "");
    row("lost: reshard shutdown", d.reshard_shutdown, "");
    if d.restart_skip > 0 {
        row("lost: restart skip", d.restart_skip, "  <- silent in Prometheus: unsent when a queue started anew");
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
    let never = lost + s.failed + s.unsendable_at_end + s.not_scraped;
    let verdict = if never == 0 {
        "no data lost or rejected".to_string()
    } else {
        format!("{} of the data never reaches the receiver", pct(never, s.appended + s.not_scraped))
    };
    let _ = writeln!(o, "  => {verdict}\n");

    let l = &r.delivery_latency_seconds;
    let sh = &r.shards;
    let _ = writeln!(o, "Queue");
    let _ = writeln!(o, "  lag (max / final)           {} / {}", secs(r.lag_seconds.max), secs(r.lag_seconds.final_));
    let _ = writeln!(o, "  delivery latency            p50 {}  p99 {}  max {}", secs(l.p50), secs(l.p99), secs(l.max));
    let _ = writeln!(
        o,
        "  shards (min / max / final)  {} / {} / {}   reshards {}, refused by gate {}, hard shutdowns {}",
        sh.min, sh.max, sh.final_, sh.reshards, sh.reshards_skipped, sh.hard_shutdowns
    );
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
        notes.push(format!("{minor_reshards} small reshards"));
    }
    if minor_stalls > 0 {
        notes.push(format!("{minor_stalls} WAL-reading stalls under a minute"));
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
