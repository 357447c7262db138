//! Fuzzing the whole path, loader and simulator: bundled scenarios with keys dropped, values
//! replaced by extremes or by the wrong type, and numbers scaled. Nothing may panic; a
//! refused file gets an error with a location; an accepted one runs and conserves samples.
//!
//! Cases: `RWSIM_FUZZ_CASES` (default 48, what `cargo test` runs). CI runs more (`.ci/run`).
//! The cases come from a fixed seed, so a test run is reproducible and a red CI is a bug,
//! not luck; explore new cases with `PROPTEST_RNG_SEED=<any u64>`. Each run is held to a small event budget so a case stays cheap: a
//! scenario whose estimate exceeds it is refused up front by the same check as a user's.

use proptest::prelude::*;
use scenarios::{library, load_str};
use sim_core::SimError;

/// Events one fuzzed run may take: enough for the short bundled scenarios to finish.
const FUZZ_MAX_EVENTS: u64 = 400_000;

fn cases() -> u32 {
    std::env::var("RWSIM_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
}

/// The fixed seed, unless `PROPTEST_RNG_SEED` asks for another.
fn rng_seed() -> proptest::test_runner::RngSeed {
    match std::env::var("PROPTEST_RNG_SEED") {
        Ok(_) => ProptestConfig::default().rng_seed,
        Err(_) => proptest::test_runner::RngSeed::Fixed(0x7277_7369_6d00_0001),
    }
}

/// What to do to one `key = value` line.
#[derive(Clone, Debug)]
enum Edit {
    /// Remove the line.
    Drop,
    /// Replace the value with this literal.
    Replace(&'static str),
    /// Multiply the number in the value (`15s` → `15000s`, `0.5` → `0.0005`).
    Scale(f64),
}

const EXTREMES: &[&str] = &[
    "0",
    "1",
    "-1",
    "18446744073709551615",
    "9223372036854775807",
    "1e308",
    "nan",
    "0.0",
    "\"0s\"",
    "\"1ms\"",
    "\"1ns\"",
    "\"366d\"",
    "\"100000d\"",
    "\"0B\"",
    "\"256MiB\"",
    "true",
    "\"\"",
    "\"abc\"",
    "[]",
    "{}",
    "{ distribution = \"lognormal\", median = \"1ms\", p99 = \"1h\" }",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => Just(Edit::Drop),
        2 => prop::sample::select(EXTREMES).prop_map(Edit::Replace),
        6 => prop::sample::select(vec![0.0, 1e-6, 0.001, 0.5, 2.0, 10.0, 1000.0, 1e6, 1e9]).prop_map(Edit::Scale),
    ]
}

/// The lines of `text` that assign a value: `key = value`, outside comments.
fn assignments(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            !t.starts_with('#') && !t.starts_with('[') && t.contains(" = ")
        })
        .map(|(i, _)| i)
        .collect()
}

/// `value` with its leading number multiplied by `f`, or `None` if it has none.
fn scaled(value: &str, f: f64) -> Option<String> {
    let (quote, body) = match value.strip_prefix('"') {
        Some(b) => ("\"", b),
        None => ("", value),
    };
    let end = body.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(body.len());
    let n: f64 = body[..end].replace('_', "").parse().ok()?;
    let x = n * f;
    // Integers stay integers (durations and sizes need them); a float stays a float.
    let num = if body[..end].contains('.') {
        format!("{x:?}")
    } else if x.is_finite() && x < 1.8e19 {
        format!("{}", x.round() as u64)
    } else {
        "18446744073709551615".to_string()
    };
    Some(format!("{quote}{num}{}", &body[end..]))
}

