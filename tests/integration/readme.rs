//! The README's promises to a newcomer: its first screen (two commands, then how to get
//! `rwsim` on PATH) and that every `rwsim` command line it shows is one the CLI accepts.

use crate::rwsim;
use std::path::PathBuf;

fn readme() -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn first_screen_is_two_commands_then_how_to_get_rwsim_on_path() {
    let text = readme();
    let first = text.split("\n---\n").next().unwrap();
    let block = first.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("a first sh block");
    assert_eq!(
        block.lines().collect::<Vec<_>>(),
        ["cargo run --release -- run scenarios/library/outage-wal-loss.toml", "cargo test --workspace"]
    );
    let after = first.split("```").nth(2).unwrap();
    for needed in ["cargo install --locked --path .", "target/release/rwsim", "2 cores", "minutes"] {
        assert!(after.contains(needed), "the first screen does not say {needed:?}");
    }
}

/// A README command line as arguments: `$ ` and a trailing `# comment` removed, double
/// quotes grouping words.
fn words(line: &str) -> Vec<String> {
    let line = line.split(" #").next().unwrap().trim();
    let (mut out, mut word, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Every `rwsim ...` line of the README's code blocks names a subcommand and flags that
/// exist: run with `--help` appended, clap refuses an unknown subcommand or flag before it
/// prints the help (the values themselves are checked by the tests of each command).
#[test]
fn every_rwsim_command_in_the_readme_parses() {
    let text = readme();
    // In a ```sh block every line is a command; in a plain one (a command and its output)
    // only the line after the `$ ` prompt.
    let (mut block, mut checked) = (None::<bool>, 0);
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            block = if block.is_some() { None } else { Some(lang == "sh") };
            continue;
        }
        let line = match block {
            Some(true) => trimmed,
            Some(false) => match trimmed.strip_prefix("$ ") {
                Some(l) => l,
                None => continue,
            },
            None => continue,
        };
        if !line.starts_with("rwsim ") {
            continue;
        }
        for command in line.split(" && ") {
            let args = words(command);
            assert_eq!(args[0], "rwsim", "{command}");
            let out = rwsim().args(&args[1..]).arg("--help").output().unwrap();
            assert!(out.status.success(), "README: `{command}`: {}", String::from_utf8_lossy(&out.stderr));
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} rwsim commands found in the README's code blocks");
}

/// The README's table of bundled scenarios names every file of `scenarios/library/` (the one
/// a newcomer reads to pick a scenario; `rwsim scenarios` lists the same files).
#[test]
fn every_bundled_scenario_is_in_the_readme_table() {
    let text = readme();
    let table = text.split("**Bundled scenarios**").nth(1).expect("the table").split("\n\n").nth(1).unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/library");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".toml")
            && !table.contains(&format!("`{stem}`"))
        {
            missing.push(stem.to_string());
        }
    }
    missing.sort();
    assert!(missing.is_empty(), "not in the README's table of bundled scenarios: {missing:?}");
}
