//! Axis arithmetic and label formatting shared by every chart: time ticks at round clock
//! intervals, SI-prefixed counts, human durations, and a log10 transform done by hand (so
//! zero values and tick labels stay under our control).

/// Candidate spacings of time ticks, in seconds: round clock intervals only, then whole
/// days, weeks and 30-day months for runs of weeks to a year.
const TIME_STEPS: [f64; 20] = [
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    10800.0,
    14400.0,
    21600.0,
    43200.0,
    86400.0,
    172800.0,
    604800.0,
    1209600.0,
    2_592_000.0,
    5_184_000.0,
    7_776_000.0,
    15_552_000.0,
];

/// Runs at least this long label their time axis in days (`12d`) rather than `hh:mm`.
pub const DAY_SCALE_S: f64 = 4.0 * 86400.0;

/// Tick positions (seconds since start) for a time axis of `duration_s` with at most
/// `max_ticks` ticks, at a round interval (1m, 2m, 5m, ..., 1h, 2h, ..., 1d, 7d, 30d), from 0.
pub fn time_ticks(duration_s: f64, max_ticks: usize) -> Vec<f64> {
    let max_ticks = max_ticks.max(2) as f64;
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|s| duration_s / s <= max_ticks - 1.0)
        .unwrap_or(TIME_STEPS[TIME_STEPS.len() - 1]);
    let n = (duration_s / step).floor() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// Seconds since the start as a clock offset: `00:00`, `01:30`, `36:00`; whole days beyond
/// four days as `5d`, `5d 12:00`.
pub fn hhmm(t_s: f64) -> String {
    let t = t_s.max(0.0).round() as u64;
    let (h, m) = (t / 3600, (t % 3600) / 60);
    if h >= 96 {
        let (d, h) = (h / 24, h % 24);
        if h == 0 && m == 0 { format!("{d}d") } else { format!("{d}d {h:02}:{m:02}") }
    } else {
        format!("{h:02}:{m:02}")
    }
}

/// A time-axis tick label for a run of `duration_s`: [`hhmm`], or on a day-scale axis
/// ([`DAY_SCALE_S`]) days from `0d` on, so a year reads `0d, 30d, ..., 360d`.
pub fn time_label(t_s: f64, duration_s: f64) -> String {
    if duration_s < DAY_SCALE_S {
        return hhmm(t_s);
    }
    let t = t_s.max(0.0).round() as u64;
    let (d, h) = (t / 86400, (t % 86400) / 3600);
    if h == 0 { format!("{d}d") } else { format!("{d}d {h}h") }
}

/// What a time axis of a run of `duration_s` is labelled in: `days` or `hh:mm`.
pub fn time_unit(duration_s: f64) -> &'static str {
    if duration_s < DAY_SCALE_S { "hh:mm" } else { "days" }
}

/// A number with an SI prefix and at most three significant digits: `0`, `950`, `1.5k`,
/// `33.5k`, `2M`, `1.2G`; small values as `0.5`, `0.01`.
pub fn si(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v < 0.0 {
        return format!("-{}", si(-v));
    }
    if v == 0.0 {
        return "0".into();
    }
    const PREFIXES: [(f64, &str); 5] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")];
    for (scale, p) in PREFIXES {
        if v >= scale * 0.9995 {
            return format!("{}{p}", trim3(v / scale));
        }
    }
    trim3(v)
}

