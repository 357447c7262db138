//! Rendering of `rwsim compare` ([`analysis::compare::Comparison`]): the side-by-side table
//! for the terminal, the Markdown section for `compare.md` and `rwsim report`, and the chart's
//! data.

use crate::charts::compare::{CompareChart, SenderCurves};
use crate::summary::{bytes, count, pct, secs};
use analysis::compare::{Comparison, SenderOutcome, Trace};
use std::fmt::Write;

fn catch_up(s: &SenderOutcome) -> String {
    match s.catch_up_seconds {
        None => "-".into(),
        Some(None) => "not by the end".into(),
        Some(Some(v)) => secs(v),
    }
}

fn largest(s: &SenderOutcome) -> String {
    match s.largest_gap {
        Some((a, b)) => format!("{}–{}", crate::charts::axis::hhmm(a), crate::charts::axis::hhmm(b)),
        None => "-".into(),
    }
}

fn cells(s: &SenderOutcome) -> Vec<String> {
    // One denominator for every share, so that a row's shares add up: what the workload
    // produced, scraped or not (a sender down for a while scrapes less than it produces).
    let produced = s.appended + s.not_scraped;
    vec![
        s.label.clone(),
        secs(s.lost_seconds),
        format!("{} ({})", s.gaps, largest(s)),
        format!("{} ({})", count(s.delivered), pct(s.delivered, produced)),
        count(s.failed),
        format!("{} ({})", count(s.lost_other), pct(s.lost_other, produced)),
        secs(s.max_lag_seconds),
        bytes(s.peak_memory_bytes),
        if s.peak_disk_bytes == 0 { "-".into() } else { bytes(s.peak_disk_bytes) },
        catch_up(s),
    ]
}

const HEADER: [&str; 10] = [
    "sender",
    "lost time",
    "gaps (largest)",
    "delivered",
    "failed (4xx)",
    "other loss",
    "max lag",
    "peak queue memory",
    "peak disk",
    "catch-up",
];

/// One sentence: who lost least, and by how much the others lost more.
pub fn headline(c: &Comparison) -> String {
    let Some(best) = c.best() else { return "no senders".into() };
    let worst = c.worst().expect("non-empty");
    if worst.lost_seconds <= 0.0 {
        return format!("No sender loses data in {}.", c.scenario);
    }
    let mut s = format!("{} loses least ({} of data)", best.label, secs(best.lost_seconds));
    let _ = write!(s, ", {} most ({})", worst.label, secs(worst.lost_seconds));
    s.push('.');
    s
}

/// The table for the terminal, columns aligned.
pub fn render_text(c: &Comparison) -> String {
    let rows: Vec<Vec<String>> = c.senders.iter().map(cells).collect();
    let mut width: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut o = String::new();
    let _ = writeln!(o, "rwsim compare: {} ({} simulated)\n", c.scenario, secs(c.duration_seconds));
    let _ = writeln!(o, "{}\n", headline(c));
    let line = |o: &mut String, r: &[String]| {
        let parts: Vec<String> = r
            .iter()
            .zip(&width)
            .enumerate()
            .map(|(i, (cell, w))| {
                let pad = w - cell.chars().count();
                if i == 0 { format!("{cell}{}", " ".repeat(pad)) } else { format!("{}{cell}", " ".repeat(pad)) }
            })
            .collect();
        let _ = writeln!(o, "  {}", parts.join("  "));
    };
    line(&mut o, &HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for r in &rows {
        line(&mut o, r);
    }
    let _ = writeln!(o);
    o.push_str(&notes(c));
    o
}

fn notes(c: &Comparison) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "lost time: Σ gap × coverage at the receiver; other loss: dropped (WAL truncation, restart skip, disk cap, \
         kill), never scraped, or certain to be lost at the end; shares are of what was produced; catch-up: from the \
         end of the last receiver fault{} to the first step with lag under 30s.",
        c.outage_end_seconds.map(|e| format!(" ({})", crate::charts::axis::hhmm(e))).unwrap_or_default()
    );
    for s in c.senders.iter().filter(|s| s.sender != s.label) {
        let _ = writeln!(o, "  {}: {}", s.label, s.sender);
    }
    if c.senders.iter().any(|s| !s.conservation_ok) {
        o.push_str("BUG: a run broke sample conservation; its numbers are wrong.\n");
    }
    o
}

/// The Markdown section (`compare.md`, and the comparison section of `rwsim report`).
pub fn render_markdown(c: &Comparison, chart_file: Option<&str>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## Which sender survives this outage?\n");
    let _ = writeln!(o, "{}\n", headline(c));
    let _ = writeln!(o, "| {} |", HEADER.join(" | "));
    let _ = writeln!(o, "|{}", "---|".repeat(HEADER.len()));
    for s in &c.senders {
        let _ = writeln!(o, "| {} |", cells(s).join(" | "));
    }
    let _ = writeln!(o);
    if let Some(f) = chart_file {
        let _ = writeln!(o, "![lag and loss of each sender]({f})\n");
    }
    o.push_str(&notes(c));
    o
}

/// The chart from the comparison and the senders' traces (same order).
pub fn chart(c: &Comparison, traces: &[Trace], windows: Vec<(f64, f64)>) -> CompareChart {
    let senders = c
        .senders
        .iter()
        .zip(traces)
        .map(|(s, t)| {
            let pct = |l: u64, p: u64| if p == 0 { 0.0 } else { 100.0 * l as f64 / p as f64 };
            SenderCurves {
                label: s.label.clone(),
                lag: t.t.iter().copied().zip(t.lag.iter().copied()).collect(),
                lost_pct: t.t.iter().zip(t.lost.iter().zip(&t.produced)).map(|(&x, (&l, &p))| (x, pct(l, p))).collect(),
            }
        })
        .collect();
    CompareChart {
        title: format!("rwsim compare: {}", c.scenario),
        subtitle: headline(c),
        duration: c.duration_seconds,
        windows,
        senders,
    }
}

/// The comparison as a report document (`rwsim report DIR` on a `compare --out` directory);
/// `chart` is the index of the chart image, if there is one.
pub fn document(c: &Comparison, chart: Option<usize>) -> Vec<crate::report::Block> {
    use crate::report::Block;
    let worst_lost = c.worst().map_or(0.0, |w| w.lost_seconds);
    let mut b = vec![
        Block::Heading(1, format!("rwsim compare: {}", c.scenario)),
        Block::Verdict(headline(c), worst_lost <= 0.0),
        Block::Heading(2, "Which sender survives this outage?".into()),
        Block::Table {
            header: HEADER.iter().map(|h| h.to_string()).collect(),
            rows: c.senders.iter().map(cells).collect(),
            numeric: (0..HEADER.len()).map(|i| i > 0).collect(),
        },
    ];
    if let Some(i) = chart {
        b.push(Block::Figure(i));
    }
    b.push(Block::Note(notes(c)));
    b.push(Block::Footer(format!(
        "Generated by rwsim {} with `rwsim compare`; the same scenario and seed give the same comparison.",
        env!("CARGO_PKG_VERSION")
    )));
    b
}
