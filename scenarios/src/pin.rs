//! `scenario.toml` of `rwsim run --out`: the scenario's text, comments kept, with what the
//! command line changed written in, so that the directory of a run reloads to that run.
//!
//! A `--set` value is written over the value the file gives the key (its byte range from the
//! [`SpanIndex`]), or added to the key's table (after its header, inside its inline table, or
//! in a table appended at the end), each such line marked with a comment. The result is
//! loaded again and compared with the configuration that ran; when it differs or the edit
//! cannot be made (a value over a whole `[table]`, a key of a table the file writes with
//! dotted keys), the file is the scenario as written with the flags listed in its header,
//! and [`Pinned::note`] says so.

use crate::spans::{self, SpanIndex};
use crate::sweep::{Override, Segment};
use crate::{Scenario, Source, convert, load_str, toml_string, units};
use std::collections::BTreeMap;

/// The text of a run's `scenario.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pinned {
    /// The file.
    pub text: String,
    /// Set when the `--set` values could not be written into the values of the file: the file
    /// then reproduces the run only with the same flags (its header lists them). One line,
    /// for stderr.
    pub note: Option<String>,
}

/// How edited and added lines are marked.
const MARK: &str = "--set on the command line";

/// The header line of a file that takes the `--set` values only as flags, and the prefix of
/// each flag's line ([`flags_needed`] reads them back).
const NEEDS_FLAGS: &str = "# It reproduces the run only with them:";
const FLAG_LINE: &str = "#   --set ";

/// The origin the text is reloaded under to check it (`name` is pinned, so it does not matter).
const CHECK_ORIGIN: &str = "scenario.toml";

/// See [`Scenario::pinned_source`].
pub(crate) fn pinned(sc: &Scenario) -> Pinned {
    let first = format!(
        "# The scenario of this run, copied from {} by rwsim {}, with name, seed and start\n",
        sc.origin,
        env!("CARGO_PKG_VERSION")
    );
    if sc.set.is_empty() {
        let intro = format!("{first}# pinned to the values that ran.\n");
        return Pinned { text: assemble(sc, &intro, "", &sc.source), note: None };
    }
    let flags: String = sc.set.iter().map(|o| format!("{FLAG_LINE}{}\n", flag(o))).collect();
    let reason = match edited(sc) {
        Ok((root, body)) => {
            let intro = format!(
                "{first}# pinned to the values that ran, and the values given with --set written in (each line\n\
                 # marked \"{MARK}\"):\n{flags}"
            );
            let text = assemble(sc, &intro, &root, &body);
            match load_str(&text, CHECK_ORIGIN) {
                Ok(again) if same_run(sc, &again) => return Pinned { text, note: None },
                Ok(_) => "the edited file does not reload to the configuration that ran".to_string(),
                Err(e) => format!("the edited file does not load: {e}"),
            }
        }
        Err(why) => why,
    };
    fallback(sc, &first, &flags, &reason.replace('\n', " "))
}

/// The scenario as written, with the flags in its header: it reproduces the run only with
/// them. Checked as well, so that a file that is not the run even then says it.
fn fallback(sc: &Scenario, first: &str, flags: &str, reason: &str) -> Pinned {
    let command: String = sc.set.iter().map(|o| format!(" --set {}", flag(o))).collect();
    let mut intro = format!(
        "{first}# pinned to the values that ran. NOT the whole run: it also had the --set values below,\n\
         # which could not be written into this file ({reason}).\n\
         {NEEDS_FLAGS} rwsim run scenario.toml{command}\n{flags}"
    );
    let text = assemble(sc, &intro, "", &sc.source);
    let reproduces = sc
        .set
        .iter()
        .map(|o| Override::from_flag(&flag(o)))
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .and_then(|set| Source::from_text(text.as_str(), CHECK_ORIGIN).load_with(&set).ok())
        .is_some_and(|again| same_run(sc, &again));
    let mut note = format!(
        "could not write the --set values into the file ({reason}); it reproduces the run only when run with the \
         same --set flags, which its header lists"
    );
    if !reproduces {
        intro += "# WARNING: even with these flags, it does not load to the configuration that ran (a bug in\n\
                  # rwsim: please report it).\n";
        note += "; even with them it does not load to the configuration that ran (a bug in rwsim: please report it)";
        return Pinned { text: assemble(sc, &intro, "", &sc.source), note: Some(note) };
    }
    Pinned { text, note: Some(note) }
}

