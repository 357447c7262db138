//! The report of a sweep: `report.md` and `report.html` for a directory written by
//! `rwsim sweep --out DIR` or `rwsim merge --out DIR`.
//!
//! [`SweepReport`] is what the document shows; [`document`] turns it into the same
//! [`Block`]s a run report is made of, so the Markdown and HTML look alike. Sections: the
//! answer (the recommended point, or that none meets the targets), the scenario in words,
//! the grid, the base `queue_config`, the recommendation with its `queue_config:` YAML (or
//! why there is none), the Pareto front, and the charts.

use super::{Block, Image, queue_config_rows, queue_config_words, render_html, render_markdown, scenario_words};
use crate::summary::{bytes, count, secs};
use crate::sweep::{
    CONFIDENCE, PARETO_LINES, Recommendation, SweepResult, Targets, budget_text, candidates_of, condition_keys,
    describe, distinct_values, flags_of, is_setting, lever_words, levers_it_lacks, loss_note, metrics_line,
    pareto_front, paste_where, percent, recommend, recommended_row, setting_assignments, short_names, to_apply, why,
};
use analysis::levers::{How, Levers};
use analysis::settings::Sender;
use sim_core::config::SimConfig;

/// What a sweep report shows.
pub struct SweepReport<'a> {
    /// Every point of the sweep (a whole grid).
    pub result: &'a SweepResult,
    /// The targets of the recommendation.
    pub targets: &'a Targets,
    /// The scenario as written (before any swept value), when the directory has it.
    pub config: Option<&'a SimConfig>,
    /// The scenario's `description`, if any.
    pub description: Option<&'a str>,
    /// Where the sweep's files came from, for the footer (a directory).
    pub origin: &'a str,
    /// Charts, in order.
    pub images: Vec<Image>,
    /// The levers besides the swept settings, when nothing met the targets and they were
    /// evaluated (`levers.json`).
    pub levers: Option<&'a Levers>,
}

/// Where a swept key shows in the `queue_config` table, by the table's key names (Alloy's
/// `wal` attributes and vmagent's flags included).
fn table_key(param: &str) -> Option<String> {
    match param {
        "remote_write.remote_timeout" => Some("remote_timeout".into()),
        "sender.flush_deadline" => Some("flush_deadline (flag)".into()),
        p => p
            .strip_prefix("remote_write.queue_config.")
            .map(str::to_string)
            .or_else(|| p.strip_prefix("sender.alloy.").map(|k| format!("{k} (wal)")))
            .or_else(|| p.strip_prefix("vmagent.").map(|k| format!("-{k}"))),
    }
}