fn apply(text: &str, edits: &[(usize, Edit)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (at, e) in edits {
        let targets = assignments(&lines.join("\n"));
        if targets.is_empty() {
            break;
        }
        let i = targets[at % targets.len()];
        let (key, value) = lines[i].split_once(" = ").map(|(k, v)| (k.to_string(), v.to_string())).expect("assignment");
        // A trailing comment stays out of the value.
        let value = value.split(" #").next().unwrap_or("").trim().to_string();
        match e {
            Edit::Drop => {
                lines.remove(i);
            }
            Edit::Replace(v) => lines[i] = format!("{key} = {v}"),
            Edit::Scale(f) => {
                if let Some(v) = scaled(&value, *f) {
                    lines[i] = format!("{key} = {v}");
                }
            }
        }
    }
    lines.join("\n") + "\n"
}

fn mutated() -> impl Strategy<Value = (usize, String)> {
    (any::<prop::sample::Index>(), prop::collection::vec((any::<usize>(), edit()), 1..3)).prop_map(|(which, edits)| {
        let lib = library();
        let i = which.index(lib.len());
        (i, apply(lib[i].source, &edits))
    })
}

fn check_run(text: &str) -> Result<(), TestCaseError> {
    let sc = match load_str(text, "fuzz.toml") {
        Ok(sc) => sc,
        Err(e) => {
            // Refused: where, and why.
            prop_assert!(e.line >= 1 && e.column >= 1, "no location: {e}");
            prop_assert!(e.line <= text.split('\n').count(), "location outside the file: {e}");
            prop_assert!(!e.message.is_empty(), "no message: {e:?}");
            return Ok(());
        }
    };
    let mut cfg = sc.config;
    cfg.limits.max_events = cfg.limits.max_events.min(FUZZ_MAX_EVENTS);
    match sim_core::simulate(&cfg, &mut ()) {
        Ok(r) => {
            let s = &r.samples;
            let d = &s.dropped;
            prop_assert!(r.conservation_ok, "conservation violated: {:?}", r.timeline.last());
            prop_assert_eq!(
                s.appended,
                s.delivered + s.failed + d.total() + s.pending_at_end,
                "appended != delivered + failed + dropped + pending"
            );
        }
        // Beyond the fuzz budget: refused up front by the estimate, or stopped at the cap.
        Err(SimError::Config(e)) => prop_assert!(e.message.contains("max_events"), "{e}"),
        Err(SimError::EventBudget { .. }) => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), rng_seed: rng_seed(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_bundled_scenarios_run_or_are_refused_with_a_location((which, text) in mutated()) {
        let _ = which;
        check_run(&text)?;
    }
}

/// Found by this fuzzer: a rollout whose `interval` × `ingesters` passes u64 nanoseconds
/// (100000 days × 8) overflowed when the receiver computed the rollout's end. It is valid
/// input (the rollout outlasts the run) and must run like any other.
#[test]
fn a_rollout_longer_than_time_itself_runs_and_conserves() {
    let lib = library();
    let rollout = lib.iter().find(|s| s.name == "ring-unready-rollout").expect("bundled ring-unready-rollout");
    let text = rollout.source.replace("interval = \"2m\"", "interval = \"100000d\"");
    assert_ne!(text, rollout.source, "the bundled rollout no longer has interval = \"2m\"");
    let sc = load_str(&text, "rollout.toml").expect("a long interval is valid");
    let r = sim_core::simulate(&sc.config, &mut ()).expect("runs");
    assert!(r.conservation_ok);
    // One ingester unready at a time never breaks a 2-of-3 quorum: nothing is retried.
    assert_eq!(r.samples.retried, 0);
}

#[test]
fn the_mutations_change_the_files_as_described() {
    let lib = library();
    let default = lib.iter().find(|s| s.name == "default").expect("bundled default");
    let lines = assignments(default.source);
    let line = |text: &str, n: usize| text.lines().nth(n).unwrap_or_default().to_string();
    // `series = 100_000` is an assignment; scaling it by 2 doubles it, dropping it removes it.
    let series = lines.iter().position(|&i| line(default.source, i).starts_with("series")).expect("series");
    assert!(apply(default.source, &[(series, Edit::Scale(2.0))]).contains("\nseries = 200000\n"));
    assert!(!apply(default.source, &[(series, Edit::Drop)]).contains("\nseries ="));
    // A wrong type is refused, with a location.
    let e = load_str(&apply(default.source, &[(series, Edit::Replace("{}"))]), "x.toml").unwrap_err();
    assert_eq!(e.key, "workload.series", "{e}");
    assert!(e.line > 1, "{e}");
    assert_eq!(scaled("\"15s\"", 1000.0).as_deref(), Some("\"15000s\""));
    assert_eq!(scaled("100_000", 0.5).as_deref(), Some("50000"));
    assert_eq!(scaled("0.5", 2.0).as_deref(), Some("1.0"));
    assert_eq!(scaled("\"abc\"", 2.0), None);
}