/// The `--set` flags a pinned file's header says it needs to reproduce its run (when the
/// values could not be written in): `(line, KEY=VALUE)` each; empty for any other file.
pub(crate) fn flags_needed(text: &str) -> Vec<(usize, &str)> {
    let header = text.lines().enumerate().take_while(|(_, l)| l.starts_with('#'));
    if !text.lines().take_while(|l| l.starts_with('#')).any(|l| l.starts_with(NEEDS_FLAGS)) {
        return Vec::new();
    }
    header.filter_map(|(i, l)| l.strip_prefix(FLAG_LINE).map(|f| (i + 1, f))).collect()
}

/// `KEY=VALUE` as given to `--set`, in the syntax [`Override::from_flag`] reads back.
fn flag(o: &Override) -> String {
    format!("{}={}", o.key, o.value)
}

/// `intro`, then `name`, `seed` and `start` as they ran and the lines `root` (keys of the top
/// level), then `body` with its own top-level `name`, `seed` and `start` commented out.
fn assemble(sc: &Scenario, intro: &str, root: &str, body: &str) -> String {
    let start = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(sc.config.clock.start_unix_nanos);
    let mut out = format!(
        "{intro}name = {}\nseed = {}\nstart = \"{}\"\n{root}\n",
        toml_string(&sc.name),
        sc.config.seed,
        humantime::format_rfc3339_millis(start).to_string().replace(".000Z", "Z"),
    );
    let mut top_level = true;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            top_level = false;
        }
        let key = t.split(['=', ' ', '\t']).next().unwrap_or("");
        if top_level && matches!(key, "name" | "seed" | "start") && t.contains('=') {
            out += "# pinned above: ";
        }
        out += line;
        out.push('\n');
    }
    out
}

/// The source with every `--set` value written in: lines for the top level (after the
/// pinned keys) and the edited text. `Err` says why a value cannot be written in.
fn edited(sc: &Scenario) -> Result<(String, String), String> {
    let mut text = sc.source.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let doc = convert::parse(&text, &sc.origin).map_err(|e| e.to_string())?;
    let index = SpanIndex::build(&doc);
    // Byte offset in `text` → what goes there: replaced values (with the end of their range),
    // comments at the ends of their lines, and key lines after table headers.
    let mut replaced: BTreeMap<usize, (usize, String)> = BTreeMap::new();
    let mut comments: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut after_header: BTreeMap<usize, String> = BTreeMap::new();
    let mut in_inline: BTreeMap<usize, String> = BTreeMap::new();
    let mut root = String::new();
    // Tables the file does not write, appended at its end in the order first needed.
    let mut appended: Vec<(String, String)> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    for o in &sc.set {
        let (path, literal, how) = match o.key.end_key() {
            Some(end) => {
                // What `length` set `end` to is in the configuration that ran.
                let fault = o.key.segments().iter().find_map(|s| match s {
                    Segment::Index(i) => Some(*i),
                    Segment::Name(_) => None,
                });
                let end_value = fault
                    .and_then(|i| sc.config.receiver.faults.get(i))
                    .map(|f| f.end)
                    .ok_or_else(|| format!("{} names no fault window of the run", o.key))?;
                let how = format!("--set {} on the command line: end = start + length", flag(o));
                (end, format!("\"{}\"", units::format_duration(end_value)), how)
            }
            None => (o.key.as_str().to_string(), o.value.toml(), MARK.to_string()),
        };
        if targets.contains(&path) {
            return Err(format!("{path} is set twice"));
        }
        targets.push(path.clone());
        let name = path.rsplit(['.', ']']).next().unwrap_or(&path).to_string();
        match index.value_span(&path) {
            Some(span) => {
                let old = &text[span.clone()];
                if old.starts_with('[') || old.contains('\n') {
                    return Err(format!("{path} is a table in the file"));
                }
                let eol = line_end(&text, span.end);
                // A key inside an inline table is named: its line is that of the table.
                let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
                let own_line = text[line_start..]
                    .trim_start()
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.trim_start().starts_with('='));
                let named = if own_line { String::new() } else { format!("{name}: ") };
                comments.entry(eol).or_default().push(format!("{named}{how} (was: {old})"));
                replaced.insert(span.start, (span.end, literal));
            }
            None => {
                let line = format!("{name} = {literal}  # {how} (was: not set, its default)\n");
                let parent = spans::parent(&path).unwrap_or("");
                let parent_text = index.value_span(parent).map(|s| (s.clone(), &text[s]));
                match parent_text {
                    _ if parent.is_empty() => root += &line,
                    Some((span, header)) if header.starts_with('[') => {
                        let end = span.end;
                        let next_line = end + text[end..].find('\n').map_or(text.len() - end, |i| i + 1);
                        after_header.entry(next_line).or_default().push_str(&line);
                    }
                    Some((span, inline)) if inline.starts_with('{') => {
                        // `{ a = 1 }` → `{ a = 1, name = literal }`, on its one line.
                        let inner = inline[1..inline.len() - 1].trim_end();
                        if inner.trim_start().is_empty() || inline.contains('\n') || inner.ends_with(',') {
                            return Err(format!("{path} would go inside the inline table `{parent} = {inline}`"));
                        }
                        let at = span.start + 1 + inner.len();
                        in_inline.entry(at).or_default().push_str(&format!(", {name} = {literal}"));
                        let eol = line_end(&text, span.end);
                        comments.entry(eol).or_default().push(format!("{name}: {how} (was: not set, its default)"));
                    }
                    _ if parent.contains('[') => {
                        return Err(format!("{path}: its table {parent} is not in the file"));
                    }
                    _ => match appended.iter_mut().find(|(t, _)| t == parent) {
                        Some((_, lines)) => *lines += &line,
                        None => appended.push((parent.to_string(), line)),
                    },
                }
            }
        }
    }
    // From the end, so that every offset still points into the text as written.
    let mut offsets: Vec<usize> =
        replaced.keys().chain(comments.keys()).chain(after_header.keys()).chain(in_inline.keys()).copied().collect();
    offsets.sort_unstable();
    offsets.dedup();
    for &at in offsets.iter().rev() {
        if let Some(lines) = after_header.get(&at) {
            text.insert_str(at, lines);
        }
        if let Some(notes) = comments.get(&at) {
            text.insert_str(at, &format!("  # {}", notes.join("; ")));
        }
        if let Some(pairs) = in_inline.get(&at) {
            text.insert_str(at, pairs);
        }
        if let Some((end, literal)) = replaced.get(&at) {
            text.replace_range(at..*end, literal);
        }
    }
    for (table, lines) in appended {
        text += &format!("\n[{table}]\n{lines}");
    }
    Ok((root, text))
}