/// The document, as blocks.
pub fn document(rep: &SweepReport<'_>) -> Vec<Block> {
    let r = rep.result;
    let Some(first) = r.points.first() else {
        return vec![
            Block::Heading(1, "rwsim sweep report".into()),
            Block::Verdict("The sweep has no points.".into(), false),
        ];
    };
    let n = r.points.len();
    let k = first.row.replications;
    let name = &first.row.scenario;
    let mut b = vec![Block::Heading(1, format!("rwsim sweep report: {name}"))];
    if let Some(d) = rep.description {
        b.push(Block::Note(d.to_string()));
    }
    let outcome = recommend(r, rep.targets);
    let active = rep.targets.active();
    let wanted: Vec<String> = active.iter().map(|&t| describe(rep.targets, t)).collect();
    b.push(match &outcome {
        Some(Recommendation::Chosen { point, .. }) => {
            let p = &r.points[*point];
            Block::Verdict(
                format!(
                    "Recommended: point {}: {}; {}.",
                    p.index,
                    setting_assignments(r, p),
                    metrics_line(&recommended_row(r, *point))
                ),
                true,
            )
        }
        _ => Block::Verdict(format!("No point of the {n} meets every target ({}).", wanted.join(", ")), false),
    });

    b.push(Block::Heading(2, "The scenario".into()));
    let runs = format!("{n} point{} × {k} replication{}", if n == 1 { "" } else { "s" }, if k == 1 { "" } else { "s" });
    match rep.config {
        Some(cfg) => {
            b.extend(scenario_words(cfg).into_iter().map(Block::Para));
            b.push(Block::Para(format!(
                "The sweep runs this scenario once per point of the grid below ({runs}), with the swept keys set \
                 to the point's values instead of those above."
            )));
        }
        None => b.push(Block::Para(format!(
            "The sweep ran {name} once per point of the grid below ({runs}). Its text is not in this directory \
             (sweep-scenario.toml, which rwsim merge writes when given --scenario FILE), so it is not described \
             here."
        ))),
    }

    b.push(Block::Heading(2, "The grid".into()));
    if r.params.is_empty() {
        b.push(Block::Para("Nothing is swept: the grid is the scenario as written.".into()));
    } else {
        b.push(Block::Table {
            header: vec!["swept key".into(), "values".into(), "count".into()],
            rows: r
                .params
                .iter()
                .enumerate()
                .map(|(i, key)| {
                    let v = distinct_values(r, i);
                    vec![key.clone(), v.join(", "), v.len().to_string()]
                })
                .collect(),
            numeric: vec![false, false, true],
        });
        b.push(Block::Note(
            "Points are numbered from 0 with the last key varying fastest. Replication r of point p runs with a \
             seed derived from the scenario's seed, p and r; sweep.csv has each point's seed, and \
             rwsim run FILE --set KEY=VALUE ... --seed SEED reproduces it."
                .into(),
        ));
    }
    if let Some(cfg) = rep.config {
        let (heading, note) = queue_config_words(cfg);
        b.push(Block::Heading(2, heading.into()));
        let mut rows = queue_config_rows(cfg);
        for row in &mut rows {
            if r.params.iter().any(|p| table_key(p).as_deref() == Some(row[0].as_str())) {
                row[1] = "swept".into();
                row[2] = "see the grid".into();
            }
        }
        b.push(Block::Table {
            header: vec!["key".into(), "value".into(), "".into()],
            rows,
            numeric: vec![false, true, false],
        });
        b.push(Block::Note(format!("The scenario as written; {note}")));
    }

    b.push(Block::Heading(2, "Recommendation".into()));
    let mut t = format!("Targets: {}.", wanted.join(", "));
    if k > 1 {
        t += &format!(
            " Each is checked against the upper end of the {:.0}% confidence interval over the {k} seeds; \
             settings whose intervals overlap count as equal, and the cheaper one is preferred.",
            CONFIDENCE * 100.0
        );
    } else {
        t += " Single run per point, noisy: p99 latency and peak memory vary with the seed, and losses within \
              0.1 points (or 2%) of each other count as equal; a sweep with --replications 3 or more compares by \
              confidence intervals.";
    }
    b.push(Block::Para(t));
    match &outcome {
        Some(Recommendation::Chosen { point, candidates }) => {
            let p = &r.points[*point];
            b.push(Block::Para(format!("Point {}: {}.", p.index, setting_assignments(r, p))));
            b.push(Block::Para(format!("With it: {}.", metrics_line(&recommended_row(r, *point)))));
            b.push(Block::Para(format!("Why: {}.", why(r, *candidates))));
            let (yaml, flags) = to_apply(r, p, "");
            if let Some(yaml) = yaml {
                b.push(Block::Para(format!("{}:", paste_where(r, &p.row))));
                b.push(match r.sender {
                    Sender::Alloy => Block::Code("alloy", yaml),
                    _ => Block::Yaml(yaml),
                });
            }
            if !flags.is_empty() {
                b.push(Block::Para(format!("Start {} with these flags:", flags_of(r.sender))));
                let flags = flags.join("\n") + "\n";
                b.push(if r.sender.is_server() { Block::Yaml(flags) } else { Block::Code("text", flags) });
            }
            let conditions = condition_keys(r);
            if !conditions.is_empty() {
                b.push(Block::Note(format!(
                    "The grid also sweeps conditions ({}): the recommendation is the setting that meets every \
                     target under all of them, judged by its worst case; the charts show how each setting fares \
                     condition by condition.",
                    conditions.join(", ")
                )));
            }
        }
        Some(Recommendation::NoneMeets { met_by, closest }) => {
            let (total, noun) = candidates_of(r);
            let whole = if noun == "settings" { " under every swept condition" } else { "" };
            b.push(Block::Para(format!(
                "No {} meets every target{whole}, so nothing is recommended.",
                &noun[..noun.len() - 1]
            )));
            b.push(Block::Table {
                header: vec!["target".into(), "met by".into()],
                rows: met_by
                    .iter()
                    .map(|(t, c)| vec![describe(rep.targets, *t), format!("{c} of {total} {noun}{whole}")])
                    .collect(),
                numeric: vec![false, true],
            });
            if r.points.iter().all(|p| p.row.loses_data()) {
                let best = r
                    .points
                    .iter()
                    .min_by(|a, b| a.row.loss_fraction.total_cmp(&b.row.loss_fraction).then(a.index.cmp(&b.index)))
                    .expect("non-empty");
                b.push(Block::Para(format!(
                    "Every point of this grid loses data (the least: {} at point {}): no queue_config here keeps \
                     this scenario loss-free.",
                    percent(best.row.loss_fraction),
                    best.index
                )));
            }
            let c = &r.points[*closest];
            b.push(Block::Para(format!(
                "Closest: point {}: {}; {}.",
                c.index,
                setting_assignments(r, c),
                metrics_line(&recommended_row(r, *closest))
            )));
        }
        None => {}
    }
    b.push(Block::Note(loss_note(r.sender).into()));

    if let Some(l) = rep.levers {
        b.push(Block::Heading(2, "What else would meet the targets".into()));
        b.push(Block::Para(format!(
            "The closest setting with one change each, run under every swept condition and judged by its worst \
             case ({} runs).",
            l.runs
        )));
        if let Some(none) = levers_it_lacks(l.sender) {
            b.push(Block::Note(format!("{}{}.", none[..1].to_uppercase(), &none[1..])));
        }
        if let Some(bg) = &l.budget {
            let at = |x: Option<f64>| x.map_or_else(|| format!("more than {}", secs(bg.max_length_seconds)), secs);
            b.push(Block::Para(format!(
                "Shorter outages: as it is, the setting survives an outage of {} ({}) of up to {} when it starts {} \
                 after a {}, {} at best; the longest it has to survive here is {}.",
                bg.window,
                bg.kind,
                at(bg.worst.budget_seconds),
                secs(bg.worst.phase_seconds),
                bg.reference,
                at(bg.best.budget_seconds),
                secs(bg.scenario_length_seconds)
            )));
        }
        b.push(Block::Table {
            header: vec!["lever".into(), "meets the targets".into(), "worst case".into(), "cost".into()],
            rows: l
                .levers
                .iter()
                .map(|x| {
                    let what = match &x.how {
                        How::Flag(f) => f.clone(),
                        How::QueueConfig { .. } | How::AlloyWal { .. } if l.sender == Sender::Alloy => {
                            lever_words(l.sender, &x.how)
                        }
                        How::QueueConfig { key, value } => format!("queue_config {key}: {value}"),
                        How::AlloyWal { key, value } => format!("wal {key} = {value}"),
                        How::Series(n) => format!("{} series", count(*n)),
                        How::Receiver(w) => w.clone(),
                    };
                    let mut cost = Vec::new();
                    if let Some(m) = x.cost.memory_bytes {
                        cost.push(format!("about {} more memory", bytes(m)));
                    }
                    if let Some(d) = x.cost.disk_bytes {
                        cost.push(format!("about {} more disk", bytes(d)));
                    }
                    cost.push(x.cost.note.clone());
                    vec![
                        what,
                        if x.meets { "yes" } else { "no" }.into(),
                        metrics_line(&crate::sweep::PointRow {
                            loss_fraction: x.loss_fraction,
                            delivery_latency_p99_seconds: x.delivery_latency_p99_seconds,
                            queue_memory_bytes_peak: x.queue_memory_bytes_peak as f64,
                            ..Default::default()
                        }),
                        cost.join("; "),
                    ]
                })
                .collect(),
            numeric: vec![false, false, false, false],
        });
    }

    b.push(Block::Heading(2, "Pareto front".into()));
    let front = pareto_front(r);
    let conditions = condition_keys(r);
    let (total, noun) = candidates_of(r);
    let budgets = first.row.outage_budget_seconds.is_some();
    b.push(Block::Para(format!(
        "{} of the {total} {noun} are on the Pareto front over loss, peak queue memory and p99 delivery latency: \
         none other is as good in all three and better in one. Sorted by loss, then memory.{}",
        front.len(),
        if conditions.is_empty() {
            String::new()
        } else {
            format!(
                " Each setting is shown at its worst case over the swept {}: conditions are not options.",
                conditions.join(", ")
            )
        }
    )));
    let shown: Vec<usize> =
        (0..r.params.len()).filter(|&i| conditions.is_empty() || is_setting(&r.params[i])).collect();
    let names = short_names(&r.params);
    let mut header = vec!["point".to_string()];
    header.extend(shown.iter().map(|&i| names[i].clone()));
    header.extend(["loss".into(), "queue memory".into(), "p99 latency".into()]);
    if budgets {
        header.push("outage budget".into());
    }
    let cols = header.len();
    b.push(Block::Table {
        header,
        rows: front
            .iter()
            .take(PARETO_LINES)
            .map(|&i| {
                let p = &r.points[i];
                let w = recommended_row(r, i);
                let mut row = vec![p.index.to_string()];
                row.extend(shown.iter().map(|&j| p.params[j].clone()));
                row.extend([
                    percent(w.loss_fraction),
                    bytes(w.queue_memory_bytes_peak.round() as u64),
                    secs(w.delivery_latency_p99_seconds),
                ]);
                if budgets {
                    row.push(budget_text(r, p.row.outage_budget_seconds));
                }
                row
            })
            .collect(),
        numeric: vec![true; cols],
    });
    if front.len() > PARETO_LINES {
        b.push(Block::Note(format!(
            "... and {} more on the front: sweep.csv has every point.",
            count((front.len() - PARETO_LINES) as u64)
        )));
    }

    if !rep.images.is_empty() {
        b.push(Block::Heading(2, "Charts".into()));
        b.extend((0..rep.images.len()).map(Block::Figure));
    }
    b.push(Block::Footer(format!(
        "Generated by rwsim {} from the sweep in {} (sweep_id {}). The same sweep gives the same report.",
        env!("CARGO_PKG_VERSION"),
        rep.origin,
        first.row.sweep_id
    )));
    b
}

