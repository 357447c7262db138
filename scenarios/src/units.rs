//! The duration and size syntaxes of scenario files.
//!
//! Durations follow Prometheus's `model.Duration` (`30s`, `5m`, `1h30m`, `250ms`): whole
//! numbers, each followed by a unit, units from largest to smallest and each at most once.
//! The units are `d` (24h), `h`, `m`, `s` and `ms`; `"0"` alone is also zero, as in Prometheus.
//!
//! Sizes follow Prometheus's `units.Base2Bytes` (the `--storage.tsdb.wal-segment-size` flag):
//! a whole number with an optional unit, `B`, `KiB`, `MiB`, `GiB` or `TiB`. As in Prometheus,
//! `KB`, `MB`, `GB` and `TB` mean the same powers of 1024, so `"10MB"` is 10 × 1024 × 1024
//! bytes. A number without a unit is bytes.

use sim_core::time::{NANOS_PER_MILLI, NANOS_PER_SEC, SimDuration};
use std::fmt;

/// A duration or size string that does not parse. The message quotes the input and shows
/// the expected form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitError {
    message: String,
}

impl UnitError {
    fn new(message: String) -> Self {
        UnitError { message }
    }
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UnitError {}

/// Duration units from largest to smallest, with their length in nanoseconds.
const DURATION_UNITS: [(&str, u64); 5] = [
    ("d", 86_400 * NANOS_PER_SEC),
    ("h", 3_600 * NANOS_PER_SEC),
    ("m", 60 * NANOS_PER_SEC),
    ("s", NANOS_PER_SEC),
    ("ms", NANOS_PER_MILLI),
];

const DURATION_EXPECTED: &str = "expected a number with a unit (ms, s, m, h, d), e.g. \"30s\"";

/// Parses a duration such as `"30s"`, `"1h30m"`, `"250ms"` or `"0s"`.
///
/// ```
/// use scenarios::units::parse_duration;
/// use sim_core::time::SimDuration;
/// assert_eq!(parse_duration("1h30m").unwrap(), SimDuration::from_mins(90));
/// assert_eq!(
///     parse_duration("5x").unwrap_err().to_string(),
///     r#"invalid duration "5x": expected a number with a unit (ms, s, m, h, d), e.g. "30s""#
/// );
/// ```
pub fn parse_duration(s: &str) -> Result<SimDuration, UnitError> {
    let fail = |why: &str| Err(UnitError::new(format!("invalid duration {s:?}: {why}")));
    if s == "0" {
        return Ok(SimDuration::ZERO);
    }
    if s.starts_with('-') {
        return fail("durations cannot be negative");
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return fail(&format!("the unit is missing; {DURATION_EXPECTED}"));
    }
    if s.contains('.') && s.bytes().any(|b| b.is_ascii_digit()) {
        return fail("use whole numbers, e.g. \"1h30m\" rather than \"1.5h\", \"1500ms\" rather than \"1.5s\"");
    }
    let mut rest = s;
    let mut total: u64 = 0;
    // Index into DURATION_UNITS of the next unit allowed; units must strictly decrease.
    let mut next_unit = 0;
    if rest.is_empty() {
        return fail(DURATION_EXPECTED);
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return fail(DURATION_EXPECTED);
        }
        let (number, tail) = rest.split_at(digits);
        let letters = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(letters);
        let Some(pos) = DURATION_UNITS.iter().position(|(u, _)| *u == unit) else {
            return fail(DURATION_EXPECTED);
        };
        if pos < next_unit {
            return fail("units must go from largest to smallest, each at most once, e.g. \"1h30m\"");
        }
        next_unit = pos + 1;
        let too_long = || fail("too long (the longest duration is about 584 years)");
        let Ok(n) = number.parse::<u64>() else {
            return too_long();
        };
        let Some(ns) = n.checked_mul(DURATION_UNITS[pos].1) else {
            return too_long();
        };
        let Some(sum) = total.checked_add(ns) else {
            return too_long();
        };
        total = sum;
        rest = tail;
    }
    Ok(SimDuration::from_nanos(total))
}

