//! Same scenario + same seed ⇒ byte-identical output; another seed changes a stochastic run.

use crate::{rwsim, scenario, temp_dir};

fn run_to(dir: &std::path::Path, file: &std::path::Path, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let out = rwsim().arg("run").arg(file).arg("--json").arg("--out").arg(dir).args(extra).output().unwrap();
    assert!(out.status.success());
    (out.stdout, std::fs::read(dir.join("timeseries.csv")).unwrap())
}

#[test]
fn same_seed_gives_byte_identical_json_and_csv() {
    // A stochastic receiver (log-normal latency) and a fault with a probability.
    let file = scenario("rejects-400");
    let (json_a, csv_a) = run_to(&temp_dir("det-a"), &file, &[]);
    let (json_b, csv_b) = run_to(&temp_dir("det-b"), &file, &[]);
    assert_eq!(json_a, json_b);
    assert_eq!(csv_a, csv_b);
    let (json_c, csv_c) = run_to(&temp_dir("det-c"), &file, &["--seed", "7"]);
    assert_ne!(json_a, json_c, "another seed draws other latencies and other rejected requests");
    assert_ne!(csv_a, csv_c);
}
