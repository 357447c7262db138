//! Friendlier wording for schema errors: folklore keys, keys in the wrong table, typos.

use crate::spans;

/// Keys that tuning articles mention but no Prometheus version has (docs/model.md §15).
const FOLKLORE: [(&str, &str); 5] = [
    ("max_retries", "removed in Prometheus v2.11; recoverable errors are retried forever"),
    (
        "batch_send_watermark",
        "no such key in any Prometheus version; a batch is sent when it holds max_samples_per_send samples or \
         when batch_send_deadline expires",
    ),
    (
        "max_time_per_send",
        "no such key in any Prometheus version; the per-request timeout is remote_write.remote_timeout",
    ),
    ("send_timeout", "no such key; the per-request timeout is remote_write.remote_timeout"),
    (
        "queue_length",
        "no such key in any Prometheus version; the per-shard buffer is queue_config.capacity, in samples",
    ),
];

/// Real `remote_write` settings of Prometheus that rwsim does not model.
const UNMODELLED: [&str; 17] = [
    "headers",
    "write_relabel_configs",
    "send_exemplars",
    "send_native_histograms",
    "metadata_config",
    "basic_auth",
    "authorization",
    "sigv4",
    "azuread",
    "google_iam",
    "oauth2",
    "tls_config",
    "proxy_url",
    "follow_redirects",
    "enable_http2",
    "protobuf_message",
    "round_robin_dns",
];

/// Every table of the schema with its keys, for "it belongs in ..." hints.
const TABLES: [(&str, &[&str]); 16] = [
    ("the top level", &["name", "description", "prometheus", "seed", "duration", "start", "vmagent"]),
    (
        "[workload]",
        &[
            "series",
            "scrape_interval",
            "targets",
            "scrape_duration",
            "report_series",
            "wire_bytes_per_sample",
            "change",
        ],
    ),
    ("[[workload.change]]", &["at", "series"]),
    ("[remote_write]", &["url", "name", "remote_timeout", "queue_config"]),
    ("[remote_write.queue_config]", &crate::raw::QUEUE_CONFIG_KEYS),
    (
        "[sender]",
        &[
            "flush_deadline",
            "reshard_tick_offset",
            "request_overhead",
            "cpu_us_per_sample",
            "cpu_cores",
            "wal_persisted",
            "wal_replay_bytes_per_second",
            "scrape_start_delay",
            "memory_base",
            "memory_per_series",
            "replay_memory_factor",
            "event",
            "mode",
            "agent",
            "alloy",
        ],
    ),
    ("[sender.agent]", &["wal_truncate_frequency", "retention_min_time", "retention_max_time"]),
    ("[sender.alloy]", &["truncate_frequency", "min_keepalive_time", "max_keepalive_time"]),
    ("[vmagent]", &["version", "remoteWrite", "memory", "cpus", "host_memory", "unpacked_bytes_per_sample"]),
    (
        "[vmagent.remoteWrite]",
        &[
            "queues",
            "maxDiskUsagePerURL",
            "maxBlockSize",
            "maxRowsPerBlock",
            "flushInterval",
            "sendTimeout",
            "rateLimit",
            "retryMinInterval",
            "retryMaxInterval",
        ],
    ),
    ("[vmagent.memory]", &["allowedPercent", "allowedBytes"]),
    ("[tsdb]", &["min_block_duration", "wal_segment_size", "wal_bytes_per_sample"]),
    (
        "[receiver]",
        &[
            "latency",
            "workers",
            "max_concurrency",
            "queue_size",
            "queue_full_status",
            "request_overhead",
            "worker_throughput",
            "memory_base",
            "memory_per_inflight_sample",
            "rate_limit",
            "rate_limit_burst",
            "rate_limit_retry_after",
            "rate_limit_latency",
            "ingest_after_client_timeout",
            "fault",
            "incident",
        ],
    ),
    ("[[receiver.fault]]", &["start", "end", "status", "probability", "retry_after", "latency"]),
    ("[output]", &["step"]),
    ("[simulation]", &["max_events"]),
];

