//! No input makes the loader panic: arbitrary text, mutated library files, and well-formed
//! files with arbitrary values.

use proptest::prelude::*;
use scenarios::{ErrorKind, library, load_str};

/// Checks the error is well formed: a position inside the text, and a message.
fn check(text: &str) {
    if let Err(e) = load_str(text, "fuzz.toml") {
        assert_ne!(e.kind, ErrorKind::Io);
        assert!(e.line >= 1 && e.column >= 1, "{e}");
        assert!(e.line <= text.split('\n').count(), "{e}");
        assert!(!e.message.is_empty());
    }
}

/// The type of a key's value, to generate mostly well-typed files.
#[derive(Copy, Clone, Debug)]
enum Kind {
    Dur,
    Int,
    Num,
    Bool,
    Str,
    Size,
    Latency,
    Status,
    Version,
    Time,
    Mode,
}

/// A literal of `kind` near the interesting bounds, or sometimes anything at all.
fn value(kind: Kind) -> BoxedStrategy<String> {
    let typed = match kind {
        Kind::Dur => prop_oneof![
            8 => (1u64..=120, prop::sample::select(vec!["ms", "s", "m", "h"])).prop_map(|(n, u)| format!("\"{n}{u}\"")),
            1 => (prop::sample::select(vec![0u64, 1000, 213_503, 213_504, 99_999_999_999]),
                prop::sample::select(vec!["ms", "s", "m", "h", "d"]))
                .prop_map(|(n, u)| format!("\"{n}{u}\"")),
        ]
        .boxed(),
        Kind::Int => prop_oneof![
            2 => prop::sample::select(vec![0i64, 1, 2, 5, 50, 200, 2500, 10_000, 1_000_000_000, 1_000_000_001, 4_294_967_295]),
            6 => 1i64..200_000,
            1 => any::<i64>(),
        ]
        .prop_map(|v| v.to_string())
        .boxed(),
        Kind::Num => prop_oneof![
            1 => prop::sample::select(vec!["nan", "inf", "-inf", "0", "0.0", "0.05", "1", "1.0", "1.5", "-0.5", "3.5", "1e308"])
                .prop_map(str::to_string),
            3 => (0.0f64..1.0).prop_map(|v| format!("{v:?}")),
            1 => (0.0f64..100_000.0).prop_map(|v| format!("{v:?}")),
        ]
        .boxed(),
        Kind::Bool => prop::sample::select(vec!["true", "false"]).prop_map(str::to_string).boxed(),
        Kind::Str => prop::sample::select(vec!["\"x\"", "\"\"", "\" \""]).prop_map(str::to_string).boxed(),
        Kind::Size => prop_oneof![
            (0u64..300, prop::sample::select(vec!["MiB", "KiB", "MB", "GiB", "B", ""])).prop_map(|(n, u)| format!("\"{n}{u}\"")),
            any::<i64>().prop_map(|v| v.to_string()),
        ]
        .boxed(),
        Kind::Latency => prop_oneof![
            value(Kind::Dur),
            (prop::sample::select(vec!["fixed", "lognormal", "exponential", "uniform", "gamma"]),
                prop::sample::subsequence(vec!["value", "median", "p99", "mean", "min", "max"], 0..3),
                value(Kind::Dur), value(Kind::Dur))
                .prop_map(|(dist, keys, a, b)| {
                    let params: Vec<String> =
                        keys.iter().enumerate().map(|(i, k)| format!("{k} = {}", if i == 0 { &a } else { &b })).collect();
                    let mut parts = vec![format!("distribution = \"{dist}\"")];
                    parts.extend(params);
                    format!("{{ {} }}", parts.join(", "))
                }),
        ]
        .boxed(),
        Kind::Status => prop_oneof![
            6 => (150i64..650).prop_map(|v| v.to_string()),
            1 => (0i64..1000).prop_map(|v| v.to_string()),
            1 => prop::sample::select(vec!["\"timeout\"", "\"refused\"", "\"503\"", "70000"]).prop_map(str::to_string),
        ]
        .boxed(),
        Kind::Version => prop::sample::select(vec!["\"2.42\"", "\"3.x\"", "\"3.x\"", "\"2.42\"", "\"2.9\""]).prop_map(str::to_string).boxed(),
        Kind::Mode => prop::sample::select(vec!["\"server\"", "\"agent\"", "\"alloy\"", "\"agent\"", "\"alloy\"", "\"Agent\"", "\"x\""])
            .prop_map(str::to_string)
            .boxed(),
        Kind::Time => prop::sample::select(vec![
            "\"2024-01-01T00:00:00Z\"", "2024-01-01T00:00:00Z", "\"9999-12-31T23:59:59Z\"", "\"1970-01-01T00:00:00Z\"",
            "2024-01-01", "\"2199-12-31T23:59:59.999999999Z\"", "\"2024-06-01T12:00:00Z\"", "\"2030-01-01T00:00:00Z\"",
        ])
        .prop_map(str::to_string)
        .boxed(),
    };
    let anything = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        "[0-9]{0,12}(ms|s|m|h|d|MiB|x|)".prop_map(|s| format!("\"{s}\"")),
        "[ -~]{0,12}".prop_map(|s| format!("'{}'", s.replace('\'', ""))),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ];
    prop_oneof![40 => typed, 1 => anything].boxed()
}

