#!/usr/bin/env python3
"""Fidelity harness for vmagent: the rwsim model against Debian 12's vmagent 1.79.5.

For a scenario tools/fidelity/scenarios/vmagent/vmagent-*.toml, `live` starts `rwsim target` (the
workload), `rwsim serve` (the receiver, faults in real time from its start) and vmagent
(`/usr/bin/vmagent`, from the `victoria-metrics` package) scraping the target and writing to
serve, with the scenario's `[vmagent]` flags; it enacts the scenario's `[[sender.event]]`
restarts (SIGTERM, then a new vmagent with the same -remoteWrite.tmpDataPath); it samples
vmagent's and serve's /metrics every second, writes a compact recording under
recordings/vmagent/, runs `rwsim run` on the same scenario and prints both side by side.
`offline` redoes the comparison from a recording.

    tools/fidelity/vmagent.py live [NAME ...] [--run-label run2]   # default: every vmagent-* scenario (~15 min)
    tools/fidelity/vmagent.py offline [NAME[@LABEL] ...]   # default: every recording in recordings/vmagent/
    tools/fidelity/vmagent.py table [NAME ...]     # markdown rows for docs/fidelity.md

Ports 19600 + 10*k (target +1, serve +2, vmagent +3). Python 3.11 standard library only;
the helpers (scenario loading, process start-up, /metrics fetching) are fidelity.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fidelity as fx  # noqa: E402

RECORDINGS = fx.RECORDINGS / "vmagent"
# A directory of their own: fidelity.py and calibrated.py take every *.toml of theirs to be a
# Prometheus 2.42 scenario.
SCENARIOS = fx.SCENARIOS / "vmagent"
VMAGENT = os.environ.get("VMAGENT", "/usr/bin/vmagent")
PORT_BASE = 19600
# vmagent's series per scrape besides the target's: up, scrape_duration_seconds,
# scrape_samples_scraped, scrape_samples_post_metric_relabeling, scrape_series_added.
AUTO_SERIES = 5

VM_KEEP = {
    "vmagent_remotewrite_retries_count_total": "retries",
    "vmagent_remotewrite_packets_dropped_total": "packets_dropped",
    "vmagent_remotewrite_blocks_sent_total": "blocks_sent",
    "vmagent_remotewrite_bytes_sent_total": "bytes_sent",
    "vmagent_remotewrite_pending_data_bytes": "pending_data_bytes",
    "vm_persistentqueue_bytes_pending": "pq_bytes_pending",
    "vm_persistentqueue_blocks_dropped_total": "pq_blocks_dropped",
    "vm_persistentqueue_bytes_dropped_total": "pq_bytes_dropped",
    "vm_persistentqueue_blocks_written_total": "pq_blocks_written",
    "vmagent_remotewrite_block_size_rows_sum": "rows_flushed",
    "vmagent_remotewrite_block_size_rows_count": "blocks_flushed",
    "vmagent_remotewrite_block_size_bytes_sum": "bytes_flushed",
}
SERVE_KEEP = {
    "rwsim_serve_samples_unique_total": "serve_unique",
    "rwsim_serve_samples_duplicate_total": "serve_duplicate",
    "rwsim_serve_highest_timestamp_seconds": "serve_highest_timestamp",
    'rwsim_serve_answer_seconds_count{class="2xx"}': "serve_2xx",
    'rwsim_serve_answer_seconds_count{class="5xx"}': "serve_5xx",
}


def scenario_of(name: str) -> str:
    """The scenario a recording plays: a recording NAME@LABEL is a further run of NAME."""
    return name.split("@", 1)[0]


def load_scenario(name: str) -> dict:
    with open(SCENARIOS / f"{scenario_of(name)}.toml", "rb") as f:
        sc = fx.tomllib.load(f)
    if sc.get("sender", {}).get("mode") != "vmagent":
        sys.exit(f"vmagent: {name}: not a vmagent scenario ([sender] mode = \"vmagent\")")
    return sc


def vm_metrics(text: str) -> dict:
    """vmagent's metrics, summed over label sets (one URL); requests by status code."""
    out = fx.parse_metrics(text, VM_KEEP)
    for line in text.splitlines():
        if line.startswith("vmagent_remotewrite_requests_total{"):
            code = line.split('status_code="', 1)[1].split('"', 1)[0]
            out[f"requests_{code}"] = out.get(f"requests_{code}", 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def flags(sc: dict, tmp: Path, ports: dict) -> list[str]:
    """vmagent's command line: the scrape config, the URL, and the scenario's [vmagent] flags."""
    v = sc.get("vmagent", {})
    out = [
        f"-promscrape.config={tmp / 'scrape.yml'}",
        f"-remoteWrite.url=http://127.0.0.1:{ports['serve']}/api/v1/push",
        f"-remoteWrite.tmpDataPath={tmp / 'vmagent-data'}",
        f"-httpListenAddr=127.0.0.1:{ports['vmagent']}",
        "-loggerLevel=INFO",
    ]
    for group in ("remoteWrite", "memory"):
        for k, val in v.get(group, {}).items():
            out.append(f"-{group}.{k}={val}")
    return out


def scrape_yml(sc: dict, ports: dict) -> str:
    w = sc["workload"]
    interval = w.get("scrape_interval", "1m")
    lines = ["global:", f"  scrape_interval: {interval}", "scrape_configs:", "  - job_name: rwsim",
             "    static_configs:"]
    for i in range(int(w.get("targets", 1))):
        lines += [f"      - targets: ['127.0.0.1:{ports['target']}']",
                  f"        labels: {{__metrics_path__: /metrics/{i}, rwsim_target: '{i}'}}"]
    return "\n".join(lines) + "\n"


def start_vmagent(sc: dict, tmp: Path, ports: dict, k: int) -> subprocess.Popen:
    log = open(tmp / f"vmagent-{k}.log", "wb")
    p = subprocess.Popen([VMAGENT, *flags(sc, tmp, ports)], stdout=log, stderr=log)
    fx.wait_http(f"http://127.0.0.1:{ports['vmagent']}/metrics", 30)
    return p


def live(name: str, rwsim: str, port_base: int, log=print) -> None:
    sc = load_scenario(name)
    duration = fx.parse_duration(sc["duration"])
    ports = {"target": port_base + 1, "serve": port_base + 2, "vmagent": port_base + 3}
    # The queue, serve's books and the logs go to a RAM disk when there is one: a full root
    # file system makes vmagent exit ("no space left on device"), as it did twice here.
    base = os.environ.get("VMAGENT_TMP", "/dev/shm" if Path("/dev/shm").is_dir() else None)
    tmp = Path(tempfile.mkdtemp(prefix=f"rwsim-vmagent-{name}-", dir=base))
    (tmp / "scrape.yml").write_text(scrape_yml(sc, ports))
    events = sorted(
        ((fx.parse_duration(e["at"]), fx.parse_duration(e.get("down_for", "10s")), e["kind"])
         for e in sc.get("sender", {}).get("event", [])),
    )
    procs: dict[str, subprocess.Popen] = {}

    def stop(p: subprocess.Popen | None) -> None:
        # Only a process still running is signalled (one that exited is left as it is).
        if p is not None and p.poll() is None:
            fx.stop_process(p, 30)

    try:
        w = sc["workload"]
        procs["target"] = subprocess.Popen(
            [rwsim, "target", "--series", str(w["series"]), "--targets", str(w.get("targets", 1)),
             "--listen", f"127.0.0.1:{ports['target']}"], stderr=open(tmp / "target.log", "wb"))
        fx.check_listening(fx.wait_line(procs["target"], tmp / "target.log", "rwsim target", 10), "rwsim target")
        (tmp / "scenario.toml").write_text(fx.without_fidelity((SCENARIOS / f"{scenario_of(name)}.toml").read_text()))
        procs["serve"] = subprocess.Popen(
            [rwsim, "serve", str(tmp / "scenario.toml"), "--listen", f"127.0.0.1:{ports['serve']}",
             "--out", str(tmp / "serve")], stderr=open(tmp / "serve.log", "wb"))
        fx.check_listening(fx.wait_line(procs["serve"], tmp / "serve.log", "rwsim serve", 10), "rwsim serve")
        t0 = time.time()
        starts = 1
        procs["vmagent"] = start_vmagent(sc, tmp, ports, starts)
        log(f"vmagent: {name}: up {time.time() - t0:.1f}s after serve; running {duration:.0f}s + drain")
        rows, k, end_at, down_until, pending = [], 0, None, None, list(events)
        vurl = f"http://127.0.0.1:{ports['vmagent']}/metrics"
        surl = f"http://127.0.0.1:{ports['serve']}/metrics"
        last_vm: dict = {}
        while True:
            k += 1
            time.sleep(max(0.0, t0 + k - time.time()))
            t = time.time() - t0
            if pending and t >= pending[0][0] and down_until is None:
                at, down_for, kind = pending.pop(0)
                p = procs["vmagent"]
                p.send_signal(signal.SIGTERM if kind == "restart" else signal.SIGKILL)
                p.wait(timeout=30)
                down_until = t + down_for
                log(f"vmagent: {name}: {kind} at {t:.1f}s, down until {down_until:.1f}s")
            if down_until is not None and t >= down_until:
                starts += 1
                procs["vmagent"] = start_vmagent(sc, tmp, ports, starts)
                down_until = None
            row = {"t": round(t, 3), "vmagent_up": int(down_until is None)}
            try:
                row.update(fx.parse_metrics(fx.fetch(surl), SERVE_KEEP))
                if down_until is None:
                    last_vm = vm_metrics(fx.fetch(vurl))
                row.update({f"vm_{k_}": v for k_, v in last_vm.items()})
            except Exception as e:  # a slow scrape is a gap, not a failure
                log(f"vmagent: {name}: t={t:.0f}s: metrics unavailable ({e})")
                continue
            rows.append(row)
            if t >= duration and end_at is None:
                end_at = t
            if end_at is not None:
                behind = time.time() - row.get("serve_highest_timestamp", 0)
                if (behind < 5 and t >= duration + 10) or t >= duration + 240:
                    break
        scrapes = fx.fetch(f"http://127.0.0.1:{ports['target']}/scrapes.csv")
        for key in ("vmagent", "serve", "target"):
            stop(procs.pop(key))
        by_ts = (tmp / "serve" / "serve_timestamps.csv").read_text()
        pkg = subprocess.run(["dpkg-query", "-W", "victoria-metrics"], capture_output=True, text=True).stdout.split()
        per_scrape = int(w["series"]) // int(w.get("targets", 1)) + AUTO_SERIES
        meta = {
            "scenario": name,
            "vmagent": f"vmagent (Debian victoria-metrics {pkg[1]})" if len(pkg) > 1 else "vmagent (version unknown)",
            "serve_start_unix_ms": int(t0 * 1000),
            "duration_s": duration,
            "samples_per_scrape": per_scrape,
            "scrapes_by_second": {},
            "stored_unique_by_second": {},
            "rows": rows,
            "host": {"nproc": os.cpu_count(), "loadavg": Path("/proc/loadavg").read_text().split()[:3],
                     "recorded_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))},
        }
        for line in by_ts.splitlines()[1:]:
            s, n = line.split(",")
            meta["stored_unique_by_second"][s] = int(n)
        for line in scrapes.splitlines()[1:]:
            s = str(int(line.split(",")[1]) // 1000)
            meta["scrapes_by_second"][s] = meta["scrapes_by_second"].get(s, 0) + 1
        RECORDINGS.mkdir(parents=True, exist_ok=True)
        (RECORDINGS / f"{name}.json").write_text(json.dumps(meta, sort_keys=True) + "\n")
        log(f"vmagent: {name}: recorded {len(rows)} rows into {RECORDINGS / (name + '.json')}")
    finally:
        for p in procs.values():
            stop(p)
        if os.environ.get("FIDELITY_KEEP"):
            log(f"vmagent: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def real_losses(meta: dict, cut_s: float, scrapes_per_s: float) -> tuple[int, list[int]]:
    """Samples lost, and the seconds (since serve's start) that miss some, up to `cut_s`
    (later data may still be in flight): scraped but never stored, plus the scrapes that
    never happened while vmagent was down (seconds with fewer scrapes than the interval
    gives, counted over the whole span)."""
    t0 = meta["serve_start_unix_ms"] / 1000
    per = meta["samples_per_scrape"]
    secs = sorted(int(s) for s in meta["scrapes_by_second"] if int(s) - t0 <= cut_s)
    lost, seconds = 0, []
    if secs:
        span = secs[-1] - secs[0] + 1
        done = sum(meta["scrapes_by_second"][str(s)] for s in secs)
        lost += max(0, round(span * scrapes_per_s) - done) * per
        seconds += [round(s - t0) for s in range(secs[0], secs[-1] + 1) if str(s) not in meta["scrapes_by_second"]]
    for s, n in meta["scrapes_by_second"].items():
        rel = int(s) - t0
        if rel > cut_s:
            continue
        miss = n * per - meta["stored_unique_by_second"].get(s, 0)
        if miss > 0:
            lost += miss
            seconds.append(round(rel))
    return lost, sorted(set(seconds))


def model(name: str, rwsim: str) -> tuple[dict, list[dict]]:
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run([rwsim, "run", str(SCENARIOS / f"{scenario_of(name)}.toml"), "--literal", "--json",
                              "--out", d], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"vmagent: {name}: {rwsim} run failed: {out.stderr.strip()}")
        rows = list(fx.csv.DictReader(open(Path(d) / "timeseries.csv")))
    return json.loads(out.stdout), [{k: float(v) for k, v in r.items()} for r in rows]


def first_after(rows: list[dict], t_col: str, col: str, after: float) -> float | None:
    """The first time after `after` at which `col` increases."""
    prev = None
    for r in rows:
        if r[t_col] < after or col not in r:
            prev = r.get(col, prev)
            continue
        if prev is not None and r[col] > prev:
            return r[t_col]
        prev = r[col]
    return None


def compare(name: str, rwsim: str) -> list[tuple[str, str, str, str]]:
    meta = json.loads((RECORDINGS / f"{name}.json").read_text())
    sc = load_scenario(name)
    summary, mrows = model(name, rwsim)
    real = meta["rows"]
    duration = meta["duration_s"]
    fault_end = max(fx.parse_duration(f["end"]) for f in sc["receiver"]["fault"])
    out = []
    r_first = first_after(real, "t", "serve_2xx", fault_end)
    m_first = first_after(mrows, "t_seconds", "responses_2xx_total", fault_end)
    out.append(("first 2xx after the fault ends (s after its end)", fx.fmt_opt(r_first and r_first - fault_end),
                fx.fmt_opt(m_first and m_first - fault_end), "retry timing"))
    cut = duration - 15
    w = sc["workload"]
    lost, seconds = real_losses(meta, cut, int(w.get("targets", 1)) / fx.parse_duration(w.get("scrape_interval", "1m")))
    gaps = summary["gaps"]["list"]
    m_lost = summary["samples"]["failed"] + sum(summary["samples"]["dropped"].values()) + summary["samples"]["not_scraped"]
    out.append(("samples lost", str(lost), str(m_lost), "all reasons"))
    r_range = f"{seconds[0]}–{seconds[-1]} s ({len(seconds)} s short)" if seconds else "-"
    m_range = "; ".join(f"{g['from_seconds']:.0f}–{g['to_seconds']:.0f} s {g['reason']}" for g in gaps) or "-"
    out.append(("lost timestamps", r_range, m_range, "which data"))
    last = real[-1]
    mlast = {k: v for k, v in mrows[-1].items()}
    at_end = lambda rows, tc, col, t: next((r.get(col) for r in reversed(rows) if r[tc] <= t and col in r), None)  # noqa: E731
    for label, rcol, mcol in (
        ("vm_persistentqueue_blocks_dropped_total", "vm_pq_blocks_dropped", "vm_persistentqueue_blocks_dropped_total"),
        ("vmagent_remotewrite_retries_count_total at the fault's end", "vm_retries", "vmagent_remotewrite_retries_count_total"),
    ):
        t = fault_end if "fault" in label else duration
        rv = at_end(real, "t", rcol, t)
        mv = at_end(mrows, "t_seconds", mcol, t)
        out.append((label, fx.fmt_opt(rv), fx.fmt_opt(mv), "vmagent's counter"))
    # Catch-up: receiver's newest timestamp within 5 s of the clock, after the fault.
    t0 = meta["serve_start_unix_ms"] / 1000
    r_cu = next((r["t"] for r in real if r["t"] >= fault_end and r.get("serve_highest_timestamp", 0) >= t0 + r["t"] - 5), None)
    m_cu = next((r["t_seconds"] for r in mrows if r["t_seconds"] >= fault_end and r["lag_seconds"] < 5), None)
    out.append(("caught up (lag < 5 s), s after the fault ends", fx.fmt_opt(r_cu and r_cu - fault_end),
                fx.fmt_opt(m_cu and m_cu - fault_end), "catch-up"))
    bytes_flushed, rows_flushed = last.get("vm_bytes_flushed"), last.get("vm_rows_flushed")
    if bytes_flushed and rows_flushed:
        out.append(("compressed bytes per sample (real: block_size_bytes / block_size_rows)",
                    f"{bytes_flushed / rows_flushed:.2f}",
                    f"{float(sc['workload'].get('wire_bytes_per_sample', 19.3)):.2f}", "input"))
    del mlast
    return out


def table(name: str, rows: list[tuple[str, str, str, str]]) -> str:
    meta = json.loads((RECORDINGS / f"{name}.json").read_text())
    lines = [f"**{name}** ({meta['vmagent']}, recorded {meta['host']['recorded_utc']}, load {meta['host']['loadavg'][0]})", "",
             "| metric | vmagent 1.79.5 | rwsim | what |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["live", "offline", "table"])
    ap.add_argument("names", nargs="*")
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", fx.ROOT / "target"))
    ap.add_argument("--rwsim", default=str(target_dir / "release" / "rwsim"))
    ap.add_argument("--port-base", type=int, default=PORT_BASE)
    ap.add_argument("--run-label", help="live: record as NAME@LABEL (a further run of the scenario NAME)")
    a = ap.parse_args()
    if a.mode == "live":
        names = a.names or sorted(p.stem for p in SCENARIOS.glob("vmagent-*.toml"))
    else:
        names = a.names or sorted(p.stem for p in RECORDINGS.glob("vmagent-*.json"))
    for i, name in enumerate(names):
        if a.mode == "live":
            if a.run_label:
                name = f"{name}@{a.run_label}"
            live(name, a.rwsim, a.port_base + 10 * (i % 10))
        rows = compare(name, a.rwsim)
        print(table(name, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
