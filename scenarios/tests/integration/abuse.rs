//! Absurd but valid-looking scenarios from the fuzzing and abuse audit (issue 15): each is
//! refused up front with the source of its cost, or runs in bounded time and memory. The
//! ones that finish but are too slow for a debug build are measured with `rwsim run` (see
//! the commit messages), not here.

use scenarios::load_str;

/// Loads `text`, expecting a refusal; returns the error as the user sees it.
fn refused(text: &str) -> String {
    match load_str(text, "abuse.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_year_of_a_hundred_thousand_shards_is_refused_for_its_flush_timers() {
    // Ran 10 minutes, then stopped at the event cap.
    let e = refused(
        "duration = \"366d\"\n[workload]\nseries = 1000\ntargets = 10\n\
         [remote_write.queue_config]\nmin_shards = 100000\nmax_shards = 100000\n",
    );
    assert!(e.starts_with("abuse.toml:6:14: remote_write.queue_config.min_shards: this scenario needs about"), "{e}");
    assert!(e.contains("more than the budget of 1e9 (simulation.max_events)"), "{e}");
    assert!(e.contains("the largest part is shard flush timers"), "{e}");
    assert!(e.contains("use fewer shards, a longer batch_send_deadline or a shorter run"), "{e}");
}

#[test]
fn a_year_of_a_one_millisecond_crash_loop_is_refused_for_its_crashes() {
    // Took 57 s and 4 GB, and wrote 1.7 GB of JSON.
    let e = refused(
        "prometheus = \"3.x\"\nduration = \"366d\"\n[workload]\nseries = 1000\ntargets = 10\n\
         [receiver]\nmemory_base = \"7999MiB\"\nmemory_per_inflight_sample = 1000000\n\
         [[receiver.incident]]\nkind = \"oom\"\nmemory_limit = \"8000MiB\"\ncrash_at = \"1m\"\n\
         restart_time = \"0s\"\nreplay_time = \"0s\"\nbackoff_initial = \"1ms\"\nbackoff_max = \"1ms\"\n",
    );
    assert!(e.starts_with("abuse.toml:15:19: receiver.incident[0].backoff_initial:"), "{e}");
    assert!(e.contains("the largest part is receiver crashes (an OOM crash loop)"), "{e}");
}

#[test]
fn ten_million_targets_every_millisecond_for_a_year_is_refused_for_its_sends() {
    let e = refused(
        "duration = \"366d\"\n[workload]\nseries = 10_000_000\ntargets = 10_000_000\nscrape_interval = \"1ms\"\n",
    );
    assert!(e.contains("remote_write.queue_config.max_samples_per_send: this scenario needs about"), "{e}");
    assert!(e.contains("the largest part is sends"), "{e}");
    assert!(e.contains("`max_samples_per_send` is not set in this file, so this is its default"), "{e}");
}

#[test]
fn a_crash_loop_keeps_ten_thousand_incident_windows_and_counts_the_rest() {
    // A day of a receiver crash-looping every few seconds: about 35,000 down and replay
    // windows. The result keeps the first 10,000 and says how many it left out.
    let text = "prometheus = \"3.x\"\nduration = \"1d\"\n[workload]\nseries = 1000\ntargets = 10\n\
         [receiver]\nmemory_base = \"7999MiB\"\nmemory_per_inflight_sample = 1000000\n\
         [[receiver.incident]]\nkind = \"oom\"\nmemory_limit = \"8000MiB\"\ncrash_at = \"1m\"\n\
         restart_time = \"0s\"\nreplay_time = \"0s\"\nbackoff_initial = \"1ms\"\nbackoff_max = \"1ms\"\n";
    let sc = load_str(text, "loop.toml").unwrap();
    let r = sim_core::simulate(&sc.config, &mut ()).unwrap();
    assert!(r.conservation_ok);
    let crashes = u64::from(r.receiver.crashes);
    assert!(crashes > 5_000, "{crashes} crashes");
    assert_eq!(r.incident_windows.len(), 10_000);
    // One window for the incident itself, a down and a replay window per crash.
    assert_eq!(r.incident_windows_omitted, 1 + 2 * crashes - 10_000);
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains(&format!("\"incident_windows_omitted\":{}", r.incident_windows_omitted)));
}

#[test]
fn ten_thousand_fault_windows_load_and_answer_by_time() {
    // 10,000 one-millisecond windows 7 s apart over 21 hours of a small workload: every
    // window that a send meets answers 503, the others pass.
    let mut text = String::from("duration = \"21h\"\n[workload]\nseries = 1000\ntargets = 10\n");
    for i in 0..10_000u64 {
        let start = 3_600_000 + i * 7_000;
        text += &format!("[[receiver.fault]]\nstart = \"{start}ms\"\nend = \"{}ms\"\nstatus = 503\n", start + 1);
    }
    let sc = load_str(&text, "faults.toml").unwrap();
    let r = sim_core::simulate(&sc.config, &mut ()).unwrap();
    assert!(r.conservation_ok);
    assert_eq!(r.incident_windows.len(), 10_000);
    assert_eq!(r.samples.failed, 0, "a 503 is retried");
}

#[test]
fn a_sender_oom_loop_keeps_ten_thousand_windows_and_counts_the_rest() {
    // A sender whose memory limit is below what it needs to start is killed again after
    // every start: two windows (down, replay) per kill.
    let text = "prometheus = \"3.x\"\nduration = \"2d\"\n[workload]\nseries = 1000\ntargets = 10\n\
         [[sender.event]]\nat = \"1m\"\nkind = \"oom\"\nmemory_limit = \"1KiB\"\nbackoff_initial = \"1s\"\nbackoff_max = \"1s\"\n";
    let sc = load_str(text, "sender-loop.toml").unwrap();
    let r = sim_core::simulate(&sc.config, &mut ()).unwrap();
    assert!(r.conservation_ok);
    assert!(r.sender.oom_kills > 6_000, "{} kills", r.sender.oom_kills);
    assert_eq!(r.incident_windows.len(), 10_000);
    assert!(r.incident_windows_omitted > 2_000, "{}", r.incident_windows_omitted);
}
