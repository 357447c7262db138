//! The `[sweep]` table and overrides: values applied before validation, errors located.

use scenarios::sweep::{AxisOrigin, Grid, Override, SetBy, SweepKey, parse_values};
use scenarios::{Source, load_str};

const BASE: &str =
    "duration = \"2h\"\n[workload]\nseries = 1000\n[[receiver.fault]]\nstart = \"1h\"\nend = \"70m\"\nstatus = 503\n";

/// `KEY=VALUE` as a point of a sweep sets it.
fn set(s: &str) -> Override {
    Override { by: SetBy::Sweep, ..Override::from_flag(s).unwrap_or_else(|e| panic!("{e}")) }
}

#[test]
fn sweep_table_accepts_arrays_ranges_and_single_values_in_file_order() {
    let text = format!(
        "{BASE}[sweep]\n\"remote_write.queue_config.max_shards\" = \"10..30:10\"\n\"receiver.fault[0].length\" = [\"5m\", \"10m\"]\n\"receiver.rate_limit\" = 2.5\n"
    );
    let s = load_str(&text, "s.toml").unwrap();
    let keys: Vec<&str> = s.sweep.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        ["remote_write.queue_config.max_shards", "receiver.fault[0].length", "receiver.rate_limit"],
        "file order, not alphabetical"
    );
    assert_eq!(s.sweep[0].origin, AxisOrigin::File { line: 9, column: 42 });
    assert_eq!(Grid::new(&s.sweep, vec![]).unwrap().len(), 6);
    assert_eq!(s.config.remote_write.queue.max_shards, 50, "the scenario itself is the file as written");
}

#[test]
fn sweep_table_errors_point_at_the_entry() {
    let bad = |entry: &str| load_str(&format!("{BASE}[sweep]\n{entry}\n"), "s.toml").unwrap_err().to_string();
    assert_eq!(
        bad("\"remote_write.queue_config.capasity\" = [1, 2]"),
        "s.toml:9:40: sweep.\"remote_write.queue_config.capasity\": unknown scenario key; did you mean `remote_write.queue_config.capacity`?"
    );
    assert_eq!(
        bad("\"duration\" = [\"1h\", 2]"),
        "s.toml:9:21: sweep.\"duration\": invalid duration \"2\": the unit is missing; expected a number with a unit (ms, s, m, h, d), e.g. \"30s\""
    );
    assert!(bad("\"duration\" = []").contains("no values"));
    assert!(bad("\"duration\" = { a = 1 }").contains("expected an array of values"));
    assert!(bad("\"duration\" = [\"1h\", \"1h\"]").contains("listed twice"));
}

