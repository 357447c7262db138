//! The bundled scenarios load, validate and match the files on disk.

use scenarios::{library, load_builtin};

#[test]
fn every_bundled_scenario_loads_and_validates() {
    assert!(!library().is_empty());
    for b in library() {
        let s = load_builtin(b.name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.name, b.name);
        assert_eq!(s.origin, format!("<builtin:{}>", b.name));
        assert!(s.description.as_deref().is_some_and(|d| !d.is_empty()), "{}: needs a description", b.name);
        assert!(b.source.starts_with(&format!("# {} — ", b.name)), "{}: header comment must come first", b.name);
        s.config.validate().unwrap();
    }
}

#[test]
fn library_is_sorted_and_lists_every_file() {
    let names: Vec<&str> = library().iter().map(|b| b.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.path().file_name()?.to_str()?.strip_suffix(".toml").map(str::to_string))
        .collect();
    on_disk.sort_unstable();
    assert_eq!(names, on_disk, "every library/*.toml must be listed in library.rs");
}

#[test]
fn library_scenarios_model_what_their_names_say() {
    let get = |n: &str| load_builtin(n).unwrap().config;
    let d = get("default");
    assert_eq!((d.workload.series, d.workload.targets), (100_000, 100));
    assert!(d.receiver.faults.is_empty());

    let w = get("outage-wal-loss");
    let f = &w.receiver.faults[0];
    assert_eq!(f.end.saturating_sub(f.start), sim_core::time::SimDuration::from_hours(4));

    let slow = get("slow-receiver");
    assert_eq!(slow.remote_write.queue.max_shards, 5);

    let t = get("throttled-429");
    let rate = t.receiver.rate_limit.as_ref().unwrap().samples_per_second;
    let input = t.peak_samples_per_interval() as f64 / t.workload.scrape_interval.as_secs_f64();
    assert!(rate < input, "the limit {rate} must be below the input {input:.0}/s");
    assert!(!t.remote_write.queue.retry_on_http_429);

    let r = get("rejects-400");
    assert_eq!(r.receiver.faults[0].end, r.duration, "covers the whole run");

    use sim_core::config::{AgentWal, AlloyWal, SenderMode};
    assert_eq!(get("agent-outage").sender.mode, SenderMode::Agent(AgentWal::default()), "the default flags");
    let a = get("alloy-outage");
    assert_eq!(a.sender.mode, SenderMode::Alloy(AlloyWal::default()), "the default wal block");
    assert!(a.remote_write.queue.retry_on_http_429, "Alloy's queue defaults");

    let b = get("bench-1m-24h");
    assert_eq!(b.workload.series, 1_000_000);
    assert_eq!(b.remote_write.queue, sim_core::config::QueueConfig::defaults(sim_core::profile::Profile::V3));
}