use Kind::*;
const KEYS: [(&str, &[(&str, Kind)]); 11] = [
    (
        "",
        &[
            ("name", Str),
            ("description", Str),
            ("prometheus", Version),
            ("seed", Int),
            ("duration", Dur),
            ("start", Time),
        ],
    ),
    (
        "workload",
        &[
            ("series", Int),
            ("scrape_interval", Dur),
            ("targets", Int),
            ("scrape_duration", Dur),
            ("report_series", Bool),
            ("wire_bytes_per_sample", Num),
        ],
    ),
    ("remote_write", &[("url", Str), ("name", Str), ("remote_timeout", Dur)]),
    (
        "remote_write.queue_config",
        &[
            ("capacity", Int),
            ("max_shards", Int),
            ("min_shards", Int),
            ("max_samples_per_send", Int),
            ("batch_send_deadline", Dur),
            ("min_backoff", Dur),
            ("max_backoff", Dur),
            ("retry_on_http_429", Bool),
            ("sample_age_limit", Dur),
            ("max_retries", Int),
        ],
    ),
    ("sender", &[("flush_deadline", Dur), ("reshard_tick_offset", Dur), ("mode", Mode)]),
    ("sender.agent", &[("wal_truncate_frequency", Dur), ("retention_min_time", Dur), ("retention_max_time", Dur)]),
    ("sender.alloy", &[("truncate_frequency", Dur), ("min_keepalive_time", Dur), ("max_keepalive_time", Dur)]),
    ("tsdb", &[("min_block_duration", Dur), ("wal_segment_size", Size), ("wal_bytes_per_sample", Num)]),
    (
        "receiver",
        &[
            ("latency", Latency),
            ("max_concurrency", Int),
            ("rate_limit", Num),
            ("rate_limit_burst", Int),
            ("rate_limit_retry_after", Dur),
            ("ingest_after_client_timeout", Bool),
        ],
    ),
    ("output", &[("step", Dur)]),
    ("simulation", &[("max_events", Int)]),
];

/// One `key = value` line for table `t`.
fn assignment() -> impl Strategy<Value = (usize, String)> {
    (0..KEYS.len(), any::<prop::sample::Index>()).prop_flat_map(|(t, k)| {
        let (key, kind) = *k.get(KEYS[t].1);
        value(kind).prop_map(move |v| (t, format!("{key} = {v}")))
    })
}

/// A file with valid structure and random values for some keys, and maybe a fault and a change.
fn structured() -> impl Strategy<Value = String> {
    let fault = (
        value(Dur),
        value(Dur),
        value(Status),
        value(Num),
        prop::option::of(value(Dur)),
        prop::option::of(value(Latency)),
    );
    (
        prop::collection::vec(assignment(), 0..12),
        prop::collection::vec(fault, 0..2),
        prop::collection::vec((value(Dur), value(Int)), 0..2),
    )
        .prop_map(|(assignments, faults, changes)| {
            let mut tables: Vec<Vec<String>> = vec![Vec::new(); KEYS.len()];
            tables[0].push("duration = \"2h\"".to_string());
            tables[1].push("series = 1000".to_string());
            for (t, line) in assignments {
                let key = line.split(" = ").next().unwrap_or_default();
                // A later value for a key replaces the earlier one (no duplicate keys).
                tables[t].retain(|l| l.split(" = ").next() != Some(key));
                tables[t].push(line);
            }
            let mut text = String::new();
            for (i, lines) in tables.iter().enumerate() {
                if i > 0 && !lines.is_empty() {
                    text.push_str(&format!("[{}]\n", KEYS[i].0));
                }
                for line in lines {
                    text.push_str(line);
                    text.push('\n');
                }
            }
            for (start, end, status, prob, retry_after, latency) in faults {
                text.push_str(&format!(
                    "[[receiver.fault]]\nstart = {start}\nend = {end}\nstatus = {status}\nprobability = {prob}\n"
                ));
                if let Some(r) = retry_after {
                    text.push_str(&format!("retry_after = {r}\n"));
                }
                if let Some(l) = latency {
                    text.push_str(&format!("latency = {l}\n"));
                }
            }
            for (at, series) in changes {
                text.push_str(&format!("[[workload.change]]\nat = {at}\nseries = {series}\n"));
            }
            text
        })
}

/// A library file with one random edit: a byte range deleted, or text inserted.
fn mutated() -> impl Strategy<Value = String> {
    (any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0usize..40, "\\PC{0,8}|[\\[\\]{}=\"\\n#.,]{1,4}")
        .prop_map(|(which, at, len, insert)| {
            let src = which.get(library()).source;
            let mut start = at.index(src.len());
            while !src.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + len).min(src.len());
            while !src.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}{}{}", &src[..start], insert, &src[end..])
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        check(&text);
    }

    #[test]
    fn toml_like_text_never_panics(text in "([a-z_.\\[\\]]{1,20} ?= ?(\"[0-9a-z]{0,6}\"|-?[0-9]{1,20}|\\{ ?\\}|\\[\\])?\n){0,12}") {
        check(&text);
    }

    #[test]
    fn structured_files_with_random_values_never_panic(text in structured()) {
        check(&text);
    }

    #[test]
    fn mutated_library_files_never_panic(text in mutated()) {
        check(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [100, 100_000] {
        for text in [
            format!("x = {}1{}\n", "[".repeat(depth), "]".repeat(depth)),
            format!("x = {}{}\n", "{a=".repeat(depth), "}".repeat(depth)),
            format!("{} = 1\n", vec!["a"; depth].join(".")),
            format!("[{}]\n", vec!["a"; depth].join(".")),
        ] {
            let e = load_str(&text, "deep.toml").unwrap_err();
            assert_eq!(e.kind, ErrorKind::Syntax, "{e}");
        }
    }
}
