//! Every `§` reference in the repository leads to a section of `docs/model.md`.
//!
//! Doc comments, tests, scenario files, tools and documents cite the model document by
//! section number ("§9.3"). A section renumbered or removed would leave the reader of such a
//! comment at a dead end, so this test collects every `§<number>` in the repository and checks
//! that `docs/model.md` has a heading with that number, that a few well-known numbers still
//! head the topic the code means by them, and that nothing points at a copy of the document
//! outside the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What is scanned, relative to the workspace root: the sources, docs, scenarios and tools.
const ROOTS: &[&str] = &[
    "README.md",
    "Cargo.toml",
    "src",
    "sim-core",
    "scenarios",
    "reports",
    "live",
    "tools",
    "docs",
    "examples",
    "tests",
    "scripts",
    ".ci",
];

/// File kinds that can hold a reference (files without an extension, like `.ci/run`, too).
const EXTENSIONS: &[&str] = &["rs", "md", "toml", "py", "sh", "yml", "yaml", "txt"];

/// Build outputs and VCS data are not the repository's text.
const SKIP_DIRS: &[&str] = &["target", ".git"];

/// Sections whose number the code relies on, with a word their heading must contain: the
/// number must still lead to the topic, not just to some heading.
const ANCHORS: &[(&str, &str)] = &[
    ("4.1", "lifecycle"),
    ("4.3", "deleted"),
    ("5", "enqueue"),
    ("6", "capacity"),
    ("8.2", "retried"),
    ("9.2", "desired"),
    ("9.3", "gate"),
    ("10", "hard shutdown"),
    ("11.2", "truncation"),
    ("11.3", "loss"),
    ("13", "2.42"),
    ("14.1", "TestCalculateDesiredShardsDetail"),
    ("14.6", "TestOneCheckpointPerCompactCall"),
    ("15", "claims"),
    ("19", "agent"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Numbered headings of a Markdown document (`## 9. Title`, `### 9.3 Title`), outside code
/// fences: number → heading text.
fn numbered_headings(markdown: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let first = title.split_whitespace().next().unwrap_or("");
        let number = first.trim_end_matches('.');
        let is_number = !number.is_empty()
            && number.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if is_number {
            out.insert(number.to_string(), title.to_string());
        }
    }
    out
}

/// The section numbers cited in `text`, with their line numbers: `§` directly followed by
/// digits, with dotted parts (`§11.3`); a sentence's final dot is not part of the number.
fn section_refs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices('§') {
            let rest = &line[at + '§'.len_utf8()..];
            let bytes = rest.as_bytes();
            let digits = |from: usize| bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
            let mut end = digits(0);
            if end == 0 {
                continue;
            }
            while end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit() {
                end += 1 + digits(end + 1);
            }
            out.push((i + 1, rest[..end].to_string()));
        }
    }
    out
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if SKIP_DIRS.contains(&name) {
            return;
        }
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path).expect("readable directory").map(|e| e.expect("directory entry").path()).collect();
        entries.sort();
        for p in entries {
            collect_files(&p, out);
        }
    } else if path.is_file() {
        let ext = path.extension().and_then(|e| e.to_str());
        if ext.is_none_or(|e| EXTENSIONS.contains(&e)) {
            out.push(path.to_path_buf());
        }
    }
}

/// Every scanned text file, with its path relative to the root.
fn repository_texts() -> Vec<(String, String)> {
    let root = root();
    let mut files = Vec::new();
    for r in ROOTS {
        collect_files(&root.join(r), &mut files);
    }
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let rel = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            Some((rel, text))
        })
        .collect()
}

#[test]
fn parsers_read_headings_and_references_as_written() {
    let doc = "# Title\n## 1. One\n### 1.2 Sub\n```\n## 7. in a fence\n```\n## What is modelled\n";
    let h = numbered_headings(doc);
    assert_eq!(h.keys().collect::<Vec<_>>(), ["1", "1.2"]);
    let refs = section_refs("see §9.3, §11. and §4.1; not § Sweeps or §x\nnext §14.6.");
    let got: Vec<_> = refs.iter().map(|(l, n)| (*l, n.as_str())).collect();
    assert_eq!(got, [(1, "9.3"), (1, "11"), (1, "4.1"), (2, "14.6")]);
}

#[test]
fn every_section_reference_resolves_in_docs_model_md() {
    let model = std::fs::read_to_string(root().join("docs/model.md")).expect("docs/model.md exists");
    let headings = numbered_headings(&model);
    for n in 1..=17 {
        assert!(headings.contains_key(&n.to_string()), "docs/model.md has no section {n}");
    }
    for (number, word) in ANCHORS {
        let title = headings.get(*number).unwrap_or_else(|| panic!("docs/model.md has no section {number}"));
        assert!(
            title.to_lowercase().contains(&word.to_lowercase()),
            "docs/model.md §{number} is \"{title}\", but the code cites §{number} for its \"{word}\""
        );
    }

    // Spelled in pieces so that this file does not match itself.
    let outside = [["prometheus", "remote", "write", "model"].join("-"), ["shared", "docs"].join("/")];
    let mut broken = Vec::new();
    let mut citing_rust_files = 0;
    let mut total = 0;
    for (path, text) in repository_texts() {
        let refs = section_refs(&text);
        total += refs.len();
        if path.ends_with(".rs") && !refs.is_empty() {
            citing_rust_files += 1;
        }
        for (line, number) in refs {
            if !headings.contains_key(&number) {
                broken.push(format!("{path}:{line}: §{number} is not a section of docs/model.md"));
            }
        }
        for (i, l) in text.lines().enumerate() {
            if outside.iter().any(|o| l.contains(o.as_str())) {
                broken.push(format!("{}:{}: points outside the repository: {}", path, i + 1, l.trim()));
            }
        }
    }
    // The scan must reach the code, or this test would pass on nothing.
    assert!(citing_rust_files >= 10, "only {citing_rust_files} Rust files cite docs/model.md: is the scan broken?");
    assert!(total >= 100, "only {total} § references found: is the scan broken?");
    assert!(broken.is_empty(), "{} broken reference(s):\n{}", broken.len(), broken.join("\n"));
}