/// The message for an unknown key `name` at dotted path `key`; `toml_msg` is toml's own
/// ("unknown field `x`, expected one of `a`, `b`").
pub(crate) fn unknown_key(key: &str, name: &str, toml_msg: &str) -> String {
    if let Some((_, hint)) = FOLKLORE.iter().find(|(k, _)| *k == name) {
        return format!("unknown field `{name}`: {hint}");
    }
    let mut homes: Vec<&str> = TABLES.iter().filter(|(_, keys)| keys.contains(&name)).map(|(t, _)| *t).collect();
    let incident_key = ["kind", "start", "end"].contains(&name)
        || crate::convert::INCIDENT_KINDS.iter().any(|(_, keys)| keys.contains(&name));
    if incident_key {
        homes.push("[[receiver.incident]]");
    }
    let sender_event_key = ["kind", "at"].contains(&name)
        || crate::convert::SENDER_EVENT_KINDS.iter().any(|(_, keys)| keys.contains(&name));
    if sender_event_key {
        homes.push("[[sender.event]]");
    }
    if !homes.is_empty() {
        return format!("unknown field `{name}` here: it belongs in {}", homes.join(" or "));
    }
    if UNMODELLED.contains(&name) && spans::parent(key).is_some_and(|p| p.starts_with("remote_write")) {
        return format!(
            "unknown field `{name}`: a Prometheus remote_write setting that rwsim does not model; remove it"
        );
    }
    if let Some(guess) = closest(name, &expected_names(toml_msg)) {
        return format!("unknown field `{name}`; did you mean `{guess}`?");
    }
    toml_msg.to_string()
}

/// The names listed after "expected" in serde's unknown-field message.
fn expected_names(msg: &str) -> Vec<&str> {
    let Some((_, list)) = msg.split_once(", expected ") else {
        return Vec::new();
    };
    list.split('`').skip(1).step_by(2).collect()
}

/// The candidate within a small edit distance of `name`, if exactly one is closest.
pub(crate) fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = if name.chars().count() >= 6 { 2 } else { 1 };
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for c in candidates {
        let d = edit_distance(name, c);
        match best {
            _ if d > limit => {}
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, c));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, c)| c)
}

/// Levenshtein distance over characters (inputs are short keys).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Documented ranges (docs/scenario.md) of the integer keys whose type is wider: an error
/// names these, not the range of the type (`0 to 18446744073709551615`). Keys as patterns,
/// with `[]` for an array index.
const DOCUMENTED_RANGES: [(&str, &str); 6] = [
    ("workload.series", "0 to 1,000,000,000"),
    ("workload.change[].series", "0 to 1,000,000,000"),
    ("workload.targets", "1 to 10,000,000"),
    ("remote_write.queue_config.capacity", "1 to 1,000,000,000"),
    ("remote_write.queue_config.max_samples_per_send", "1 to 1,000,000,000"),
    ("remote_write.queue_config.max_shards", "1 to 100,000"),
];

/// The documented range of integer `key` (`workload.change[2].series`), if narrower than its
/// type's.
pub(crate) fn documented_range(key: &str) -> Option<&'static str> {
    let mut pattern = String::with_capacity(key.len());
    let mut in_index = false;
    for c in key.chars() {
        match c {
            '[' => {
                in_index = true;
                pattern.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => pattern.push(c),
        }
    }
    DOCUMENTED_RANGES.iter().find(|(k, _)| *k == pattern).map(|(_, range)| *range)
}

/// `300k`, `1.5M`, `2G` as the integer they abbreviate, for "write 300000" hints.
pub(crate) fn unsuffixed(s: &str) -> Option<u64> {
    let s = s.trim();
    let (number, scale) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1e3),
        (i, 'm' | 'M') => (&s[..i], 1e6),
        (i, 'g' | 'G' | 'b' | 'B') => (&s[..i], 1e9),
        _ => return None,
    };
    let x = number.replace('_', "").parse::<f64>().ok()? * scale;
    (x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 9e15).then_some(x as u64)
}

/// Rewrites an integer error about `key` (`expected an integer from 0 to <type max>, found
/// ...`) with the key's documented range, and for a count written `"300k"` adds `write 300000`.
pub(crate) fn integer_message(key: &str, message: String) -> String {
    let Some(rest) = message.strip_prefix("expected an integer from 0 to ") else {
        return message;
    };
    let Some(found_at) = rest.find(", found ") else {
        return message;
    };
    let found = &rest[found_at + ", found ".len()..];
    let mut out = match documented_range(key) {
        Some(range) => format!("expected an integer from {range}, found {found}"),
        None => message.clone(),
    };
    if let Some(n) = found.strip_prefix("string \"").and_then(|f| f.strip_suffix('"')).and_then(unsuffixed) {
        out.push_str(&format!("; write {n} (or {}), without a suffix or quotes", underscored(n)));
    }
    out
}

