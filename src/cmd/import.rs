//! `rwsim import`: a prometheus.yml, Operator resource or Helm values → scenario files.

use super::{CliError, io_err};
use crate::cli::ImportArgs;
use scenarios::import::{Draft, Flags, ImportOptions, Provenance, import};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(a: ImportArgs) -> Result<ExitCode, CliError> {
    let origin = a.file.display().to_string();
    let text = fs::read_to_string(&a.file).map_err(io_err(&a.file))?;
    let mut flags: Option<Flags> = None;
    if let Some(path) = &a.flags_file {
        let t = fs::read_to_string(path).map_err(io_err(path))?;
        flags = Some(Flags::parse(&t, &path.display().to_string()));
    }
    if let Some(line) = &a.flags {
        let mut f = Flags::parse(line, "--flags");
        if let Some(file) = flags.take() {
            for (k, v) in file.values {
                f.values.entry(k).or_insert(v);
            }
            f.source = format!("--flags and {}", file.source);
        }
        flags = Some(f);
    }
    let opts = ImportOptions {
        flags,
        version: a
            .prometheus_version
            .as_ref()
            .map(|v| (v.clone(), Provenance::CommandLine(format!("--prometheus-version {v}")))),
        series: a.series,
        targets: a.targets,
        duration: a.duration.as_deref().map(|d| parse_duration_flag("--duration", d)).transpose()?,
    };
    let imported = import(&text, &origin, &opts)?;
    let drafts = imported.select(a.remote.as_deref()).map_err(|e| CliError::Usage(format!("--remote: {e}")))?;
    println!(
        "rwsim import: {origin} ({}): {} remote_write entr{}",
        imported.form,
        imported.drafts.len(),
        if imported.drafts.len() == 1 { "y" } else { "ies" }
    );
    if !imported.jobs.is_empty() {
        let statics: u32 = imported.jobs.iter().map(|j| j.static_targets).sum();
        let sd: Vec<&str> = imported.jobs.iter().filter(|j| !j.discovery.is_empty()).map(|j| j.name.as_str()).collect();
        println!(
            "  scrape_configs: {} job{}, {statics} static target{}{}",
            imported.jobs.len(),
            if imported.jobs.len() == 1 { "" } else { "s" },
            if statics == 1 { "" } else { "s" },
            if sd.is_empty() { String::new() } else { format!("; service discovery in {}", sd.join(", ")) }
        );
    }
    let written = write_drafts(&drafts, &a.out, a.force)?;
    let mut any_assumed = false;
    for (d, path) in drafts.iter().zip(&written) {
        println!("\n  wrote {} (Prometheus {})", path.display(), d.profile.value);
        any_assumed |= print_draft_notes(d);
    }
    println!();
    if any_assumed {
        println!(
            "The values marked ASSUMED are guesses: the forecast is only as good as they are. Replace them in the\n\
             file, or measure everything from the running server: rwsim calibrate --prometheus URL"
        );
    }
    println!("Next: add a [[receiver.fault]] (an example is in each file's header), then: rwsim run FILE");
    Ok(ExitCode::SUCCESS)
}

/// Parses a duration flag in Prometheus syntax.
pub fn parse_duration_flag(flag: &str, v: &str) -> Result<sim_core::time::SimDuration, CliError> {
    scenarios::import::parse_prometheus_duration(v).map_err(|e| CliError::Usage(format!("{flag}: {e}")))
}

/// The file a draft is written to: its name without the assumption marker.
pub fn file_name(d: &Draft) -> String {
    format!("{}.toml", d.name.trim_end_matches("-assumed-series"))
}

/// Writes each draft to `DIR/NAME.toml`; refuses to overwrite unless `force`. Every path is
/// checked before anything is written.
pub fn write_drafts(drafts: &[&Draft], out: &Path, force: bool) -> Result<Vec<PathBuf>, CliError> {
    let paths: Vec<PathBuf> = drafts.iter().map(|d| out.join(file_name(d))).collect();
    if !force && let Some(p) = paths.iter().find(|p| p.exists()) {
        return Err(CliError::Usage(format!("{} exists; pass --force to overwrite it", p.display())));
    }
    fs::create_dir_all(out).map_err(io_err(out))?;
    for (d, p) in drafts.iter().zip(&paths) {
        fs::write(p, d.render()).map_err(io_err(p))?;
    }
    Ok(paths)
}

/// Prints what is assumed and what is not modelled; returns whether anything is assumed.
pub fn print_draft_notes(d: &Draft) -> bool {
    let mut assumed = false;
    for (key, from, value) in [
        ("workload.series", &d.series.from, d.series.value.to_string()),
        ("workload.targets", &d.targets.from, d.targets.value.to_string()),
        ("prometheus", &d.profile.from, d.profile.value.to_string()),
        ("receiver.latency", &d.latency.from, d.latency.value.to_string()),
    ] {
        if let Provenance::Assumed(why) = from {
            assumed = true;
            println!("    ASSUMED {key} = {value}: {why}");
        }
    }
    for n in &d.notes {
        if n.matters {
            println!("    WARNING: {}", n.text);
        }
    }
    let quiet: Vec<&str> = d.notes.iter().filter(|n| !n.matters).map(|n| n.text.as_str()).collect();
    if !quiet.is_empty() {
        println!("    also noted in the file (no effect on the forecast, or informational): {}", quiet.len());
    }
    assumed
}