/// The report as Markdown; charts are linked by file name.
pub fn markdown(rep: &SweepReport<'_>) -> String {
    render_markdown(&document(rep), &rep.images)
}

/// The report as one self-contained HTML page.
pub fn html(rep: &SweepReport<'_>) -> String {
    let name = rep.result.points.first().map_or("", |p| p.row.scenario.as_str());
    render_html(&format!("rwsim sweep report: {name}"), &document(rep), &rep.images)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{PointRow, SweepPoint};
    use sim_core::profile::Profile;

    fn result(losses: &[f64]) -> SweepResult {
        SweepResult {
            params: vec!["remote_write.queue_config.max_shards".into()],
            points: losses
                .iter()
                .enumerate()
                .map(|(i, &loss)| SweepPoint {
                    index: i as u64,
                    params: vec![((i + 1) * 10).to_string()],
                    row: PointRow {
                        replications: 1,
                        scenario: "outage <x>".into(),
                        sweep_id: "0123456789abcdef".into(),
                        prometheus: "3.x".into(),
                        loss_fraction: loss,
                        appended: 1000,
                        failed: (loss * 1000.0) as u64,
                        max_shards: ((i + 1) * 10) as u32,
                        queue_memory_bytes_peak: (i + 1) as f64 * 1e6,
                        delivery_latency_p99_seconds: 10.0,
                        batch_send_deadline: "5s".into(),
                        ..PointRow::default()
                    },
                })
                .collect(),
            sender: Default::default(),
        }
    }

    fn report<'a>(r: &'a SweepResult, t: &'a Targets, cfg: Option<&'a SimConfig>) -> SweepReport<'a> {
        SweepReport {
            result: r,
            targets: t,
            config: cfg,
            description: Some("a sweep"),
            origin: "out/",
            images: vec![Image { title: "Loss".into(), file: "curves-loss.png".into(), png: vec![1, 2, 3] }],
            levers: None,
        }
    }

    #[test]
    fn a_recommendation_comes_with_its_yaml_and_the_front() {
        let r = result(&[0.2, 0.0, 0.0]);
        let t = Targets::default();
        let cfg = SimConfig::baseline(Profile::V3);
        let md = markdown(&report(&r, &t, Some(&cfg)));
        for part in [
            "# rwsim sweep report: outage <x>\n",
            "Recommended: point 1: remote_write.queue_config.max_shards = 20; loss 0%, p99 delivery latency 10.0s, \
             peak queue memory 1.9 MiB.",
            "## The scenario\n\nA Prometheus 3.x sender",
            "| remote_write.queue_config.max_shards | 10, 20, 30 | 3 |",
            "| max_shards | swept | see the grid |",
            "| capacity | 10,000 | default |",
            "Targets: loss ≤ 0%.",
            "Why: the least peak queue memory of the 2 of 3 points that meet every target",
            "```yaml\nqueue_config:\n  capacity: 0\n  max_shards: 20\n",
            "## Pareto front\n\n2 of the 3 points",
            "| 1 | 20 | 0% | 1.9 MiB | 10.0s |",
            "![Loss](curves-loss.png)",
            "sweep_id 0123456789abcdef",
        ] {
            assert!(md.contains(part), "report.md lacks {part:?}\n{md}");
        }
        let html = html(&report(&r, &t, None));
        assert!(html.contains("<title>rwsim sweep report: outage &lt;x&gt;</title>"));
        assert!(html.contains("<p class=\"verdict good\">Recommended: point 1"));
        assert!(html.contains("<pre><code>queue_config:\n  capacity: 0\n"));
        assert!(html.contains("src=\"data:image/png;base64,AQID\""));
        assert!(html.contains("sweep-scenario.toml"), "says why the scenario is not described");
    }

    #[test]
    fn without_a_recommendation_it_says_why_and_has_no_yaml() {
        let r = result(&[0.2, 0.1]);
        let t = Targets { max_p99_seconds: Some(5.0), ..Targets::default() };
        let md = markdown(&report(&r, &t, None));
        for part in [
            "No point of the 2 meets every target (loss ≤ 0%, p99 delivery latency ≤ 5.0s).",
            "| loss ≤ 0% | 0 of 2 points |",
            "| p99 delivery latency ≤ 5.0s | 0 of 2 points |",
            "Every point of this grid loses data (the least: 10.00% at point 1)",
            "Closest: point 1: remote_write.queue_config.max_shards = 20; loss 10.00%",
        ] {
            assert!(md.contains(part), "report.md lacks {part:?}\n{md}");
        }
        assert!(!md.contains("```yaml"));
        let html = html(&report(&r, &t, None));
        assert!(html.contains("<p class=\"verdict bad\">No point of the 2"));
    }
}