/// `300000` as `300_000`, the TOML spelling that keeps digits readable.
fn underscored(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// Top-level keys of a `prometheus.yml`: a file that starts with one was pasted whole.
const PROMETHEUS_YML_KEYS: [&str; 8] = [
    "global",
    "scrape_configs",
    "remote_write",
    "remote_read",
    "rule_files",
    "alerting",
    "scrape_config_files",
    "storage",
];

/// A hint for a TOML syntax error on line `line` (1-based) of `text`, read from `origin`,
/// when that line is written in YAML (`capacity: 10000`, a `- ` list item, a `remote_write:`
/// block opener): the TOML way to write it, and `rwsim import` when the text looks like a
/// `prometheus.yml`. `None` when the line does not look like YAML.
pub(crate) fn yaml_hint(text: &str, line: usize, origin: &str) -> Option<String> {
    let at = text.lines().nth(line.checked_sub(1)?)?;
    let body = at.trim().strip_prefix("- ").unwrap_or(at.trim());
    let (key, value) = body.split_once(':')?;
    let key_ok = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && (value.is_empty() || value.starts_with([' ', '\t']));
    if !key_ok {
        return None;
    }
    let value = match value.split_once(" #") {
        Some((v, _)) => v.trim(),
        None => value.trim(),
    };
    let pasted_config = text.lines().any(|l| {
        l.split_once(':').is_some_and(|(k, _)| PROMETHEUS_YML_KEYS.contains(&k)) && !l.starts_with([' ', '\t'])
    });
    let first_content = text.lines().position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if pasted_config && first_content == Some(line - 1) {
        // The whole file is YAML: a prometheus.yml given where a scenario is expected.
        return Some(format!(
            "this file is YAML, and looks like a prometheus.yml; scenario files are TOML: \
             `rwsim import {origin}` writes one from it (docs/import.md)"
        ));
    }
    let mut hint = if value.is_empty() {
        format!(
            "`{key}:` looks like YAML; TOML opens a table with its dotted path in brackets, e.g. \
             [remote_write.queue_config], and writes each key as `key = value`"
        )
    } else {
        format!("`{key}: {value}` looks like YAML; in TOML write `{key} = {}`", toml_literal(value))
    };
    if pasted_config {
        hint.push_str(
            "; this looks like part of a prometheus.yml: `rwsim import prometheus.yml` writes a scenario from \
             the whole file (docs/import.md)",
        );
    } else {
        hint.push_str(" (scenario files are TOML: docs/scenario.md)");
    }
    Some(hint)
}

/// `value` as a TOML literal: numbers, booleans, arrays, tables and quoted strings as they
/// are; anything else (`30s`, `128MiB`, a URL) quoted.
fn toml_literal(value: &str) -> String {
    let bare = value.replace('_', "");
    let literal = bare.parse::<i64>().is_ok()
        || bare.parse::<f64>().is_ok_and(f64::is_finite)
        || matches!(value, "true" | "false")
        || value.starts_with(['"', '\'', '[', '{']);
    if literal { value.to_string() } else { format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")) }
}

/// Rewrites serde's `invalid type: X, expected Y` as `expected Y, found X`, in TOML words.
pub(crate) fn humanize(msg: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((found, expected)) = msg.strip_prefix(prefix).and_then(|r| r.rsplit_once(", expected ")) {
            return format!("expected {}, found {}", toml_words(expected), toml_words(found));
        }
    }
    msg.to_string()
}

fn toml_words(s: &str) -> String {
    match s {
        "map" => "a table".to_string(),
        "sequence" => "an array".to_string(),
        "a sequence" => "an array".to_string(),
        "a boolean" => "true or false".to_string(),
        _ if s.starts_with("struct ") => "a table".to_string(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_suggestion() {
        let msg = "unknown field `max_shard`, expected one of `capacity`, `max_shards`, `min_shards`";
        assert_eq!(expected_names(msg), ["capacity", "max_shards", "min_shards"]);
        assert_eq!(
            unknown_key("remote_write.queue_config.max_shard", "max_shard", msg),
            "unknown field `max_shard`; did you mean `max_shards`?"
        );
        let msg = "unknown field `xyz`, expected `step`";
        assert_eq!(unknown_key("output.xyz", "xyz", msg), msg);
    }

    #[test]
    fn misplaced_keys_name_their_table() {
        assert_eq!(
            unknown_key("remote_write.queue_config.remote_timeout", "remote_timeout", ""),
            "unknown field `remote_timeout` here: it belongs in [remote_write]"
        );
        assert_eq!(
            unknown_key("receiver.end", "end", ""),
            "unknown field `end` here: it belongs in [[receiver.fault]] or [[receiver.incident]] or [[sender.event]]"
        );
        assert_eq!(
            unknown_key("output.latency", "latency", ""),
            "unknown field `latency` here: it belongs in [receiver] or [[receiver.fault]] or [[receiver.incident]]"
        );
    }

    #[test]
    fn integer_errors_name_the_documented_range_and_spell_out_300k() {
        let u64_max = format!("expected an integer from 0 to {}, found", u64::MAX);
        assert_eq!(
            integer_message("workload.series", format!("{u64_max} -5")),
            "expected an integer from 0 to 1,000,000,000, found -5"
        );
        assert_eq!(
            integer_message("workload.change[2].series", format!("{u64_max} string \"300k\"")),
            "expected an integer from 0 to 1,000,000,000, found string \"300k\"; write 300000 (or 300_000), \
             without a suffix or quotes"
        );
        // A key without a documented range keeps the type's; other messages are untouched.
        assert_eq!(integer_message("seed", format!("{u64_max} -1")), format!("{u64_max} -1"));
        assert_eq!(integer_message("workload.series", "must be 1".into()), "must be 1");
        assert_eq!(unsuffixed("1.5M"), Some(1_500_000));
        assert_eq!(unsuffixed("2G"), Some(2_000_000_000));
        assert_eq!(unsuffixed("0.5k"), Some(500));
        assert_eq!(unsuffixed("k"), None);
        assert_eq!(unsuffixed("1.2345k"), None);
        assert_eq!(unsuffixed("big"), None);
        assert_eq!(underscored(1_000_000), "1_000_000");
        assert_eq!(underscored(500), "500");
    }

    #[test]
    fn yaml_lines_get_their_toml_spelling() {
        let hint = |text: &str, line: usize| yaml_hint(text, line, "x.toml");
        assert_eq!(
            hint("duration = \"1h\"\ncapacity: 10000\n", 2).unwrap(),
            "`capacity: 10000` looks like YAML; in TOML write `capacity = 10000` (scenario files are TOML: \
             docs/scenario.md)"
        );
        assert_eq!(
            hint("  remote_timeout: 30s   # per request\n", 1).unwrap(),
            "`remote_timeout: 30s` looks like YAML; in TOML write `remote_timeout = \"30s\"` (scenario files are \
             TOML: docs/scenario.md)"
        );
        assert!(hint("  - url: http://mimir/api/v1/push", 1).unwrap().contains("`url = \"http://mimir/api/v1/push\"`"));
        assert!(hint("queue_config:", 1).unwrap().contains("[remote_write.queue_config]"));
        // A whole prometheus.yml, or a part of one pasted after TOML.
        let config = "# mine\nglobal:\n  scrape_interval: 15s\nremote_write:\n  - url: http://x\n";
        assert_eq!(
            hint(config, 2).unwrap(),
            "this file is YAML, and looks like a prometheus.yml; scenario files are TOML: `rwsim import x.toml` \
             writes one from it (docs/import.md)"
        );
        let pasted = "duration = \"1h\"\nremote_write:\n  - url: http://x\n";
        assert!(hint(pasted, 2).unwrap().contains("part of a prometheus.yml: `rwsim import prometheus.yml`"));
        // Not YAML: TOML mistakes keep the plain syntax error.
        assert_eq!(hint("url = http://x", 1), None);
        assert_eq!(hint("start = \"2026-01-01T00:00:00Z\"", 1), None);
        assert_eq!(hint("[workload", 1), None);
        assert_eq!(hint("x", 0), None);
        assert_eq!(hint("x", 5), None);
    }

    #[test]
    fn serde_wording_becomes_toml_wording() {
        assert_eq!(
            humanize("invalid type: string \"big\", expected an integer"),
            "expected an integer, found string \"big\""
        );
        assert_eq!(
            humanize("invalid type: integer `5`, expected struct Workload"),
            "expected a table, found integer `5`"
        );
        assert_eq!(humanize("invalid type: map, expected a sequence"), "expected an array, found a table");
        assert_eq!(humanize("something else"), "something else");
        assert_eq!(edit_distance("flush-deadline", "flush_deadline"), 1);
    }
}