/// Formats a duration in the syntax [`parse_duration`] reads back, as Prometheus's
/// `model.Duration` prints it: the largest units first, each at most once, zero units left
/// out (`"1h30m"`, `"1m0s"` is `"1m"`, `"1s500ms"`, `"0s"`). Days are written as hours.
/// Sub-millisecond parts, which no scenario can hold, are dropped.
///
/// ```
/// use scenarios::units::{format_duration, parse_duration};
/// use sim_core::time::SimDuration;
/// assert_eq!(format_duration(SimDuration::from_millis(5_400_250)), "1h30m250ms");
/// assert_eq!(format_duration(SimDuration::from_hours(36)), "36h");
/// assert_eq!(format_duration(SimDuration::ZERO), "0s");
/// let d = parse_duration("2h45m").unwrap();
/// assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
/// ```
pub fn format_duration(d: SimDuration) -> String {
    let mut ms = d.nanos() / NANOS_PER_MILLI;
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, mult) in [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        let v = ms / mult;
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
            ms -= v * mult;
        }
    }
    out
}

/// Formats a size with the largest binary unit that divides it exactly (`"128MiB"`,
/// `"32KiB"`, `"1000B"`), in the syntax [`parse_size`] reads back.
///
/// ```
/// assert_eq!(scenarios::units::format_size(128 << 20), "128MiB");
/// assert_eq!(scenarios::units::format_size(1000), "1000B");
/// ```
pub fn format_size(bytes: u64) -> String {
    for (unit, mult) in [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes > 0 && bytes.is_multiple_of(mult) {
            return format!("{}{unit}", bytes / mult);
        }
    }
    format!("{bytes}B")
}

/// Size units with their multiplier (Prometheus `units.Base2Bytes`: `KB` is 1024 bytes).
const SIZE_UNITS: [(&str, u64); 9] = [
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("KB", 1 << 10),
    ("MB", 1 << 20),
    ("GB", 1 << 30),
    ("TB", 1 << 40),
];

/// Parses a size in bytes such as `"128MiB"`, `"32KiB"`, `"10MB"` (= 10 MiB) or `"4096"`.
///
/// ```
/// use scenarios::units::parse_size;
/// assert_eq!(parse_size("128MiB").unwrap(), 128 << 20);
/// assert_eq!(parse_size("10MB").unwrap(), 10 << 20, "base 2, as in Prometheus");
/// ```
pub fn parse_size(s: &str) -> Result<u64, UnitError> {
    let fail = |why: &str| Err(UnitError::new(format!("invalid size {s:?}: {why}")));
    if s.starts_with('-') {
        return fail("sizes cannot be negative");
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = s.split_at(digits);
    let mult = match SIZE_UNITS.iter().find(|(u, _)| *u == unit) {
        Some((_, m)) if digits > 0 => *m,
        None if digits > 0 && unit.is_empty() => 1,
        _ => {
            return fail(
                "expected a whole number with a unit (B, KiB, MiB, GiB, TiB; KB, MB, GB, TB are the same powers \
                 of 1024), e.g. \"128MiB\"",
            );
        }
    };
    match number.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)) {
        Some(bytes) => Ok(bytes),
        None => fail("too large"),
    }
}

