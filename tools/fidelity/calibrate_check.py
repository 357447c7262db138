#!/usr/bin/env python3
"""Live check of `rwsim calibrate` against Debian's Prometheus 2.42 (issue #11).

Starts `rwsim target` (2000 series), `rwsim serve` (a receiver with a log-normal latency)
and two Prometheus 2.42 servers scraping the target every second and writing to serve with
a non-default queue_config: A scrapes itself (calibrate reads its history with PromQL), B
does not (calibrate samples its /metrics for the window). After about 90 s it has calibrated
both, and checks the scenarios against the configuration and against the harness's own
measurements:

- `prometheus = "2.42"` (from /api/v1/status/buildinfo), `scrape_interval = "1s"`, every
  queue_config key as configured, `remote_timeout`;
- `workload.series` within 1 % of the series one scrape of every target returns (the
  target's 2000, plus, for A, the sample lines of Prometheus's own /metrics);
- `tsdb.wal_bytes_per_sample` and `workload.wire_bytes_per_sample` within 15 % of the
  fidelity harness's definitions: bytes ever written to WAL segment files (largest size seen
  of each) ÷ samples_in_total, and bytes_total ÷ (samples_total − samples_retried_total);
- `--from` on the saved answers gives the same scenario.

    tools/fidelity/calibrate_check.py [--rwsim PATH] [--prometheus PATH] [--keep]

Ports 19301-19304 (the calibrate helper's range). Python 3.11 standard library only; the
helpers and the WAL definition come from fidelity.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fidelity import ROOT, fetch, parse_metrics, stop_processes, wait_http, wal_bytes  # noqa: E402

PORTS = {"target": 19301, "serve": 19302, "a": 19303, "b": 19304}
SERIES = 2000
QUEUE = {"capacity": 5000, "max_shards": 7, "min_shards": 1, "max_samples_per_send": 1000,
         "batch_send_deadline": "1m30s", "min_backoff": "50ms", "max_backoff": "2s"}
REMOTE_TIMEOUT = "20s"
RUN_S = 90
SAMPLED_FROM_S = 25
TOLERANCE = 0.15

RECEIVER = """prometheus = "2.42"
duration = "1h"
[workload]
series = 1
[receiver]
latency = { distribution = "lognormal", median = "20ms", p99 = "60ms" }
"""


def prometheus_yml(self_scrape: bool, port: int) -> str:
    jobs = [f"  - job_name: rwsim\n    static_configs:\n      - targets: ['127.0.0.1:{PORTS['target']}']\n"]
    if self_scrape:
        jobs.insert(0, f"  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
    queue = "".join(f"      {k}: {v}\n" for k, v in QUEUE.items())
    return ("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  external_labels: {check: calibrate}\n"
            "scrape_configs:\n" + "".join(jobs) +
            f"remote_write:\n  - url: http://127.0.0.1:{PORTS['serve']}/api/v1/push\n    name: receiver\n"
            f"    remote_timeout: {REMOTE_TIMEOUT}\n    metadata_config:\n      send: false\n"
            f"    queue_config:\n{queue}")


def harness_bytes(base: str, wal: Path, seen: dict) -> tuple[float, float, int]:
    """The fidelity harness's WAL and wire bytes per sample, and the /metrics sample lines."""
    page = fetch(f"{base}/metrics", 5.0)
    m = parse_metrics(page, {
        "prometheus_remote_storage_samples_in_total": "in",
        "prometheus_remote_storage_bytes_total": "bytes",
        "prometheus_remote_storage_samples_total": "total",
        "prometheus_remote_storage_samples_retried_total": "retried",
    })
    lines = sum(1 for l in page.splitlines() if l and not l.startswith("#"))
    walb = wal_bytes(wal, seen) / max(1.0, m.get("in", 0))
    wire = m.get("bytes", 0) / max(1.0, m.get("total", 0) - m.get("retried", 0))
    return walb, wire, lines