#[test]
fn overrides_are_validated_like_the_file() {
    let src = Source::from_text(BASE, "b.toml");
    // A table the file does not have is created.
    let s = src.load_with(&[set("remote_write.queue_config.capacity=123")]).unwrap();
    assert_eq!(s.config.remote_write.queue.capacity, 123);
    // Relations are checked after the override, and the message says where the value came from.
    let e = src.load_with(&[set("remote_write.queue_config.min_shards=60")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "b.toml:1:1: remote_write.queue_config.min_shards: min_shards (60) exceeds max_shards (50); the sweep sets it to 60"
    );
    // Out of the field's range: the deserializer's error, attributed to the key.
    let e = src.load_with(&[set("remote_write.queue_config.capacity=5000000000")]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("b.toml:1:1: remote_write.queue_config.capacity: expected an integer from 1 to 1,000,000,000"),
        "{e}"
    );
    assert!(e.to_string().ends_with("the sweep sets it to 5000000000"), "{e}");
    // `length` follows a swept `start`.
    let s = src.load_with(&[set("receiver.fault[0].length=15m"), set("receiver.fault[0].start=30m")]).unwrap();
    assert_eq!(s.config.receiver.faults[0].end.to_string(), "45m");
    // A latency parameter without a distribution is refused, naming the table.
    let e = src.load_with(&[set("receiver.fault[0].latency.median=5ms")]).unwrap_err();
    assert!(e.to_string().contains("receiver.fault[0].latency.distribution: required key is missing"), "{e}");
}

#[test]
fn every_sweepable_duration_key_round_trips_its_values() {
    let k = SweepKey::parse("remote_write.queue_config.batch_send_deadline").unwrap();
    for v in parse_values(&k, "250ms..10s:1250ms").unwrap() {
        let s = Source::from_text(BASE, "b.toml")
            .load_with(&[Override { key: k.clone(), value: v, by: SetBy::Sweep }])
            .unwrap();
        assert_eq!(scenarios::units::format_duration(s.config.remote_write.queue.batch_send_deadline), v.to_string());
    }
}

#[test]
fn agent_and_alloy_durations_are_sweepable() {
    use sim_core::config::SenderMode;
    let agent = Source::from_text(format!("{BASE}[sender]\nmode = \"agent\"\n"), "a.toml");
    let s = agent.load_with(&[set("sender.agent.retention_max_time=100h")]).unwrap();
    let SenderMode::Agent(a) = s.config.sender.mode else { panic!("agent") };
    assert_eq!(a.retention_max_time.to_string(), "100h");
    let alloy = Source::from_text(format!("{BASE}[sender]\nmode = \"alloy\"\n"), "a.toml");
    let e = alloy.load_with(&[set("sender.alloy.max_keepalive_time=1m")]).unwrap_err();
    assert!(e.to_string().contains("min_keepalive_time must be smaller than max_keepalive_time"), "{e}");
    assert!(e.to_string().ends_with("the sweep sets it to 1m"), "{e}");
    // The other sender's table is refused, even when a sweep creates it.
    let e = agent.load_with(&[set("sender.alloy.truncate_frequency=1h")]).unwrap_err();
    assert!(e.to_string().contains("applies only with mode = \"alloy\""), "{e}");
    let e = SweepKey::parse("sender.mode").unwrap_err();
    assert!(e.message.contains("one scenario file per sender"), "{e}");
}

#[test]
fn a_prepared_source_loads_points_like_the_file() {
    // Same configuration, same errors as load_with, from one parse.
    let src = Source::from_text(format!("{BASE}[sweep]\n\"receiver.fault[0].length\" = [\"5m\", \"2h\"]\n"), "p.toml");
    let prepared = src.prepare().unwrap();
    let ok = [set("receiver.fault[0].length=30m"), set("remote_write.queue_config.capacity=2500")];
    let (a, b) = (prepared.config_with(&ok).unwrap(), src.load_with(&ok).unwrap().config);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(a.remote_write.queue.capacity, 2500);
    let bad = [set("receiver.fault[0].length=2h")];
    assert_eq!(
        prepared.config_with(&bad).unwrap_err().to_string(),
        src.load_with(&bad).unwrap_err().to_string(),
        "the error points at the same place in the file"
    );
}

#[test]
fn a_sweep_list_of_a_hundred_thousand_values_loads_and_finds_its_repeat() {
    // The duplicate check compared every pair (minutes for 100k values); a repeat is still
    // reported as the first value listed twice.
    let values: Vec<String> = (1..=100_000u64).map(|n| n.to_string()).collect();
    let text = format!("{BASE}[sweep]\n\"remote_write.queue_config.capacity\" = [{}]\n", values.join(", "));
    let s = load_str(&text, "big.toml").unwrap();
    assert_eq!(Grid::new(&s.sweep, vec![]).unwrap().len(), 100_000);
    let text =
        format!("{BASE}[sweep]\n\"remote_write.queue_config.capacity\" = [{}, 7, 99999, 7]\n", values.join(", "));
    let e = load_str(&text, "big.toml").unwrap_err();
    assert!(e.message.contains("the value 7 is listed twice"), "{e}");
}

#[test]
fn a_grid_beyond_the_limit_is_refused_from_its_axes_alone() {
    // 1000 × 1000 × 1000 points: refused from the sizes, without listing a point.
    let text = format!(
        "{BASE}[sweep]\n\"remote_write.queue_config.capacity\" = \"1..1000:1\"\n\
         \"remote_write.queue_config.max_shards\" = \"1..1000:1\"\n\"sender.cpu_cores\" = \"1..1000:1\"\n"
    );
    let s = load_str(&text, "huge.toml").unwrap();
    let e = Grid::new(&s.sweep, vec![]).unwrap_err();
    assert!(e.message.contains("1000 × 1000 × 1000 = 1000000000"), "{e}");
}

#[test]
fn every_point_of_a_long_sweep_list_is_checked_from_one_parse() {
    // 20,000 listed capacities, one of them 0: loading each point re-read the whole list
    // (minutes); the prepared source checks them all and finds the bad one.
    let values: Vec<String> = (0..20_000u64).map(|n| if n == 12_345 { 0 } else { n + 1 }.to_string()).collect();
    let src = Source::from_text(
        format!("{BASE}[sweep]\n\"remote_write.queue_config.capacity\" = [{}]\n", values.join(", ")),
        "long.toml",
    );
    let grid = Grid::new(&src.load().unwrap().sweep, vec![]).unwrap();
    let prepared = src.prepare().unwrap();
    let bad: Vec<(u64, String)> = (0..grid.len())
        .filter_map(|i| prepared.config_with(&grid.point(i)).err().map(|e| (i, e.to_string())))
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, 12_345);
    assert!(bad[0].1.contains("remote_write.queue_config.capacity"), "{}", bad[0].1);
    assert!(bad[0].1.contains("the sweep sets it to 0"), "{}", bad[0].1);
}