/// Parses a `start` timestamp (RFC 3339 in UTC, `"2024-01-01T00:00:00Z"`, before 2200) into
/// Unix nanoseconds, as the scenario key `start` does; for command-line overrides.
///
/// ```
/// assert_eq!(
///     scenarios::units::parse_timestamp("2024-01-01T00:00:00Z").unwrap(),
///     1_704_067_200_000_000_000
/// );
/// assert!(scenarios::units::parse_timestamp("yesterday").is_err());
/// ```
pub fn parse_timestamp(s: &str) -> Result<u64, UnitError> {
    crate::raw::parse_timestamp(s).map(|t| t.0).map_err(UnitError::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> u64 {
        parse_duration(s).unwrap_or_else(|e| panic!("{e}")).nanos()
    }
    fn derr(s: &str) -> String {
        parse_duration(s).expect_err(s).to_string()
    }

    #[test]
    fn durations_in_prometheus_syntax() {
        assert_eq!(d("30s"), 30 * NANOS_PER_SEC);
        assert_eq!(d("5m"), 300 * NANOS_PER_SEC);
        assert_eq!(d("2h"), 7200 * NANOS_PER_SEC);
        assert_eq!(d("1h30m"), 5400 * NANOS_PER_SEC);
        assert_eq!(d("250ms"), 250 * NANOS_PER_MILLI);
        assert_eq!(d("1d2h3m4s5ms"), ((26 * 60 + 3) * 60 + 4) * NANOS_PER_SEC + 5 * NANOS_PER_MILLI);
        assert_eq!(d("0s"), 0);
        assert_eq!(d("0"), 0);
        assert_eq!(d("0ms"), 0);
        assert_eq!(d("90m"), 5400 * NANOS_PER_SEC);
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        let generic = |s: &str| format!("invalid duration {s:?}: {DURATION_EXPECTED}");
        for s in ["5x", "", "s", "5", "5 m", " 5m", "5M", "m5", "1h 30m", "5mss", "1e3s", "+5s", "5µs", "٣s"] {
            let e = derr(s);
            if s == "5" {
                assert_eq!(
                    e,
                    "invalid duration \"5\": the unit is missing; expected a number with a unit (ms, s, m, h, d), e.g. \"30s\""
                );
            } else {
                assert_eq!(e, generic(s), "{s}");
            }
        }
        assert_eq!(derr("-5s"), "invalid duration \"-5s\": durations cannot be negative");
        assert_eq!(
            derr("30m1h"),
            "invalid duration \"30m1h\": units must go from largest to smallest, each at most once, e.g. \"1h30m\""
        );
        assert!(derr("1m1m").contains("each at most once"));
        assert!(derr("1.5h").contains("whole numbers"));
        assert!(derr("99999999999999999999s").contains("too long"));
        assert!(derr("213504d").contains("too long"));
        assert_eq!(d("213503d"), 213_503 * 86_400 * NANOS_PER_SEC);
    }

    #[test]
    fn sizes_are_base_2_like_prometheus() {
        assert_eq!(parse_size("128MiB").unwrap(), 128 << 20);
        assert_eq!(parse_size("10MiB").unwrap(), 10 << 20);
        assert_eq!(parse_size("32KiB").unwrap(), 32 << 10);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("1TiB").unwrap(), 1 << 40);
        assert_eq!(parse_size("10MB").unwrap(), 10 << 20);
        assert_eq!(parse_size("32KB").unwrap(), 32 << 10);
        assert_eq!(parse_size("1GB").unwrap(), 1 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("4096B").unwrap(), 4096);
        assert_eq!(parse_size("0").unwrap(), 0);
    }

    #[test]
    fn bad_sizes_say_what_is_expected() {
        let generic = |s: &str| {
            format!(
                "invalid size {s:?}: expected a whole number with a unit (B, KiB, MiB, GiB, TiB; KB, MB, GB, TB are the \
                 same powers of 1024), e.g. \"128MiB\""
            )
        };
        for s in ["", "MiB", "10mb", "10 MiB", "1.5GiB", "10Mi", "ten"] {
            assert_eq!(parse_size(s).unwrap_err().to_string(), generic(s));
        }
        assert_eq!(parse_size("-1MiB").unwrap_err().to_string(), "invalid size \"-1MiB\": sizes cannot be negative");
        assert_eq!(parse_size("17000000TiB").unwrap_err().to_string(), "invalid size \"17000000TiB\": too large");
    }
}