def check_scenario(name: str, path: Path, truth_series: float, walb: float, wire: float) -> list[str]:
    sc = tomllib.loads(path.read_text())
    bad = []

    def want(what, got, expected):
        ok = got == expected
        print(f"  {name}: {what:<34} {str(got):>12}  expected {expected}  {'ok' if ok else 'WRONG'}")
        if not ok:
            bad.append(f"{name}: {what} is {got}, expected {expected}")

    def near(what, got, expected, tol):
        ok = abs(got - expected) <= tol * expected
        print(f"  {name}: {what:<34} {got:>12.2f}  harness {expected:.2f} (±{tol:.0%})  {'ok' if ok else 'OUT OF TOLERANCE'}")
        if not ok:
            bad.append(f"{name}: {what} is {got:.2f}, the harness measured {expected:.2f} (tolerance {tol:.0%})")

    want("prometheus", sc["prometheus"], "2.42")
    want("workload.scrape_interval", sc["workload"]["scrape_interval"], "1s")
    want("remote_write.remote_timeout", sc["remote_write"]["remote_timeout"], REMOTE_TIMEOUT)
    for k, v in QUEUE.items():
        want(f"queue_config.{k}", sc["remote_write"]["queue_config"][k], v)
    near("workload.series", sc["workload"]["series"], truth_series, 0.01)
    near("tsdb.wal_bytes_per_sample", sc["tsdb"]["wal_bytes_per_sample"], walb, TOLERANCE)
    near("workload.wire_bytes_per_sample", sc["workload"]["wire_bytes_per_sample"], wire, TOLERANCE)
    return bad


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    ap.add_argument("--rwsim", default=str(target_dir / "release" / "rwsim"))
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    if not Path(a.rwsim).exists():
        sys.exit(f"calibrate_check: {a.rwsim} not found: build it (cargo build --release) or pass --rwsim")
    tmp = Path(tempfile.mkdtemp(prefix="rwsim-calibrate-check-"))
    procs: list[subprocess.Popen] = []
    bad: list[str] = []

    def start(cmd, log):
        p = subprocess.Popen(cmd, stdout=open(tmp / log, "wb"), stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        (tmp / "receiver.toml").write_text(RECEIVER)
        start([a.rwsim, "target", "--series", str(SERIES), "--listen", f"127.0.0.1:{PORTS['target']}"], "target.log")
        start([a.rwsim, "serve", str(tmp / "receiver.toml"), "--listen", f"127.0.0.1:{PORTS['serve']}",
               "--out", str(tmp / "serve")], "serve.log")
        wait_http(f"http://127.0.0.1:{PORTS['target']}/metrics", 10)
        wait_http(f"http://127.0.0.1:{PORTS['serve']}/metrics", 10)
        for key, self_scrape in (("a", True), ("b", False)):
            d = tmp / key
            d.mkdir()
            (d / "prometheus.yml").write_text(prometheus_yml(self_scrape, PORTS[key]))
            start([a.prometheus, f"--config.file={d / 'prometheus.yml'}", f"--storage.tsdb.path={d / 'data'}",
                   f"--web.listen-address=127.0.0.1:{PORTS[key]}", "--log.level=warn"], f"prometheus-{key}.log")
        t0 = time.time()
        for key in ("a", "b"):
            wait_http(f"http://127.0.0.1:{PORTS[key]}/metrics", 30)
        print(f"calibrate_check: target, serve and two Prometheus 2.42 up; running {RUN_S}s (in {tmp})")
        time.sleep(max(0.0, t0 + SAMPLED_FROM_S - time.time()))
        # B does not scrape itself: calibrate samples its /metrics for the window.
        window_b = RUN_S - SAMPLED_FROM_S - 5
        cal_b = subprocess.Popen(
            [a.rwsim, "calibrate", "--prometheus", f"http://127.0.0.1:{PORTS['b']}", "--window", f"{window_b}s",
             "--out", str(tmp / "out-b"), "--save", str(tmp / "b.json"), "--check"],
            stdout=open(tmp / "calibrate-b.txt", "wb"), stderr=subprocess.STDOUT)
        procs.append(cal_b)
        cal_b.wait(timeout=window_b + 60)
        seen_b: dict = {}
        walb_b, wire_b, _ = harness_bytes(f"http://127.0.0.1:{PORTS['b']}", tmp / "b" / "data" / "wal", seen_b)
        time.sleep(max(0.0, t0 + RUN_S - time.time()))
        # A scrapes itself: calibrate reads its history (shorter than the 6h asked).
        seen_a: dict = {}
        walb_a, wire_a, lines = harness_bytes(f"http://127.0.0.1:{PORTS['a']}", tmp / "a" / "data" / "wal", seen_a)
        cal_a = subprocess.run(
            [a.rwsim, "calibrate", "--prometheus", f"http://127.0.0.1:{PORTS['a']}", "--out", str(tmp / "out-a"),
             "--save", str(tmp / "a.json"), "--check"], capture_output=True, text=True, timeout=120)
        (tmp / "calibrate-a.txt").write_text(cal_a.stdout + cal_a.stderr)
        print(f"calibrate_check: both calibrated after {time.time() - t0:.0f}s")
        for key, rc in (("a", cal_a.returncode), ("b", cal_b.returncode)):
            text = (tmp / f"calibrate-{key}.txt").read_text()
            check = text[text.find("--check:"):].split("\nNext:")[0] if "--check:" in text else "(no --check output)"
            print(f"\n  {key}: rwsim calibrate exited {rc}; {check.strip()}")
            if rc not in (0, 3):  # 3: --check found a mismatch (reported above, not a failure here)
                print(text)
                bad.append(f"{key}: rwsim calibrate failed with exit code {rc}")
        print()
        if not bad:
            # A's own metrics: the /metrics page it scrapes, plus its 5 report series.
            bad += check_scenario("A (PromQL)", tmp / "out-a" / "receiver.toml", SERIES + lines, walb_a, wire_a)
            bad += check_scenario("B (sampled)", tmp / "out-b" / "receiver.toml", SERIES, walb_b, wire_b)
            for key in ("a", "b"):
                again = tmp / f"again-{key}"
                subprocess.run([a.rwsim, "calibrate", "--from", str(tmp / f"{key}.json"), "--out", str(again)],
                               capture_output=True, check=False)
                same = (again / "receiver.toml").exists() and \
                    (again / "receiver.toml").read_text() == (tmp / f"out-{key}" / "receiver.toml").read_text()
                print(f"  {key}: --from the saved answers gives the same scenario: {'ok' if same else 'NO'}")
                if not same:
                    bad.append(f"{key}: --from {key}.json did not reproduce the scenario")
    finally:
        # Prometheus first, while serve still answers its final flush; then the rest.
        stop_processes(procs, 70)
        if a.keep or bad:
            print(f"calibrate_check: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if bad:
        print("\ncalibrate_check: FAILED:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    print("\ncalibrate_check: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
