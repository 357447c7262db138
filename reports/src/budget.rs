//! `rwsim budget`: the outage budget as text, JSON and a chart.

use crate::charts::sweep::{Curves, ValueUnit};
use crate::summary::{count, span};
use analysis::budget::{Budget, CurvePoint, PhaseBudget};
use serde::Serialize;
use std::fmt::Write;

/// The scenario a budget is of, for headers.
#[derive(Clone, Debug, Serialize)]
pub struct Of<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// `"2.42"` or `"3.x"`.
    pub prometheus: &'a str,
    /// Seed.
    pub seed: u64,
}

fn budget_words(b: &Budget, p: &PhaseBudget) -> String {
    match p.budget_seconds {
        None => format!("more than {}", span(b.max_length_seconds)),
        Some(s) => span(s),
    }
}

fn loss_cell(p: &CurvePoint) -> String {
    let mut s = if p.lost_samples == 0 {
        "nothing".to_string()
    } else {
        format!(
            "{} ({} samples{})",
            span(p.lost_seconds),
            crate::summary::samples_words(p.lost_samples),
            p.reason.map(|r| format!(", {}", r.describe())).unwrap_or_default()
        )
    };
    if !p.settled {
        s.push_str(" *");
    }
    s
}

/// `, refined to 1m53s around the worst and the best (17 in all)` when phases were added.
fn refined_words(b: &Budget) -> String {
    if b.phases.len() > b.grid_phases {
        format!(
            ", refined to {} around the worst and the best: {} in all",
            span(b.phase_resolution_seconds),
            b.phases.len()
        )
    } else {
        String::new()
    }
}

/// The budget as text: the answer, the budget per phase, the loss against length.
pub fn render(b: &Budget, of: &Of<'_>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "rwsim budget: {} (Prometheus {}, seed {})", of.scenario, of.prometheus, of.seed);
    let _ = writeln!(o, "The outage: {}, {} ({} in the scenario)", b.window, b.kind, span(b.scenario_length_seconds));
    if !b.left_out.is_empty() {
        let _ = writeln!(o, "  left out, so the answer is about this one outage: {}", b.left_out.join(", "));
    }
    let _ = writeln!(
        o,
        "\nOutage budget: {} when it starts {} after a {} (the worst phase), {} when it starts {} after one \
         (the best).",
        budget_words(b, &b.worst),
        span(b.worst.phase_seconds),
        b.reference,
        budget_words(b, &b.best),
        span(b.best.phase_seconds)
    );
    match b.worst.first_loss_seconds {
        Some(first) => {
            let at = b.curve_worst.iter().find(|p| p.length_seconds >= first && p.lossy());
            let _ = writeln!(
                o,
                "  An outage of this kind lasting {} or more can lose data{}.",
                span(first),
                at.and_then(|p| p.reason).map(|r| format!(" (first through {})", r.describe())).unwrap_or_default()
            );
        }
        None => {
            let _ = writeln!(
                o,
                "  No outage of up to {} loses data at any phase tried; pass --max-length to look further.",
                span(b.max_length_seconds)
            );
        }
    }
    let own = b.scenario_length_seconds;
    if let Some(p) = b.curve_worst.iter().find(|p| (p.length_seconds - own).abs() < 0.5) {
        let _ = writeln!(o, "  The scenario's {}: {} at worst.", span(own), loss_cell(p));
    }

    let _ = writeln!(
        o,
        "\nBudget by phase ({} phases over the {} {}{}; lengths every {} up to {}, then to {})",
        b.grid_phases,
        span(b.block_seconds),
        if b.reference == "block boundary" { "block range" } else { "truncation period" },
        refined_words(b),
        span(b.step_seconds),
        span(b.max_length_seconds),
        span(b.resolution_seconds)
    );
    let _ = writeln!(
        o,
        "  {:<26}  {:>14}  {:>12}",
        format!("starts after a {}", if b.reference == "block boundary" { "boundary" } else { "tick" }),
        "budget",
        "first loss"
    );
    for p in &b.phases {
        let _ = writeln!(
            o,
            "  {:<26}  {:>14}  {:>12}",
            span(p.phase_seconds),
            budget_words(b, p),
            p.first_loss_seconds.map_or("-".into(), span)
        );
    }

    let _ = writeln!(o, "\nData lost against outage length");
    let head_w = format!("worst phase ({})", span(b.worst.phase_seconds));
    let head_b = format!("best phase ({})", span(b.best.phase_seconds));
    let _ = writeln!(o, "  {:>8}  {:<46}  {head_b}", "length", head_w);
    for (w, bp) in b.curve_worst.iter().zip(&b.curve_best) {
        let _ = writeln!(o, "  {:>8}  {:<46}  {}", span(w.length_seconds), loss_cell(w), loss_cell(bp));
    }
    if b.curve_worst.iter().chain(&b.curve_best).any(|p| !p.settled) {
        let _ = writeln!(o, "  * not caught up four block ranges after the outage: counted as losing data");
    }
    let _ = writeln!(
        o,
        "\nThe budget of a phase is the longest length that loses nothing, with every shorter length on the grid \
         lossless too ({} runs). A single sample that never reaches the receiver counts as a loss.",
        count(b.runs as u64),
    );
    o
}

/// The budget and its scenario as one JSON object.
pub fn json(b: &Budget, of: &Of<'_>) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(flatten)]
        of: &'a Of<'a>,
        #[serde(flatten)]
        budget: &'a Budget,
    }
    let mut s = serde_json::to_string_pretty(&Out { of, budget: b }).expect("a Budget serialises");
    s.push('\n');
    s
}

/// The loss-against-length chart: the worst and the best phase.
pub fn chart(b: &Budget, of: &Of<'_>) -> Curves {
    let pts = |c: &[CurvePoint]| c.iter().map(|p| (p.length_seconds, p.lost_seconds)).collect::<Vec<_>>();
    Curves {
        title: format!("Outage budget: {}", of.scenario),
        x_key: format!("outage length ({}, {})", b.window, b.kind),
        x_unit: ValueUnit::Seconds,
        y_label: "data lost (time's worth of samples)".into(),
        y_unit: ValueUnit::Seconds,
        series: vec![
            (
                format!(
                    "worst phase: starts {} after a {}, budget {}",
                    span(b.worst.phase_seconds),
                    b.reference,
                    budget_words(b, &b.worst)
                ),
                pts(&b.curve_worst),
            ),
            (
                format!(
                    "best phase: starts {} after a {}, budget {}",
                    span(b.best.phase_seconds),
                    b.reference,
                    budget_words(b, &b.best)
                ),
                pts(&b.curve_best),
            ),
        ],
        subtitle: vec![format!(
            "Prometheus {}, seed {} · {} phases over the {} {}{}; the budget is the longest outage that \
             loses nothing, found to {}",
            of.prometheus,
            of.seed,
            b.grid_phases,
            span(b.block_seconds),
            if b.reference == "block boundary" { "block range" } else { "truncation period" },
            refined_words(b),
            span(b.resolution_seconds)
        )],
        x_labels: Vec::new(),
        marked: None,
        x_log: false,
        // Data lost jumps once an outage outlasts a truncation: a step, at the first length
        // found to lose (to the resolution), not a ramp from the last lossless grid length.
        steps: true,
        jumps: vec![b.worst.first_loss_seconds, b.best.first_loss_seconds],
    }
}