/// Up to three significant digits, without trailing zeros.
pub(crate) fn trim3(x: f64) -> String {
    let s = if x >= 99.95 {
        format!("{x:.0}")
    } else if x >= 9.995 {
        format!("{x:.1}")
    } else if x >= 0.9995 {
        format!("{x:.2}")
    } else {
        // Below one: enough decimals for two significant digits.
        let decimals = (-x.log10()).ceil() as usize + 1;
        format!("{x:.decimals$}")
    };
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A duration axis label: `0`, `250ms`, `10s`, `1m`, `1m30s`, `2h`, `1h30m`, `3d`.
pub fn duration_label(s: f64) -> String {
    if !s.is_finite() || s <= 0.0 {
        return "0".into();
    }
    if s < 1.0 {
        return format!("{}ms", trim3(s * 1000.0));
    }
    if s < 60.0 {
        return format!("{}s", trim3(s));
    }
    let t = s.round() as u64;
    let parts = [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    // The two largest non-zero units, as people say them: 1h30m, 2d6h.
    let mut out = String::new();
    let mut rest = t;
    let mut used = 0;
    for (unit, name) in parts {
        let n = rest / unit;
        rest %= unit;
        if n > 0 {
            out += &format!("{n}{name}");
            used += 1;
        } else if used > 0 {
            break;
        }
        if used == 2 {
            break;
        }
    }
    out
}

/// A Unix time as `2024-01-01 00:00:00 UTC` (proleptic Gregorian, no leap seconds).
pub fn utc(unix_secs: u64) -> String {
    let days = (unix_secs / 86400) as i64;
    let rem = unix_secs % 86400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Nice linear ticks from 0 to at least `max`: at most `max_ticks` multiples of 1, 2 or 5
/// times a power of ten. Returns the ticks; the last is the top of the axis.
pub fn linear_ticks(max: f64, max_ticks: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    let max_ticks = max_ticks.max(2);
    let raw = max / (max_ticks - 1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| ((max / s).ceil() as usize) < max_ticks)
        .unwrap_or(10.0 * mag);
    let n = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// Round duration ticks from 0 to at least `max` seconds, at most `max_ticks`: steps of
/// 1-2-5 below a second, then 1s, 2s, 5s, 10s, 15s, 30s, 1m, ..., 1h, 2h, 3h, 6h, 12h, 1d.
pub fn linear_duration_ticks(max: f64, max_ticks: usize) -> Vec<f64> {
    const STEPS: [f64; 23] = [
        1.0,
        2.0,
        5.0,
        10.0,
        15.0,
        30.0,
        60.0,
        120.0,
        300.0,
        600.0,
        900.0,
        1800.0,
        3600.0,
        7200.0,
        10800.0,
        21600.0,
        43200.0,
        86400.0,
        172_800.0,
        604_800.0,
        1_209_600.0,
        2_592_000.0,
        31_536_000.0,
    ];
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    if max < 1.0 {
        return linear_ticks(max, max_ticks);
    }
    let max_ticks = max_ticks.max(2);
    let step =
        STEPS.iter().copied().find(|s| ((max / s).ceil() as usize) < max_ticks).unwrap_or(STEPS[STEPS.len() - 1]);
    let n = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// Log ticks covering `[lo, hi]` (both > 0): the powers of ten in range, or 1-2-5 steps
/// when the range spans fewer than three decades. Returned as real values, ascending.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mults: &[f64] = if b - a <= 2 { &[1.0, 2.0, 5.0] } else { &[1.0] };
    let mut out = Vec::new();
    for e in a..=b {
        for m in mults {
            let v = m * 10f64.powi(e);
            if v >= lo * 0.999 && v <= hi * 1.001 {
                out.push(v);
            }
        }
    }
    out
}

/// Log ticks for a duration axis at clock-friendly values (1s, 10s, 1m, 10m, 1h, 6h, 1d...)
/// covering `[lo, hi]` seconds.
pub fn log_duration_ticks(lo: f64, hi: f64) -> Vec<f64> {
    const CANDIDATES: [f64; 14] = [
        0.001,
        0.01,
        0.1,
        1.0,
        10.0,
        60.0,
        600.0,
        3600.0,
        21600.0,
        86400.0,
        604800.0,
        2_592_000.0,
        31_536_000.0,
        315_360_000.0,
    ];
    CANDIDATES.iter().copied().filter(|v| *v >= lo * 0.999 && *v <= hi * 1.001).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ticks_fall_on_round_clock_times() {
        assert_eq!(time_ticks(7200.0, 13), (0..=12).map(|i| i as f64 * 600.0).collect::<Vec<_>>());
        assert_eq!(time_ticks(7200.0, 9)[1], 900.0);
        assert_eq!(time_ticks(12.0 * 3600.0, 13).len(), 13, "hourly over 12h");
        assert_eq!(time_ticks(24.0 * 3600.0, 13)[1], 7200.0);
        assert_eq!(hhmm(0.0), "00:00");
        assert_eq!(hhmm(5400.0), "01:30");
        assert_eq!(hhmm(36.0 * 3600.0), "36:00");
        assert_eq!(hhmm(5.0 * 86400.0), "5d");
        assert_eq!(hhmm(5.5 * 86400.0), "5d 12:00");
    }

    #[test]
    fn a_year_is_labelled_in_days_at_month_steps() {
        let t = time_ticks(366.0 * 86400.0, 13);
        assert_eq!(t[1], 60.0 * 86400.0);
        assert!(t.len() <= 13);
        let labels: Vec<String> = t.iter().map(|&v| time_label(v, 366.0 * 86400.0)).collect();
        assert_eq!(labels[..3], ["0d", "60d", "120d"]);
        assert_eq!(time_label(1.5 * 86400.0, 30.0 * 86400.0), "1d 12h");
        assert_eq!(time_label(5400.0, 86400.0), "01:30", "a day keeps hh:mm");
        assert_eq!((time_unit(86400.0), time_unit(366.0 * 86400.0)), ("hh:mm", "days"));
    }

    #[test]
    fn si_labels_read_like_a_dashboard() {
        assert_eq!(si(0.0), "0");
        assert_eq!(si(950.0), "950");
        assert_eq!(si(1000.0), "1k");
        assert_eq!(si(1500.0), "1.5k");
        assert_eq!(si(33_500.0), "33.5k");
        assert_eq!(si(2_000_000.0), "2M");
        assert_eq!(si(451_180_132.0), "451M");
        assert_eq!(si(1.25e9), "1.25G");
        assert_eq!(si(0.5), "0.5");
        assert_eq!(si(0.01), "0.01");
        assert_eq!(si(-2500.0), "-2.5k");
    }

    #[test]
    fn durations_and_dates_read_naturally() {
        assert_eq!(duration_label(0.25), "250ms");
        assert_eq!(duration_label(10.0), "10s");
        assert_eq!(duration_label(60.0), "1m");
        assert_eq!(duration_label(90.0), "1m30s");
        assert_eq!(duration_label(3600.0), "1h");
        assert_eq!(duration_label(5400.0), "1h30m");
        assert_eq!(duration_label(3.0 * 86400.0), "3d");
        assert_eq!(utc(1_704_067_200), "2024-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400 + 3661), "2000-02-29 01:01:01 UTC");
    }

    #[test]
    fn linear_ticks_are_round_and_cover_the_maximum() {
        assert_eq!(linear_ticks(33_500.0, 6), vec![0.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0]);
        assert_eq!(linear_ticks(1.0, 6), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        let t = linear_ticks(51.0, 6);
        assert!(t.len() <= 6 && *t.last().unwrap() >= 51.0, "{t:?}");
        assert_eq!(linear_ticks(0.0, 6), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
    }

    #[test]
    fn duration_ticks_are_round_clock_steps() {
        assert_eq!(linear_duration_ticks(9000.0, 6), vec![0.0, 1800.0, 3600.0, 5400.0, 7200.0, 9000.0]);
        assert_eq!(linear_duration_ticks(100.0, 6), vec![0.0, 30.0, 60.0, 90.0, 120.0]);
        assert_eq!(linear_duration_ticks(0.5, 6), vec![0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5]);
    }

    #[test]
    fn log_ticks_pick_decades_or_1_2_5() {
        assert_eq!(log_ticks(1.0, 1e6), vec![1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6]);
        assert_eq!(log_ticks(1.0, 100.0), vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]);
        assert_eq!(log_duration_ticks(0.1, 14_400.0), vec![0.1, 1.0, 10.0, 60.0, 600.0, 3600.0]);
    }
}
