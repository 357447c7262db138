//! The Prometheus text exposition format (what `/metrics` serves): enough of it to read
//! Prometheus's own counters, gauges and histograms.

use std::collections::BTreeMap;

/// One sample line: name, labels (sorted), value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Metric name (for histograms, with its `_bucket`, `_sum` or `_count` suffix).
    pub name: String,
    /// Labels by name.
    pub labels: BTreeMap<String, String>,
    /// The value (`+Inf`, `-Inf` and `NaN` included).
    pub value: f64,
}

/// Parses an exposition page; lines that do not parse (comments, blank, malformed) are
/// skipped.
///
/// ```
/// let page = "# TYPE up gauge\nprometheus_remote_storage_shards{remote_name=\"a\",url=\"http://x\"} 3\nup 1\n";
/// let s = live::calibrate::expo::parse(page);
/// assert_eq!(s.len(), 2);
/// assert_eq!(s[0].labels["remote_name"], "a");
/// assert_eq!(s[0].value, 3.0);
/// ```
pub fn parse(page: &str) -> Vec<Sample> {
    page.lines().filter_map(parse_line).collect()
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(r) = rest.strip_prefix('{') {
        let mut chars = r.char_indices().peekable();
        let end = loop {
            // Skip separators.
            while let Some(&(_, c)) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    chars.next();
                } else {
                    break;
                }
            }
            let &(start, c) = chars.peek()?;
            if c == '}' {
                break start + 1;
            }
            let mut key = String::new();
            for (_, c) in chars.by_ref() {
                if c == '=' {
                    break;
                }
                key.push(c);
            }
            if chars.next()?.1 != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                let (_, c) = chars.next()?;
                match c {
                    '"' => break,
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    c => value.push(c),
                }
            }
            labels.insert(key.trim().to_string(), value);
        };
        rest = &r[end..];
    }
    let value = parse_value(rest.split_whitespace().next()?)?;
    Some(Sample { name, labels, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_escapes_and_specials() {
        let page = "prometheus_remote_storage_sent_batch_duration_seconds_bucket{le=\"0.005\",remote_name=\"r\",url=\"http://h/a\"} 0\n\
                    prometheus_remote_storage_sent_batch_duration_seconds_bucket{le=\"+Inf\",remote_name=\"r\",url=\"http://h/a\"} 42\n\
                    x{a=\"q\\\"uote\\\\d\"} NaN 1700000000000\n\
                    broken{a=\"x} 1\n";
        let s = parse(page);
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].labels["le"], "+Inf");
        assert_eq!(s[1].value, 42.0);
        assert_eq!(s[2].labels["a"], "q\"uote\\d");
        assert!(s[2].value.is_nan());
    }
}
