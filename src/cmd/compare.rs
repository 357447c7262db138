//! `rwsim compare FILE --senders prometheus-3.x,agent,alloy,vmagent`: one workload and
//! receiver through several senders, each with its own defaults unless the file sets them
//! (`scenarios::compare`). The runs are independent tasks collected in `--senders` order with
//! an indexed parallel map, so the output is byte-identical on any number of threads.
//! The numbers come from `analysis::compare`, the words and the chart from `reports::compare`.

use super::{CliError, io_err, source, thread_pool};
use crate::cli::CompareArgs;
use analysis::compare::{Comparison, Trace, outage_end, outcome};
use rayon::prelude::*;
use reports::charts;
use scenarios::compare::{SenderChoice, parse_senders};
use sim_core::config::SenderMode;
use std::path::Path;
use std::process::ExitCode;

/// Files written to `--out`.
pub const FILES: [&str; 4] = ["compare.md", "compare.json", "compare.png", "compare.svg"];

/// The sender in words, from its configuration.
fn describe(cfg: &sim_core::config::SimConfig) -> String {
    match &cfg.sender.mode {
        SenderMode::Vmagent(v) => v.version.describe().to_string(),
        m => SenderMode::describe(m.name(), cfg.profile.as_str()),
    }
}

pub fn run(a: CompareArgs) -> Result<ExitCode, CliError> {
    let senders: Vec<SenderChoice> = parse_senders(&a.senders).map_err(CliError::Usage)?;
    let src = source(&a.scenario)?;
    let mut configs = Vec::with_capacity(senders.len());
    for s in &senders {
        let mut sc = src
            .load_for_sender(*s)
            .map_err(|e| CliError::Usage(format!("{e} (loading the scenario for --senders {})", s.label())))?;
        if let Some(seed) = a.seed {
            sc.config.seed = seed;
        }
        configs.push(sc.config);
    }
    let (pool, _) = thread_pool(a.threads)?;
    let origin = &src.origin;
    let runs: Vec<Result<(sim_core::result::RunResult, Trace), CliError>> = pool.install(|| {
        configs
            .par_iter()
            .zip(&senders)
            .map(|(cfg, s)| {
                let mut trace = Trace::default();
                let what = || format!("{origin} (sender {})", s.label());
                let r = sim_core::simulate(cfg, &mut trace).map_err(|e| CliError::Sim(what(), e))?;
                if !r.conservation_ok {
                    return Err(CliError::Conservation(what()));
                }
                Ok((r, trace))
            })
            .collect()
    });
    let end = outage_end(&configs[0]);
    let mut outcomes = Vec::new();
    let mut traces = Vec::new();
    let mut windows: Vec<(f64, f64)> = Vec::new();
    for ((run, s), cfg) in runs.into_iter().zip(&senders).zip(&configs) {
        let (r, trace) = run?;
        if windows.is_empty() {
            windows = r
                .incident_windows
                .iter()
                .filter(|w| !w.kind.starts_with("sender"))
                .map(|w| (w.start_seconds, w.end_seconds))
                .collect();
        }
        outcomes.push(outcome(&s.label(), &describe(cfg), &r, &trace, end));
        traces.push(trace);
    }
    let cmp = Comparison {
        scenario: configs[0].name.clone(),
        duration_seconds: configs[0].duration.as_secs_f64(),
        outage_end_seconds: end,
        senders: outcomes,
    };
    if a.json {
        let json = serde_json::to_string_pretty(&cmp).expect("the comparison serializes");
        println!("{json}");
    } else {
        print!("{}", reports::compare::render_text(&cmp));
    }
    if let Some(dir) = &a.out {
        write_outputs(dir, &cmp, &traces, windows)?;
        eprintln!("rwsim: wrote {} in {}", FILES.join(", "), dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn write_outputs(dir: &Path, cmp: &Comparison, traces: &[Trace], windows: Vec<(f64, f64)>) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(io_err(&p))
    };
    let md =
        format!("# rwsim compare: {}\n\n{}", cmp.scenario, reports::compare::render_markdown(cmp, Some("compare.png")));
    write("compare.md", md.as_bytes())?;
    let json = serde_json::to_string_pretty(cmp).expect("the comparison serializes");
    write("compare.json", format!("{json}\n").as_bytes())?;
    let fig = reports::compare::chart(cmp, traces, windows);
    let mut png = Vec::new();
    let chart_err = |e: charts::ChartError| CliError::Io("compare chart".into(), std::io::Error::other(e.to_string()));
    charts::write_png(&fig, &mut png).map_err(chart_err)?;
    write("compare.png", &png)?;
    write("compare.svg", charts::render_svg(&fig).map_err(chart_err)?.as_bytes())?;
    Ok(())
}