/// Where a comment goes on the line of byte `at`: its end, before a CRLF's CR (a lone CR
/// inside a line is not TOML).
fn line_end(text: &str, at: usize) -> usize {
    let eol = at + text[at..].find('\n').unwrap_or(text.len() - at);
    if text[..eol].ends_with('\r') { eol - 1 } else { eol }
}

/// Whether `again` (the pinned file, loaded) is the run of `sc`: the same configuration, the
/// same text fields, and the same keys set (the robust answer leaves those alone).
fn same_run(sc: &Scenario, again: &Scenario) -> bool {
    format!("{:?}", sc.config) == format!("{:?}", again.config)
        && sc.name == again.name
        && sc.description == again.description
        && sc.remote_name == again.remote_name
        && sc.url == again.url
        && keys_of_values(&sc.keys_set) == keys_of_values(&again.keys_set)
}

/// The keys that hold values, without `name`, `seed` and `start` (always in the pinned file)
/// and without tables (a table added to hold a key is not itself a value).
fn keys_of_values(keys: &[String]) -> Vec<&str> {
    let is_table = |k: &str| {
        keys.iter().any(|o| o.len() > k.len() && o.starts_with(k) && matches!(o.as_bytes()[k.len()], b'.' | b'['))
    };
    keys.iter().map(String::as_str).filter(|k| !matches!(*k, "name" | "seed" | "start") && !is_table(k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"# Capacity plan for the EU cluster.
duration = "2h"

[workload]
series = 10_000  # from the TSDB head
scrape_interval = "15s"

[remote_write.queue_config]
# sized for the 1.5M series of 2025
capacity = 2500

[receiver]
latency = { distribution = "lognormal", median = "30ms", p99 = "250ms" }

[[receiver.fault]]
start = "30m"
end = "45m"  # the rollout window
status = 500
"#;

    /// Runs `text` with `flags` as `rwsim run --set` does; returns the run and its file.
    fn pin(text: &str, flags: &[&str]) -> (Scenario, Pinned) {
        let set: Vec<Override> = flags.iter().map(|f| Override::from_flag(f).unwrap()).collect();
        let run = Source::from_text(text, "plans/eu.toml").load_with(&set).unwrap();
        let pinned = run.pinned_source();
        (run, pinned)
    }

    /// Loads the file on its own and checks it is the run, and that every comment of the
    /// scenario is still in it.
    fn assert_reloads_to_the_run(run: &Scenario, p: &Pinned, original: &str) -> Scenario {
        assert_eq!(p.note, None, "written in, no note:\n{}", p.text);
        let again = load_str(&p.text, "elsewhere/scenario.toml").unwrap();
        assert_eq!(format!("{:?}", again.config), format!("{:?}", run.config), "\n{}", p.text);
        for comment in original.lines().filter_map(|l| l.find('#').map(|i| &l[i..])) {
            assert!(p.text.contains(comment), "comment {comment:?} lost:\n{}", p.text);
        }
        again
    }

    #[test]
    fn a_key_the_file_sets_gets_the_new_value_and_says_what_it_was() {
        let (run, p) = pin(PLAN, &["remote_write.queue_config.capacity=5000", "workload.series=20000"]);
        let again = assert_reloads_to_the_run(&run, &p, PLAN);
        assert_eq!(again.config.remote_write.queue.capacity, 5000);
        assert_eq!(again.config.workload.series, 20_000);
        assert!(p.text.contains("\ncapacity = 5000  # --set on the command line (was: 2500)\n"), "{}", p.text);
        assert!(p.text.contains("\nseries = 20000  # from the TSDB head  # --set on the command line (was: 10_000)\n"));
        assert!(p.text.contains(
            "\n#   --set remote_write.queue_config.capacity=5000\n#   --set workload.series=20000\nname = \"eu\"\n"
        ));
        // Values of an inline table: each comment names its key.
        let (run, p) = pin(PLAN, &["receiver.latency.p99=1s"]);
        assert_reloads_to_the_run(&run, &p, PLAN);
        assert!(p.text.contains(
            "latency = { distribution = \"lognormal\", median = \"30ms\", p99 = \"1s\" }  \
             # p99: --set on the command line (was: \"250ms\")\n"
        ));
        let (run, p) = pin(PLAN, &["receiver.latency.median=50ms", "receiver.latency.p99=1s"]);
        assert_reloads_to_the_run(&run, &p, PLAN);
        assert!(p.text.contains(
            "latency = { distribution = \"lognormal\", median = \"50ms\", p99 = \"1s\" }  \
             # median: --set on the command line (was: \"30ms\"); p99: --set on the command line (was: \"250ms\")\n"
        ));
    }

    #[test]
    fn a_key_the_file_leaves_out_goes_after_its_table_header() {
        let (run, p) = pin(PLAN, &["remote_write.queue_config.max_shards=10", "receiver.max_concurrency=4"]);
        let again = assert_reloads_to_the_run(&run, &p, PLAN);
        assert_eq!(again.config.remote_write.queue.max_shards, 10);
        assert!(p.text.contains(
            "[remote_write.queue_config]\nmax_shards = 10  # --set on the command line (was: not set, its default)\n\
             # sized for"
        ));
        assert!(p.text.contains("[receiver]\nmax_concurrency = 4  # --set"));
        assert!(again.is_set("remote_write.queue_config.max_shards"));
        assert!(flags_needed(&p.text).is_empty(), "the values are in the file: not to be applied twice");
        // Into an inline table, on its line.
        let inline = PLAN.replace(
            "[remote_write.queue_config]\n# sized for the 1.5M series of 2025\ncapacity = 2500\n",
            "[remote_write]\nqueue_config = { capacity = 2500 }  # ours\n",
        );
        let (run, p) =
            pin(&inline, &["remote_write.queue_config.max_shards=10", "remote_write.queue_config.min_shards=2"]);
        assert_reloads_to_the_run(&run, &p, &inline);
        assert!(
            p.text.contains(
                "\nqueue_config = { capacity = 2500, max_shards = 10, min_shards = 2 }  # ours  \
             # max_shards: --set on the command line (was: not set, its default); \
             min_shards: --set on the command line (was: not set, its default)\n"
            ),
            "{}",
            p.text
        );
    }

    #[test]
    fn a_table_the_file_does_not_write_is_added_at_its_end() {
        let (run, p) =
            pin(PLAN, &["sender.request_overhead=5ms", "tsdb.wal_bytes_per_sample=9.5", "sender.cpu_cores=2"]);
        let again = assert_reloads_to_the_run(&run, &p, PLAN);
        assert_eq!(again.config.tsdb.wal_bytes_per_sample, 9.5);
        assert!(
            p.text.ends_with(
                "status = 500\n\n[sender]\nrequest_overhead = \"5ms\"  # --set on the command line (was: not set, its default)\n\
                 cpu_cores = 2.0  # --set on the command line (was: not set, its default)\n\n\
                 [tsdb]\nwal_bytes_per_sample = 9.5  # --set on the command line (was: not set, its default)\n"
            ),
            "{}",
            p.text
        );
        // The robust answer leaves a constant the run set alone; so must a rerun of the file.
        assert!(again.is_set("tsdb.wal_bytes_per_sample"));
    }

    #[test]
    fn a_fault_length_is_written_as_the_end_it_set() {
        let (run, p) = pin(PLAN, &["receiver.fault[0].length=30m"]);
        let again = assert_reloads_to_the_run(&run, &p, PLAN);
        assert_eq!(again.config.receiver.faults[0].end.to_string(), "1h");
        assert!(p.text.contains(
            "\nend = \"1h\"  # the rollout window  \
             # --set receiver.fault[0].length=30m on the command line: end = start + length (was: \"45m\")\n"
        ));
    }

    #[test]
    fn a_value_that_cannot_be_written_in_is_listed_in_the_header_instead() {
        const QUEUE: &str = "[remote_write.queue_config]\n# sized for the 1.5M series of 2025\ncapacity = 2500\n";
        const LATENCY: &str =
            "[receiver]\nlatency = { distribution = \"lognormal\", median = \"30ms\", p99 = \"250ms\" }\n";
        // A value over a whole table (refused before editing), and a key of a table written
        // with dotted keys (the edit does not load, which the check catches).
        let cases = [
            (
                LATENCY,
                "[receiver.latency]  # measured\ndistribution = \"lognormal\"\nmedian = \"30ms\"\np99 = \"250ms\"\n",
                "receiver.latency=5s",
                "receiver.latency is a table in the file",
            ),
            (
                QUEUE,
                "[remote_write]\nqueue_config.capacity = 2500  # ours\n",
                "remote_write.queue_config.max_shards=10",
                "the edited file does not load",
            ),
        ];
        for (from, to, set, why) in cases {
            let text = PLAN.replace(from, to);
            let flags = [set, "workload.series=20000"];
            let (run, p) = pin(&text, &flags);
            let note = p.note.as_deref().expect("a note for stderr");
            assert!(note.contains(why), "{note}");
            assert!(
                note.ends_with("it reproduces the run only when run with the same --set flags, which its header lists")
            );
            assert!(
                p.text.contains(&format!(
                    "\n# It reproduces the run only with them: rwsim run scenario.toml --set {set} \
                     --set workload.series=20000\n#   --set {set}\n#   --set workload.series=20000\nname = \"eu\"\n"
                )),
                "{}",
                p.text
            );
            assert!(p.text.ends_with(&text), "the scenario as written, comments and all:\n{}", p.text);
            let alone = load_str(&p.text, "scenario.toml").unwrap();
            assert_eq!(alone.config.workload.series, 10_000, "on its own, the file is not the run");
            let with = Source::from_text(p.text.as_str(), "scenario.toml").load_with(&sc_flags(&flags)).unwrap();
            assert_eq!(format!("{:?}", with.config), format!("{:?}", run.config));
            // `rwsim report DIR` reads them back from the header.
            let needed: Vec<&str> = flags_needed(&p.text).into_iter().map(|(_, f)| f).collect();
            assert_eq!(needed, flags);
            let path = std::env::temp_dir().join(format!("rwsim-pin-{}.toml", std::process::id()));
            std::fs::write(&path, &p.text).unwrap();
            let record = crate::load_pinned(&path);
            std::fs::remove_file(&path).unwrap();
            assert_eq!(format!("{:?}", record.unwrap().config), format!("{:?}", run.config));
        }
    }

    fn sc_flags(flags: &[&str]) -> Vec<Override> {
        flags.iter().map(|f| Override::from_flag(f).unwrap()).collect()
    }

    #[test]
    fn windows_line_endings_take_the_comment_before_the_cr() {
        let crlf = PLAN.replace('\n', "\r\n");
        let (run, p) = pin(&crlf, &["remote_write.queue_config.capacity=5000"]);
        assert_eq!(p.note, None, "{}", p.text);
        let again = load_str(&p.text, "scenario.toml").unwrap();
        assert_eq!(format!("{:?}", again.config), format!("{:?}", run.config));
        assert!(p.text.contains("\ncapacity = 5000  # --set on the command line (was: 2500)\n"), "{:?}", p.text);
    }

    #[test]
    fn without_set_the_file_is_the_source_with_its_run_pinned() {
        let (_, p) = pin(PLAN, &[]);
        assert_eq!(p.note, None);
        assert!(p.text.starts_with("# The scenario of this run, copied from plans/eu.toml by rwsim "));
        assert!(
            p.text.contains(" with name, seed and start\n# pinned to the values that ran.\nname = \"eu\"\nseed = 1\n")
        );
        assert!(p.text.ends_with(&format!("Z\"\n\n{PLAN}")));
    }
}
