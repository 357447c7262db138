#!/usr/bin/env python3
"""Fidelity harness for the sender's own life (issue #13): restarts, kills, reloads and agent
mode of a real Prometheus 2.42 against the rwsim model.

The scenarios are tools/fidelity/scenarios/lifecycle/*.toml, the recordings
tools/fidelity/recordings/lifecycle/NAME@LABEL.{csv,json} (kept apart from fidelity.py's, whose
comparison knows nothing of a Prometheus that stops). `live` runs a scenario as fidelity.py
does (rwsim target, rwsim serve playing the scenario's receiver, Prometheus 2.42 on a data
directory of its own, /metrics of both sampled every second), and plays each of the
scenario's `[[sender.event]]` on the real process at its `at`:

    restart   SIGTERM; wait for the exit (the remote-write flush, up to 2 x flush_deadline);
              start again `down_for` after the exit, on the same --storage.tsdb.path
    crash     SIGKILL; start again `down_for` later
    reload    rewrite prometheus.yml and POST /-/reload (--web.enable-lifecycle):
              change = "remote_write" sets queue_config.max_shards 199 (the entry's hash
              changes: the queue is recreated), "secret" changes basic_auth.password (the hash
              is the same: the queue is kept)

`[sender] mode = "agent"` runs `prometheus --enable-feature=agent` with `[tsdb]
wal_segment_size` and `[sender.agent] wal_truncate_frequency` / `retention_*` as the hidden
`--storage.agent.*` flags.

    tools/fidelity/lifecycle.py live NAME [--run-label run1]   # a few minutes each
    tools/fidelity/lifecycle.py offline [NAME ...]   # the model against every recording; exit 1 if out of tolerance
    tools/fidelity/lifecycle.py table [NAME ...]     # markdown for docs/fidelity.md
    tools/fidelity/lifecycle.py calibrate            # wal_replay_bytes_per_second, scrape_start_delay

Ports 19401-19403 (target, serve, Prometheus); --port-base to change. Python 3.11 standard
library only; the helpers come from fidelity.py.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fidelity import (  # noqa: E402
    HOST_COLUMNS, LOG_COUNT, PROM_KEEP, ROOT, SERVE_KEEP, TOL_SHARE_PP, check_listening, fetch, fmt, host_cpu,
    log_unix_ms, parse_duration, parse_metrics, proc_cpu_seconds, prometheus_flags, prometheus_yml, size_flag,
    stop_process, stop_processes, wait_line, wal_bytes, without_fidelity,
)

SCENARIOS = HERE / "scenarios" / "lifecycle"
RECORDINGS = HERE / "recordings" / "lifecycle"
PORT_BASE = 19400

# More of Prometheus's own series: the replay, the agent's truncations, the process and
# reload instants.
EXTRA_KEEP = {
    "prometheus_tsdb_data_replay_duration_seconds": "replay_duration_seconds",
    "prometheus_agent_data_replay_duration_seconds": "agent_replay_duration_seconds",
    "prometheus_agent_checkpoint_creations_total": "agent_checkpoint_creations_total",
    "prometheus_agent_checkpoint_deletions_total": "agent_checkpoint_deletions_total",
    "prometheus_agent_truncate_duration_seconds_count": "agent_truncations_total",
    "prometheus_agent_truncate_duration_seconds_sum": "agent_truncate_seconds_sum",
    "prometheus_agent_active_series": "agent_active_series",
    "prometheus_agent_samples_appended_total": "agent_samples_appended_total",
    "prometheus_tsdb_head_series": "head_series",
    "process_start_time_seconds": "process_start_time_seconds",
    "process_resident_memory_bytes": "process_resident_memory_bytes",
    "prometheus_config_last_reload_success_timestamp_seconds": "config_reload_timestamp",
}
KEEP = {**PROM_KEEP, **EXTRA_KEEP}
# gen: the Prometheus process (0 the first, 1 after the first restart ...); up: 1 while a
# process exists, 0 while it is down.
COLUMNS = (["t", "gen", "up"] + list(KEEP.values()) + list(SERVE_KEEP.values()) + HOST_COLUMNS
           + ["wal_bytes_on_disk", "wal_first_segment", "wal_last_segment"])
LOG_MAX = 800
# The loss shares the comparison holds to (issue #6's 5 percentage points), and instants
# (queue start, first scrape, stop) within 2 s: Prometheus's gauges and the target's
# phase are whole seconds.
TOL_T_S = 2.0


# ---------------------------------------------------------------- scenario


def load(name: str) -> tuple[dict, str]:
    path = SCENARIOS / f"{name.split('@', 1)[0]}.toml"
    text = path.read_text()
    sc = tomllib.loads(text)
    if sc.get("prometheus") != "2.42":
        sys.exit(f"lifecycle: {path}: the harness runs Debian's Prometheus 2.42; set prometheus = \"2.42\"")
    return sc, text


def drop_tables(text: str, drop) -> str:
    """The scenario text without the tables whose header `drop(header)` says."""
    out, skip = [], False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("["):
            skip = drop(s)
        if not skip:
            out.append(line)
    return "\n".join(out) + "\n"


def serve_text(text: str) -> str:
    """What serve plays: the scenario without the sender's tables (serve only plays the
    receiver, and an rwsim built before agent mode would refuse `mode = "agent"`)."""
    return drop_tables(text, lambda h: h.startswith("[sender") or h.startswith("[[sender") or h == "[fidelity]")


def mode(sc: dict) -> str:
    return sc.get("sender", {}).get("mode", "server")


def events(sc: dict) -> list[dict]:
    return list(sc.get("sender", {}).get("event", []))


def yml_for(sc: dict, ports: dict, reloaded: bool) -> str:
    """prometheus.yml: fidelity.py's, plus basic_auth where a reload changes a secret; after
    a reload, with the changed value."""
    text = prometheus_yml(sc, ports)
    changes = {e.get("change") for e in events(sc) if e["kind"] == "reload"}
    if "secret" in changes:
        text += "    basic_auth:\n      username: rwsim\n" + \
            f"      password: {'second-password' if reloaded else 'first-password'}\n"
    if "remote_write" in changes and reloaded:
        assert "queue_config:" not in text, "the scenario sets queue_config: change another key"
        text += "    queue_config:\n      max_shards: 199\n"
    return text


def flags_for(sc: dict, tmp: Path, ports: dict) -> list[str]:
    if mode(sc) == "agent":
        ag = sc.get("sender", {}).get("agent", {})
        tsdb = sc.get("tsdb", {})
        flags = [
            "--enable-feature=agent",
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.agent.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{ports['prometheus']}",
            "--log.level=info",
        ]
        if "wal_segment_size" in tsdb:
            flags.append(f"--storage.agent.wal-segment-size={size_flag(tsdb['wal_segment_size'])}")
        for key, flag in (("wal_truncate_frequency", "wal-truncate-frequency"),
                          ("retention_min_time", "retention.min-time"), ("retention_max_time", "retention.max-time")):
            if key in ag:
                flags.append(f"--storage.agent.{flag}={ag[key]}")
        fd = sc.get("sender", {}).get("flush_deadline")
        if fd:
            flags.append(f"--storage.remote.flush-deadline={fd}")
    else:
        flags = prometheus_flags(sc, tmp, ports)
    if any(e["kind"] == "reload" for e in events(sc)):
        flags.append("--web.enable-lifecycle")
    return flags + list(sc.get("fidelity", {}).get("prometheus_flags", []))


# ---------------------------------------------------------------- the live run


def now_ms() -> int:
    return int(time.time() * 1000)


def wal_on_disk(wal: Path) -> dict:
    """What a starting Prometheus replays: the segments and the last checkpoint, in bytes."""
    segs, cps = {}, {}
    try:
        for e in os.scandir(wal):
            if e.name.isdigit():
                segs[int(e.name)] = e.stat().st_size
            elif e.name.startswith("checkpoint.") and e.is_dir():
                cps[e.name] = sum(f.stat().st_size for f in os.scandir(e.path))
    except FileNotFoundError:
        pass
    last_cp = max(cps) if cps else None
    return {
        "segments": {str(k): v for k, v in sorted(segs.items())},
        "segment_bytes": sum(segs.values()),
        "checkpoint": last_cp,
        "checkpoint_bytes": cps.get(last_cp, 0) if last_cp else 0,
        "bytes": sum(segs.values()) + (cps.get(last_cp, 0) if last_cp else 0),
    }


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


class Prom:
    """The Prometheus process of the run, restarted by the actions on the same data directory."""

    def __init__(self, argv: list[str], tmp: Path):
        self.argv, self.tmp = argv, tmp
        self.gen = -1
        self.proc: subprocess.Popen | None = None
        self.generations: list[dict] = []
        self.lock = threading.Lock()

    def start(self) -> int:
        with self.lock:
            self.gen += 1
            log = open(self.tmp / f"prometheus-{self.gen}.log", "wb")
            ms = now_ms()
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log)
            self.generations.append({"gen": self.gen, "start_unix_ms": ms})
            return ms

    def exited(self, ms: int, rc: int | None) -> None:
        with self.lock:
            self.generations[-1].update({"exit_unix_ms": ms, "exit_code": rc})

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 150) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            return
        stop_process(p, timeout)
        self.exited(now_ms(), p.returncode)


def post(url: str, timeout: float) -> tuple[int, str]:
    req = urllib.request.Request(url, data=b"", method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()[:200]
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()[:200]


def play(sc: dict, prom: Prom, tmp: Path, ports: dict, t0: float, out: list, quit_: threading.Event, log) -> None:
    """Plays the scenario's [[sender.event]] on the real process, recording what happened when."""
    for i, e in enumerate(events(sc)):
        at = parse_duration(e["at"])
        if quit_.wait(max(0.0, t0 + at - time.time())):
            return
        kind = e["kind"]
        rec = {"index": i, "kind": kind, "at_s": at}
        out.append(rec)
        if kind in ("restart", "crash"):
            p = prom.proc
            rec["wal_at_signal"] = wal_on_disk(tmp / "data" / "wal")
            rec["signal_unix_ms"] = now_ms()
            p.send_signal(signal.SIGTERM if kind == "restart" else signal.SIGKILL)
            p.wait(timeout=400)  # a stop is at most 2 x flush_deadline per queue
            rec["exit_unix_ms"] = now_ms()
            rec["exit_code"] = p.returncode
            prom.exited(rec["exit_unix_ms"], p.returncode)
            took = (rec["exit_unix_ms"] - rec["signal_unix_ms"]) / 1000
            log(f"lifecycle: {kind} at {at:.0f}s: exited after {took:.1f}s")
            if quit_.wait(parse_duration(e.get("down_for", "10s"))):
                return
            rec["wal_at_start"] = wal_on_disk(tmp / "data" / "wal")
            rec["start_unix_ms"] = prom.start()
            log(f"lifecycle: started again ({rec['wal_at_start']['bytes'] / 1e6:.1f} MB of WAL on disk)")
        elif kind == "reload":
            (tmp / "prometheus.yml").write_text(yml_for(sc, ports, reloaded=True))
            rec["change"] = e["change"]
            rec["sent_unix_ms"] = now_ms()
            status, body = post(f"http://127.0.0.1:{ports['prometheus']}/-/reload", 400)
            rec["done_unix_ms"] = now_ms()
            rec["status"] = status
            if status != 200:
                rec["body"] = body
            log(f"lifecycle: reload ({e['change']}) at {at:.0f}s: HTTP {status} after "
                f"{(rec['done_unix_ms'] - rec['sent_unix_ms']) / 1000:.1f}s")
        else:
            raise RuntimeError(f"the harness cannot play a {kind!r} event")


def keep_log(lines: list[str], tmp: str) -> tuple[list[str], dict]:
    """Every line but the noisy ones (counted per message), the run's directory shortened."""
    keep, counts = [], {}
    for l in lines:
        msg = next((k for k in LOG_COUNT if k in l), None)
        if msg:
            counts[msg] = counts.get(msg, 0) + 1
        elif len(keep) < LOG_MAX:
            keep.append(l.replace(tmp, "$RUN"))
    return keep, counts


def live(name: str, rwsim: str, prometheus: str, port_base: int, label: str, log=print) -> None:
    sc, text = load(name)
    rec = f"{name}@{label}"
    duration = parse_duration(sc["duration"])
    ports = {"target": port_base + 1, "serve": port_base + 2, "prometheus": port_base + 3}
    tmp = Path(tempfile.mkdtemp(prefix=f"rwsim-lifecycle-{name}-"))
    (tmp / "prometheus.yml").write_text(yml_for(sc, ports, reloaded=False))
    yml_first = (tmp / "prometheus.yml").read_text()
    procs: list[subprocess.Popen] = []
    prom = Prom([prometheus, *flags_for(sc, tmp, ports)], tmp)
    quit_ = threading.Event()
    actions: list[dict] = []
    actor = None
    uptime_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    def stop_rest():
        stop_processes(procs, 30)

    try:
        w = sc["workload"]
        f = sc.get("fidelity", {})
        target = subprocess.Popen(
            [rwsim, "target", "--series", str(w["series"]), "--targets", str(w.get("targets", 1)),
             "--values", f.get("values", "cycle"), "--seed", str(f.get("target_seed", 1)),
             "--listen", f"127.0.0.1:{ports['target']}"],
            stderr=open(tmp / "target.log", "wb"))
        procs.append(target)
        check_listening(wait_line(target, tmp / "target.log", "rwsim target", 10), "rwsim target")
        (tmp / "scenario.toml").write_text(serve_text(text))
        serve = subprocess.Popen(
            [rwsim, "serve", str(tmp / "scenario.toml"), "--listen", f"127.0.0.1:{ports['serve']}",
             "--out", str(tmp / "serve")],
            stderr=open(tmp / "serve.log", "wb"))
        procs.append(serve)
        check_listening(wait_line(serve, tmp / "serve.log", "rwsim serve", 10), "rwsim serve")
        t0 = time.time()
        load_before = loadavg()
        prom.start()
        actor = threading.Thread(target=play, args=(sc, prom, tmp, ports, t0, actions, quit_, log), daemon=True)
        actor.start()
        purl = f"http://127.0.0.1:{ports['prometheus']}/metrics"
        surl = f"http://127.0.0.1:{ports['serve']}/metrics"
        log(f"lifecycle: {rec}: running {duration:.0f}s + drain ({uptime_before})")
        rows, seen = [], {}
        k, end_at = 0, None
        while True:
            k += 1
            time.sleep(max(0.0, t0 + k - time.time()))
            t = time.time() - t0
            row = {"t": round(t, 3), "gen": prom.gen, "up": 1 if prom.alive() else 0}
            try:
                row.update(parse_metrics(fetch(surl), SERVE_KEEP))
            except Exception as e:
                log(f"lifecycle: {rec}: t={t:.0f}s: serve's metrics unavailable ({e})")
            if prom.alive():
                try:
                    row.update(parse_metrics(fetch(purl, 0.9), KEEP))
                except Exception:
                    pass  # starting or stopping: a row without Prometheus's series
            row["wal_bytes_written"] = wal_bytes(tmp / "data" / "wal", seen)
            disk = wal_on_disk(tmp / "data" / "wal")
            row["wal_bytes_on_disk"] = disk["bytes"]
            if disk["segments"]:
                row["wal_first_segment"] = min(int(s) for s in disk["segments"])
                row["wal_last_segment"] = max(int(s) for s in disk["segments"])
            row["serve_cpu_seconds"] = proc_cpu_seconds(serve.pid)
            row["target_cpu_seconds"] = proc_cpu_seconds(target.pid)
            row["host_busy_cpu_seconds"], row["host_load1"] = host_cpu()
            rows.append(row)
            if serve.poll() is not None:
                raise RuntimeError(f"rwsim serve exited during the run; see {tmp}")
            if actor.is_alive() is False and not prom.alive():
                raise RuntimeError(f"Prometheus exited outside the scenario's events; see {tmp}")
            if t >= duration and end_at is None and not actor.is_alive():
                end_at = t
            if end_at is not None:
                lag = row.get("highest_timestamp_in_seconds", 0) - row.get("queue_highest_sent_timestamp_seconds", 0)
                # Caught up: a lag of at most 2 s, and no more pending than a scrape just committed
                # (sampled right after a commit, one scrape's samples are still being sent).
                per_scrape = int(w["series"]) + 5 * int(w.get("targets", 1))
                caught_up = ("highest_timestamp_in_seconds" in row and lag <= 2
                             and row.get("samples_pending", 0) < 1.5 * per_scrape + 1000)
                if (caught_up and t >= duration + 15) or t >= duration + 240:
                    break
            if k % 30 == 0:
                log(f"lifecycle: {rec}: t={t:.0f}s gen={prom.gen} up={row['up']} shards={row.get('shards')} "
                    f"pending={row.get('samples_pending')} watcher_segment={row.get('wal_watcher_current_segment')}")
        scrapes = fetch(f"http://127.0.0.1:{ports['target']}/scrapes.csv")
        load_after = loadavg()
        wal_end = wal_on_disk(tmp / "data" / "wal")
        prom.stop()
        stop_rest()
        uptime_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        lines = []
        for g in range(prom.gen + 1):
            lines += (tmp / f"prometheus-{g}.log").read_text().splitlines()
        keep_lines, log_counts = keep_log(lines, str(tmp))
        scrape_ms = sorted(int(r.split(",")[1]) for r in scrapes.splitlines()[1:])
        interval_ms = int(parse_duration(w.get("scrape_interval", "1m")) * 1000)
        meta = {
            "scenario": name,
            "mode": mode(sc),
            "prometheus": subprocess.run([prometheus, "--version"], capture_output=True,
                                         text=True).stdout.splitlines()[0],
            "prometheus_flags": [a.replace(str(tmp), "$RUN") for a in prom.argv[1:]],
            "prometheus_yml": [yml_first, (tmp / "prometheus.yml").read_text()],
            "serve_start_unix_ms": int(t0 * 1000),
            "duration_s": duration,
            "drained_s": round(rows[-1]["t"] - duration, 1),
            "first_scrape_unix_ms": scrape_ms[0],
            # Every pause between two scrapes longer than 1.5 intervals: (last before, first after).
            "scrape_gaps": [[a, b] for a, b in zip(scrape_ms, scrape_ms[1:]) if b - a > 1.5 * interval_ms],
            "scrape_interval_ms": interval_ms,
            "series_per_scrape": {},
            "stored_unique_by_second": {},
            "scrapes_by_second": {},
            "actions": actions,
            "generations": prom.generations,
            "wal_at_end": wal_end,
            "prometheus_log_lines": keep_lines,
            "prometheus_log_counts": log_counts,
            "values": sc.get("fidelity", {}).get("values", "cycle"),
            "host": {"nproc": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after,
                     "uptime_before": uptime_before, "uptime_after": uptime_after,
                     "recorded_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))},
        }
        for line in (tmp / "serve" / "serve_timestamps.csv").read_text().splitlines()[1:]:
            s, n = line.split(",")
            meta["stored_unique_by_second"][s] = int(n)
        for ms in scrape_ms:
            s = str(ms // 1000)
            meta["scrapes_by_second"][s] = meta["scrapes_by_second"].get(s, 0) + 1
        targets = int(w.get("targets", 1))
        for i in range(targets):
            n = int(w["series"]) // targets + (1 if i < int(w["series"]) % targets else 0)
            meta["series_per_scrape"][str(i)] = n + 5  # + the 5 report series
        RECORDINGS.mkdir(parents=True, exist_ok=True)
        with open(RECORDINGS / f"{rec}.csv", "w", newline="") as f_:
            wr = csv.DictWriter(f_, fieldnames=COLUMNS, extrasaction="ignore")
            wr.writeheader()
            for r in rows:
                wr.writerow({c: fmt(r.get(c)) for c in COLUMNS})
        (RECORDINGS / f"{rec}.json").write_text(json.dumps(meta, indent=0, sort_keys=True) + "\n")
        log(f"lifecycle: {rec}: recorded {len(rows)} rows ({uptime_after})")
    finally:
        quit_.set()
        if actor is not None:
            actor.join(5)
        prom.stop(timeout=30)
        stop_rest()
        if os.environ.get("FIDELITY_KEEP"):
            log(f"lifecycle: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)



# ---------------------------------------------------------------- the real run, measured


def load_recording(rec: str) -> tuple[list[dict], dict]:
    with open(RECORDINGS / f"{rec}.csv") as f:
        rows = [{k: (float(v) if v != "" else None) for k, v in r.items()} for r in csv.DictReader(f)]
    return rows, json.loads((RECORDINGS / f"{rec}.json").read_text())


def field(line: str, key: str) -> str | None:
    m = re.search(rf'(?:^| ){re.escape(key)}=("(?:[^"\\]|\\.)*"|\S+)', line)
    return m.group(1).strip('"') if m else None


def go_seconds(s: str | None) -> float | None:
    """A Go duration as logged (`1.2ms`, `350.1µs`, `2.5s`, `1m3.2s`), in seconds."""
    if not s:
        return None
    total, num = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}
    i = 0
    while i < len(s):
        if s[i].isdigit() or s[i] == ".":
            num += s[i]
            i += 1
            continue
        u = next(u for u in ("ms", "µs", "us", "ns", "h", "m", "s") if s.startswith(u, i))
        total += float(num) * units[u]
        num = ""
        i += len(u)
    return total


def real_facts(rows: list[dict], meta: dict) -> dict:
    """What the real run did, in seconds since serve started and samples."""
    t0 = meta["serve_start_unix_ms"]
    rel = lambda ms: (ms - t0) / 1000.0  # noqa: E731
    per = sum(meta["series_per_scrape"].values())
    interval = meta["scrape_interval_ms"]
    d = meta["duration_s"]
    cut_ms = t0 + int(d * 1000)
    cut = cut_ms // 1000
    scraped = {int(s): n * per for s, n in meta["scrapes_by_second"].items()}
    stored = {int(s): n for s, n in meta["stored_unique_by_second"].items()}
    lines = meta["prometheus_log_lines"]
    # Queue starts: the watcher's "Starting WAL watcher" (QueueManager.Start).
    queue_starts = [rel(log_unix_ms(l)) for l in lines if 'msg="Starting WAL watcher"' in l]
    missing = []
    for a, b in meta["scrape_gaps"]:
        if a >= cut_ms:
            continue
        n = round((min(b, cut_ms) - a) / interval) - (1 if b <= cut_ms else 0)
        missing.append({"last_before": rel(a), "first_after": rel(b), "scrapes": n})
    not_scraped = sum(g["scrapes"] for g in missing) * per
    # The same over the whole run, drain included: the base of "stored at the end".
    nominal_end = (sum(scraped.values())
                   + sum(round((b - a) / interval) - 1 for a, b in meta["scrape_gaps"]) * per)
    scraped_before = sum(n for s, n in scraped.items() if s < cut)
    stored_before = sum(n for s, n in stored.items() if s < cut)
    nominal = scraped_before + not_scraped
    # The loss, split at the last queue start after the first: what the new watcher skipped
    # (and what the old queue discarded) is stamped before it, anything else after.
    split = queue_starts[-1] if len(queue_starts) > 1 else None
    lost_before = lost_after = 0
    for s in set(scraped) | set(stored):
        if s >= cut:
            continue
        lost = scraped.get(s, 0) - stored.get(s, 0)
        if split is not None and s > (t0 + split * 1000) // 1000:
            lost_after += lost
        else:
            lost_before += lost
    if split is None:
        lost_before, lost_after = 0, lost_before
    flush_failed = sum(int(field(l, "count") or 0) for l in lines if "Failed to flush all samples on shutdown" in l)
    replays = []
    for l in lines:
        if "WAL replay completed" in l:
            replays.append({"t": rel(log_unix_ms(l)), "total": go_seconds(field(l, "total_replay_duration")),
                            "wal": go_seconds(field(l, "wal_replay_duration"))})
    gens = meta["generations"]
    starts = []
    for g in gens[1:]:
        st = rel(g["start_unix_ms"])
        q = next((x for x in queue_starts if x >= st), None)
        first = next((x["first_after"] for x in missing if x["first_after"] >= st), None)
        # The gauge is set once, at the end of the replay (/metrics answers before: 0).
        metric = max((r["replay_duration_seconds"] for r in rows
                      if r.get("gen") == g["gen"] and r.get("replay_duration_seconds") is not None), default=None)
        log_replay = next((x["total"] for x in replays if x["t"] >= st), None)
        starts.append({"start": st, "queue_start": q, "first_scrape": first, "replay_metric": metric,
                       "replay_log": log_replay})
    shards, prev = [], None
    for r in rows:
        s = r.get("shards")
        if s is None:
            continue
        if prev is not None and int(s) != prev:
            shards.append((r["t"], prev, int(s)))
        prev = int(s)
    wal_deletions = []
    for l in lines:
        if "WAL checkpoint complete" in l or "Deleting obsolete WAL" in l:
            wal_deletions.append({"t": rel(log_unix_ms(l)), "first": field(l, "first"), "last": field(l, "last")})
    # Agent mode: every truncation tick logs its series GC; a tick that deletes segments logs
    # its checkpoint of segments first..last (then deleted).
    ticks = [rel(log_unix_ms(l)) for l in lines if 'msg="series GC completed"' in l]
    watcher_errors = [rel(log_unix_ms(l)) for l in lines if "error tailing WAL" in l]
    # The watcher's Run after an error (a "Replaying WAL" of the queue that is not its start).
    watcher_restarts = [x for x in (rel(log_unix_ms(l)) for l in lines
                                    if "component=remote" in l and 'msg="Replaying WAL"' in l)
                        if not any(0 <= x - q < 1 for q in queue_starts)]
    return {
        "per_scrape": per, "nominal": nominal, "nominal_end": nominal_end, "scraped": scraped_before,
        "stored": stored_before,
        "not_scraped": not_scraped, "missing": missing, "lost_before": lost_before, "lost_after": lost_after,
        "split": split, "queue_starts": queue_starts, "flush_failed": flush_failed, "starts": starts,
        "first_scrape": rel(meta["first_scrape_unix_ms"]),
        "stored_end": rows[-1].get("serve_unique") or 0, "end_t": rows[-1]["t"], "shards": shards,
        "wal_deletions": wal_deletions, "ticks": ticks, "watcher_errors": watcher_errors,
        "watcher_restarts": watcher_restarts,
    }


# ---------------------------------------------------------------- the model


def model_text(rec: str, meta: dict, replay: str = "measured") -> str:
    """The scenario as the harness played it: the model's clock starts when serve started, its
    workload near the first real scrape (fidelity.py's alignment, docs/fidelity.md), and every
    [[sender.event]] at the instant the harness acted, with the down time it measured (from
    the exit to the next start) and, with replay = "measured", the time from the start to the
    queue's start as `replay_time`."""
    _, text = load(rec)
    text = without_fidelity(text)
    text = drop_tables(text, lambda h: h == "[[sender.event]]")
    sc = tomllib.loads(text)
    w = sc["workload"]
    assert "[[workload.change]]" not in text and "report_series" not in text, "a plain workload"
    t0 = meta["serve_start_unix_ms"]
    # The model's target scrapes at a phase of its own (drawn from the seed), Prometheus's at
    # one fixed on the Unix clock: the workload starts half an interval before the real first
    # scrape, so the model's first scrape is the one nearest it (fidelity.py starts it at
    # the real first scrape, which can cost the model one scrape).
    delay_ms = max(1, meta["first_scrape_unix_ms"] - t0 - meta["scrape_interval_ms"] // 2)
    text = text.replace(f"series = {w['series']}\n", "series = 0\nreport_series = false\n", 1)
    total = int(math.ceil(meta["duration_s"] + max(0.0, meta["drained_s"])))
    text = re.sub(r'(?m)^duration = .*$', f'duration = "{total}s"', text, count=1)
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 // 1000)) + f".{t0 % 1000:03d}Z"
    text = text.replace('prometheus = "2.42"', f'prometheus = "2.42"\nstart = "{start}"', 1)
    text += f'\n[[workload.change]]\nat = "{delay_ms}ms"\nseries = {w["series"] + 5 * int(w.get("targets", 1))}\n'
    lines = meta["prometheus_log_lines"]
    queue_starts = [log_unix_ms(l) for l in lines if 'msg="Starting WAL watcher"' in l]
    for a in meta["actions"]:
        if a["kind"] in ("restart", "crash"):
            at_ms = a["signal_unix_ms"] - t0
            down_ms = a["start_unix_ms"] - (a["exit_unix_ms"] if a["kind"] == "restart" else a["signal_unix_ms"])
            text += f'\n[[sender.event]]\nat = "{at_ms}ms"\nkind = "{a["kind"]}"\ndown_for = "{down_ms}ms"\n'
            q = next((x for x in queue_starts if x >= a["start_unix_ms"]), None)
            if replay == "measured" and q is not None:
                text += f'replay_time = "{q - a["start_unix_ms"]}ms"\n'
        elif a["kind"] == "reload":
            text += (f'\n[[sender.event]]\nat = "{a["sent_unix_ms"] - t0}ms"\nkind = "reload"\n'
                     f'change = "{a["change"]}"\n')
    return text


class ModelRefused(Exception):
    pass


PROBE = """prometheus = "2.42"
duration = "{d}ms"
[workload]
series = 1
targets = 1
scrape_interval = "{i}ms"
report_series = false
[remote_write.queue_config]
max_samples_per_send = 1
[receiver]
latency = "1ms"
[[receiver.fault]]
start = "0s"
end = "{d}ms"
status = 400
"""
_phases: dict[tuple[int, int], int] = {}
# Seeds tried, at most, for a model phase near the real one.
PHASE_SEEDS = 600
PHASE_TOL_MS = 3


def seed_phase(rwsim: str, seed: int, interval_ms: int) -> int:
    """The scrape phase (ms into the interval) the model draws for one target with `seed`: a
    probe run whose every sample fails at once, so the first loss gap starts at the first
    scrape."""
    key = (seed, interval_ms)
    if key not in _phases:
        with tempfile.TemporaryDirectory(prefix="rwsim-lifecycle-probe-") as d:
            p = Path(d) / "probe.toml"
            p.write_text(PROBE.format(d=3 * interval_ms, i=interval_ms))
            out = subprocess.run([rwsim, "run", str(p), "--literal", "--json", "--seed", str(seed)],
                                 capture_output=True, text=True, check=True)
        gaps = json.loads(out.stdout)["gaps"]["list"]
        _phases[key] = round(gaps[0]["from_seconds"] * 1000) % interval_ms
    return _phases[key]


def seed_for_phase(rwsim: str, phase_ms: int, interval_ms: int) -> tuple[int, int]:
    """The seed whose target phase is nearest `phase_ms` (the first within PHASE_TOL_MS)."""
    best = None
    for seed in range(1, PHASE_SEEDS + 1):
        p = seed_phase(rwsim, seed, interval_ms)
        dist = min((p - phase_ms) % interval_ms, (phase_ms - p) % interval_ms)
        if best is None or dist < best[2]:
            best = (seed, p, dist)
        if dist <= PHASE_TOL_MS:
            break
    return best[0], best[1]


def deterministic_receiver(sc: dict) -> bool:
    """Whether serve's answers use no random draw, so that the model may run with another seed
    than serve's: no latency distribution, every fault window on every request."""
    rx = sc.get("receiver", {})
    lats = [rx.get("latency")] + [f.get("latency") for f in rx.get("fault", [])]
    return (not any(isinstance(x, dict) for x in lats) and not rx.get("incident")
            and all(float(f.get("probability", 1.0)) >= 1.0 for f in rx.get("fault", [])))


def run_model(text: str, rwsim: str, seed: int | None = None) -> tuple[list[dict], dict]:
    with tempfile.TemporaryDirectory(prefix="rwsim-lifecycle-model-") as d:
        p = Path(d) / "scenario.toml"
        p.write_text(text)
        # One literal run of the scenario (not the robust ensemble `rwsim run` gives by default).
        cmd = [rwsim, "run", str(p), "--literal", "--json", "--out", d]
        cmd += [] if seed is None else ["--seed", str(seed)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            raise ModelRefused(out.stderr.strip())
        summary = json.loads(out.stdout)
        with open(Path(d) / "timeseries.csv") as f:
            rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    return rows, summary


def model_facts(rows: list[dict], summary: dict, d: float) -> dict:
    s = summary["samples"]
    dr = s["dropped"]
    tl = summary.get("timeline", [])
    queue_starts = [e["t_seconds"] for e in tl if e["kind"] == "queue_started"]
    split = queue_starts[-1] if queue_starts else None
    lost_before = lost_after = 0
    for g in summary.get("gaps", {}).get("list", []):
        if g["reason"] == "not_scraped":
            continue
        if split is not None and g["from_seconds"] >= split:
            lost_after += g["samples"]
        elif split is not None:
            lost_before += g["samples"]
        else:
            lost_after += g["samples"]
    lost = (s["failed"] + dr["wal_truncation"] + dr["too_old"] + dr["reshard_shutdown"] + dr.get("restart_skip", 0)
            + s.get("unsendable_at_end", 0))
    stopping = [e["t_seconds"] for e in tl if e["kind"] == "sender_stopping"]
    down = [e["t_seconds"] for e in tl if e["kind"] == "sender_down"]
    resumed = [e["t_seconds"] for e in tl if e["kind"] == "sender_starting" and "scraping resumed" in e["message"]]
    replays = []
    for e in tl:
        m = re.match(r"process started: replaying ([\d.]+) MiB of WAL for (\S+)", e["message"])
        if m:
            replays.append({"t": e["t_seconds"], "mib": float(m.group(1)), "replay": go_seconds(m.group(2))})
    shards, prev = [], None
    for r in rows:
        x = int(r["shards"])
        if prev is not None and x != prev:
            shards.append((r["t_seconds"], prev, x))
        prev = x
    end_t = rows[-1]["t_seconds"]
    return {
        "not_scraped": s["not_scraped"], "lost_before": lost_before, "lost_after": lost_after, "lost": lost,
        "restart_skip": dr.get("restart_skip", 0), "reshard_shutdown": dr["reshard_shutdown"],
        "wal_truncation": dr["wal_truncation"], "failed": s["failed"],
        "queue_starts": [0.0] + queue_starts if summary.get("sender") else queue_starts,
        "stopping": stopping, "down": down, "resumed": resumed, "replays": replays, "shards": shards,
        "stored_end": rows[-1]["delivered_total"], "end_t": end_t,
        "truncations": [(e["t_seconds"], e["message"]) for e in tl if e["kind"].startswith("wal_truncation")],
        "deletions": [(e["t_seconds"], int(m.group(1)), int(m.group(2))) for e in tl
                      if e["kind"].startswith("wal_truncation")
                      for m in [re.search(r"deleted segments (\d+)–(\d+)", e["message"])] if m],
        "watcher_restarts": [e["t_seconds"] for e in tl if e["kind"] == "watcher_restart"],
    }


# ---------------------------------------------------------------- comparison


def pp(x: float, base: float) -> float:
    return 100.0 * x / base if base else 0.0


def directions(tl) -> list[str]:
    out = []
    for _, a, b in tl:
        d = "up" if b > a else "down"
        if not out or out[-1] != d:
            out.append(d)
    return out


def shard_text(tl) -> str:
    if not tl:
        return "none"
    s = ", ".join(f"{t:.0f}s {a}→{b}" for t, a, b in tl[:5])
    return s + (f" (+{len(tl) - 5})" if len(tl) > 5 else "")


def secs(xs) -> str:
    return ", ".join(f"{x:.1f}s" for x in xs) if xs else "none"


def compare(rec: str, rwsim: str) -> dict:
    rows, meta = load_recording(rec)
    real = real_facts(rows, meta)
    out = {"rec": rec, "meta": meta, "real": real, "verdicts": [], "info": []}
    sc, _ = load(rec)
    interval = meta["scrape_interval_ms"]
    # Prometheus scrapes the target at a phase fixed on the Unix clock (a hash of the target),
    # the model at one drawn from its seed. Where serve draws nothing at random, the model runs
    # with the seed whose phase is the real one, so both scrape at the same instants (before
    # and after a restart), and a scrape more or less on either side of a pause is not
    # mistaken for a difference in the model.
    seed, phase = None, None
    real_phase = (meta["first_scrape_unix_ms"] - meta["serve_start_unix_ms"]) % interval
    if deterministic_receiver(sc) and int(sc["workload"].get("targets", 1)) == 1:
        seed, phase = seed_for_phase(rwsim, real_phase, interval)
    out["seed"], out["phase_ms"], out["real_phase_ms"] = seed, phase, real_phase
    try:
        mrows, msum = run_model(model_text(rec, meta, "measured"), rwsim, seed)
    except ModelRefused as e:
        out["refused"] = e.args[0]
        return out
    model = model_facts(mrows, msum, meta["duration_s"])
    out["model"] = model
    if phase is not None:
        # The model's first scrape after scraping resumes: its target's next phase.
        model["first_scrapes"] = [x + ((phase - round(x * 1000)) % interval) / 1000 for x in model["resumed"]]
    kinds = [a["kind"] for a in meta["actions"]]
    computed = None
    if any(k in ("restart", "crash") for k in kinds):
        crows, csum = run_model(model_text(rec, meta, "computed"), rwsim, seed)
        computed = model_facts(crows, csum, meta["duration_s"])
        out["computed"] = computed
    base = real["nominal"]
    v = out["verdicts"]

    def share(label, a, b, base=base):
        e = pp(b, base) - pp(a, base)
        v.append((label, f"{a:,.0f} ({pp(a, base):.2f}%)", f"{b:,.0f} ({pp(b, base):.2f}%)", f"{e:+.2f} pp",
                  abs(e) <= TOL_SHARE_PP))

    def instant(label, a, b, tol=TOL_T_S):
        if a is None and b is None:
            return
        ok = a is not None and b is not None and abs(a - b) <= tol
        err = f"{b - a:+.1f} s" if a is not None and b is not None else "n/a"
        v.append((label, "—" if a is None else f"{a:.1f} s", "—" if b is None else f"{b:.1f} s", err, ok))

    v.append(("samples the target would have served by the end of the scenario (the base)", f"{base:,.0f}", "", "",
              None))
    share("not scraped (process stopping, down, starting)", real["not_scraped"], model["not_scraped"])
    if real["split"] is not None or model["queue_starts"][1:]:
        share("lost before the new queue (skipped, discarded)", real["lost_before"], model["lost_before"])
        share("lost after the new queue", real["lost_after"], model["lost_after"])
    else:
        share("lost (never stored)", real["lost_after"], model["lost"])
    # Delivered: stamped before the end of the scenario and stored (after the drain); the
    # model's is the same base less what it never scraped and what it lost.
    share("delivered (stamped before the end, stored)", real["stored"],
          base - model["not_scraped"] - model["lost"])
    # Over the whole run, drain included (a share of what the target would have served by then).
    share("stored at the receiver by the end of the drain", real["stored_end"], model["stored_end"],
          real["nominal_end"])
    rq, mq = real["queue_starts"], model["queue_starts"]
    ok = len(rq) == len(mq) and all(abs(a - b) <= TOL_T_S for a, b in zip(rq[1:], mq[1:]))
    v.append(("queue starts", secs(rq), secs(mq), f"{len(rq)} vs {len(mq)}" if len(rq) != len(mq) else
              f"at most {max((abs(a - b) for a, b in zip(rq[1:], mq[1:])), default=0):.1f} s apart", ok))
    for a, st in zip([x for x in meta["actions"] if x["kind"] in ("restart", "crash")], real["starts"]):
        if a["kind"] == "restart":
            r_stop = (a["exit_unix_ms"] - a["signal_unix_ms"]) / 1000
            m_stop = (model["down"][0] - model["stopping"][0]) if model["down"] and model["stopping"] else None
            instant("SIGTERM to exit (stop)", r_stop, m_stop)
        # Scraping resumes at the scrape manager's tick; the first scrape is the target's
        # phase after it (up to one interval later), on both sides.
        firsts = model.get("first_scrapes", model["resumed"])
        first = next((x for x in firsts if x >= st["start"] - 1), None)
        instant("first scrape after the start" + ("" if "first_scrapes" in model else " (model: scraping resumes)"),
                st["first_scrape"], first, TOL_T_S)
    for a in meta["actions"]:
        if a["kind"] == "reload":
            sent = (a["sent_unix_ms"] - meta["serve_start_unix_ms"]) / 1000
            r_stop = (real["split"] - sent) if real["split"] else None
            m_stop = (model["queue_starts"][-1] - sent) if len(model["queue_starts"]) > 1 else None
            if r_stop is not None or m_stop is not None:
                instant("reload to the new queue's start", r_stop, m_stop)
    ok = directions(real["shards"]) == directions(model["shards"])
    v.append(("reshards (t from→to)", shard_text(real["shards"]), shard_text(model["shards"]),
              "same directions" if ok else "directions differ", ok))
    inf = out["info"]
    if seed is not None:
        inf.append(("target's scrape phase (model: with --seed)", f"{real_phase} ms", f"{phase} ms (seed {seed})"))
    # Prometheus logs only what is still enqueued when the shard's select picks ctx.Done();
    # batches it took first (Go picks at random among ready cases) failed one by one.
    inf.append(("hard shutdown: 'Failed to flush' log count / model reshard_shutdown", f"{real['flush_failed']:,}",
                f"{model['reshard_shutdown']:,}"))
    for a, st, mr, cr in zip([x for x in meta["actions"] if x["kind"] in ("restart", "crash")], real["starts"],
                             model["replays"], (computed or {}).get("replays", [])):
        w = a["wal_at_start"]
        inf.append(("WAL on disk at the start", f"{w['bytes'] / 2**20:.2f} MiB ({len(w['segments'])} segments)",
                    f"{cr['mib']:.2f} MiB"))
        rep = "—" if st["replay_metric"] is None else f"{st['replay_metric'] * 1000:.0f} ms"
        inf.append(("WAL replay (prometheus_tsdb_data_replay_duration_seconds / model computed)", rep,
                    f"{cr['replay'] * 1000:.0f} ms"))
        q = None if st["queue_start"] is None else (st["queue_start"] - st["start"]) * 1000
        inf.append(("start to queue start (real; the model's replay_time)", "—" if q is None else f"{q:.0f} ms",
                    f"{mr['replay'] * 1000:.0f} ms"))
        if st["queue_start"] is not None and st["first_scrape"] is not None:
            mres = next((x for x in model["resumed"] if x >= st["start"] - 1), None)
            inf.append(("queue start to first scrape (model: to scraping resumed)",
                        f"{st['first_scrape'] - st['queue_start']:.2f} s",
                        "—" if mres is None else f"{mres - mr['t'] - mr['replay']:.2f} s"))
    for a in meta["actions"]:
        if a["kind"] == "reload":
            inf.append((f"POST /-/reload ({a['change']}): HTTP status, time to answer",
                        f"{a['status']}, {(a['done_unix_ms'] - a['sent_unix_ms']) / 1000:.1f} s", ""))
    if computed:
        inf.append(("with the model's computed replay: not scraped, lost before",
                    f"{real['not_scraped']:,}, {real['lost_before']:,}",
                    f"{computed['not_scraped']:,}, {computed['lost_before']:,}"))
    if real["ticks"]:
        mt = [t_ for t_, _ in model["truncations"]]
        ok = len(real["ticks"]) == len(mt) and all(abs(a - b) <= TOL_T_S for a, b in zip(real["ticks"], mt))
        v.append(("agent truncation ticks", secs(real["ticks"]), secs(mt), f"{len(real['ticks'])} vs {len(mt)}"
                  if len(real["ticks"]) != len(mt) else
                  f"at most {max((abs(a - b) for a, b in zip(real['ticks'], mt)), default=0):.1f} s apart", ok))
    if real["wal_deletions"] or model["deletions"]:
        rd = [(x["t"], int(x["first"]), int(x["last"])) for x in real["wal_deletions"]]
        md = model["deletions"]
        ok = [(a, b) for _, a, b in rd] == [(a, b) for _, a, b in md] and \
            all(abs(x[0] - y[0]) <= TOL_T_S for x, y in zip(rd, md))
        v.append(("segments deleted (t first–last)", "; ".join(f"{t_:.0f}s {a}–{b}" for t_, a, b in rd) or "none",
                  "; ".join(f"{t_:.0f}s {a}–{b}" for t_, a, b in md) or "none",
                  "same segments" if ok else "differ", ok))
    if real["watcher_errors"] or model["watcher_restarts"]:
        ra, mb = real["watcher_restarts"], model["watcher_restarts"]
        ok = len(ra) == len(mb) and all(abs(a - b) <= TOL_T_S for a, b in zip(ra, mb))
        v.append(("watcher restarts after its segment was deleted", secs(ra), secs(mb),
                  f"{len(ra)} vs {len(mb)}" if len(ra) != len(mb) else
                  f"at most {max((abs(a - b) for a, b in zip(ra, mb)), default=0):.1f} s apart", ok))
    return out


def expected(r: dict, label: str) -> str | None:
    """Why a comparison may be out of tolerance (`[fidelity] expected_out_of_tolerance`, metric
    label prefix -> reason), as in fidelity.py: reported, not counted."""
    sc, _ = load(r["rec"])
    for key, why in sc.get("fidelity", {}).get("expected_out_of_tolerance", {}).items():
        if label.startswith(key):
            return why
    return None


def failures(r: dict) -> int:
    return sum(1 for x in r["verdicts"] if x[4] is False and not expected(r, x[0]))


def print_comparison(r: dict) -> int:
    m = r["meta"]
    print(f"\n== {r['rec']}  ({m['host']['recorded_utc']}, {m['host']['uptime_before']})")
    if "refused" in r:
        print(f"  model comparison pending: rwsim refused the scenario: {r['refused'].splitlines()[0]}")
        return 0
    print(f"  {'metric':<58} {'real Prometheus 2.42':>26} {'rwsim model':>26}  error")
    for label, a, b, e, ok in r["verdicts"]:
        flag = "  <-- OUT OF TOLERANCE" if ok is False else ""
        if ok is False and expected(r, label):
            flag = f"  <-- out of tolerance, expected: {expected(r, label)}"
        print(f"  {label:<58} {a:>26} {b:>26}  {e}{flag}")
    for label, a, b in r["info"]:
        print(f"  {label:<58} {a:>26} {b:>26}")
    return failures(r)


def markdown(r: dict) -> str:
    m = r["meta"]
    acts = ", ".join(f"{a['kind']}" + (f" ({a['change']})" if a.get("change") else "") + f" at {a['at_s']:.0f}s"
                     for a in m["actions"]) or "none"
    if m.get("mode") == "agent":
        acts += "; agent mode: " + " ".join(f"`{f}`" for f in m["prometheus_flags"] if "agent" in f)
    lines = [f"#### {r['rec']}", "",
             f"Real: {m['prometheus']}; recorded {m['host']['recorded_utc']} (load before "
             f"{' '.join(m['host']['loadavg_before'])}); {m['duration_s']:.0f}s plus {m['drained_s']:.0f}s of "
             f"drain; events: {acts}.", ""]
    if "refused" in r:
        return "\n".join(lines + ["Model comparison pending: " + r["refused"].splitlines()[0], ""])
    lines += ["| metric | real Prometheus 2.42 | rwsim model | error | within tolerance |", "|---|---|---|---|---|"]
    for label, a, b, e, ok in r["verdicts"]:
        verdict = "" if ok is None else ("yes" if ok else "**no**")
        if ok is False and expected(r, label):
            verdict += f" (expected: {expected(r, label)})"
        lines.append(f"| {label} | {a} | {b} | {e} | {verdict} |")
    for label, a, b in r["info"]:
        lines.append(f"| {label} | {a} | {b} | | — |")
    return "\n".join(lines) + "\n"


def summary(results: list[dict]) -> str:
    """One row per recording for docs/fidelity.md: real vs model, shares of the base."""
    lines = ["| recording | events | not scraped | lost (skipped, discarded, truncated) | delivered | down (given) "
             "| stop: SIGTERM to exit | replay: gauge / start to queue (real) vs computed (model) | shards |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "refused" in r:
            continue
        m, real, model = r["meta"], r["real"], r["model"]
        base = real["nominal"]
        acts = ", ".join(a["kind"] + (f" ({a['change']})" if a.get("change") else "") + f" {a['at_s']:.0f}s"
                         for a in m["actions"]) or "—"
        sc, _ = load(r["rec"])
        faults = [f"{f.get('status', 'fault')} {f['start']}–{f['end']}"
                  for f in sc.get("receiver", {}).get("fault", [])]
        if faults:
            acts = ("" if acts == "—" else acts + " in ") + ", ".join(faults)
        else:
            acts += f", healthy receiver, {sc['workload']['series']:,} series"
        if m.get("mode") == "agent":
            freq = next((f.split("=", 1)[1] for f in m["prometheus_flags"] if "wal-truncate-frequency" in f), "2h")
            acts = ("" if acts == "—" else acts + "; ") + f"agent mode, truncation every {freq}"

        def two(a, b):
            return f"{pp(a, base):.2f} % vs {pp(b, base):.2f} %"
        lost_real = real["lost_before"] + real["lost_after"]
        delivered = base - model["not_scraped"] - model["lost"]
        downs, stops, reps = [], [], []
        comp = (r.get("computed") or {}).get("replays", [])
        for i, (a, st) in enumerate(zip([x for x in m["actions"] if x["kind"] in ("restart", "crash")],
                                        real["starts"])):
            down = (a["start_unix_ms"] - (a["exit_unix_ms"] if a["kind"] == "restart" else a["signal_unix_ms"])) / 1000
            downs.append(f"{down:.1f} s")
            if a["kind"] == "restart":
                m_stop = (model["down"][i] - model["stopping"][i]) if len(model["down"]) > i else None
                stops.append(f"{(a['exit_unix_ms'] - a['signal_unix_ms']) / 1000:.1f} s vs "
                             + ("—" if m_stop is None else f"{m_stop:.1f} s"))
            q = "—" if st["queue_start"] is None else f"{(st['queue_start'] - st['start']) * 1000:.0f}"
            g = "—" if st["replay_metric"] is None else f"{st['replay_metric'] * 1000:.0f}"
            c = f"{comp[i]['replay'] * 1000:.0f} ms" if i < len(comp) else "—"
            reps.append(f"{g} / {q} ms vs {c} ({a['wal_at_start']['bytes'] / 2**20:.1f} MiB)")
        shard_ok = next((x[4] for x in r["verdicts"] if x[0].startswith("reshards")), None)
        top = [max((b for _, _, b in x), default=1) for x in (real["shards"], model["shards"])]
        shards = f"max {top[0]} vs {top[1]}; " + ("same directions" if shard_ok else "**directions differ**"
                                                 + (" (expected)" if shard_ok is False and expected(r, "reshards")
                                                    else ""))
        if not real["shards"] and not model["shards"]:
            shards = "none vs none"
        lines.append(f"| `{r['rec']}` | {acts} | {two(real['not_scraped'], model['not_scraped'])} | "
                     f"{two(lost_real, model['lost'])} | {two(real['stored'], delivered)} | "
                     f"{'; '.join(downs) or '—'} | {'; '.join(stops) or '—'} | {'; '.join(reps) or '—'} | "
                     f"{shards} |")
    return "\n".join(lines) + "\n"


def recordings(names: list[str]) -> list[str]:
    names = names or sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    out = []
    for n in names:
        if "@" in n:
            out.append(n)
        else:
            out += sorted(p.name[: -len(".csv")] for p in RECORDINGS.glob(f"{n}@*.csv"))
    return out


def least_squares(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """(intercept, slope) of y on x, or None when x does not vary."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    if n < 2 or den <= 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den
    return my - slope * mx, slope


def calibrate(recs: list[str]) -> None:
    """wal_replay_bytes_per_second and scrape_start_delay from every start recorded.

    The model's replay is `WAL bytes / wal_replay_bytes_per_second` and ends when the queue
    starts, so the speed it can use is the fit through the origin of the time from the
    process start to the queue's start against the WAL bytes on disk. The gauge
    (prometheus_tsdb_data_replay_duration_seconds, Head.Init's replay only) is fitted too,
    and, over the starts with the same number of series, the cost per byte apart from the
    cost of the series (`Head.loadWAL` creates every series from its record, then appends
    only the samples no m-mapped chunk covers)."""
    pts, delays = [], []
    for rec in recs:
        rows, meta = load_recording(rec)
        real = real_facts(rows, meta)
        interval = meta["scrape_interval_ms"] / 1000
        qs = real["queue_starts"]
        if qs:
            delays.append((rec, "first start", real["first_scrape"] - qs[0], interval))
        for a, st in zip([x for x in meta["actions"] if x["kind"] in ("restart", "crash")], real["starts"]):
            w = a["wal_at_start"]
            gen = next(g["gen"] for g in meta["generations"] if g["start_unix_ms"] == a["start_unix_ms"])
            series = max((r["head_series"] for r in rows if r.get("gen") == gen and r.get("head_series") is not None),
                         default=None)
            if st["replay_metric"]:
                # The new process's CPU when its queue started (interpolated between the rows
                # around it; /metrics answers during the replay): what the replay cost, apart
                # from the waiting a busy host adds to its wall time.
                cpu = [(r["t"], r["prometheus_cpu_seconds"]) for r in rows
                       if r.get("gen") == gen and r.get("prometheus_cpu_seconds") is not None]
                q = st["queue_start"]
                cpu_q = None
                for (t1, c1), (t2, c2) in zip(cpu, cpu[1:]):
                    if q is not None and t1 <= q <= t2:
                        cpu_q = c1 + (c2 - c1) * (q - t1) / (t2 - t1)
                load = next((r["host_load1"] for r in rows if r["t"] >= st["start"] and r.get("host_load1")), None)
                pts.append({"rec": rec, "kind": a["kind"], "bytes": w["bytes"], "replay": st["replay_metric"],
                            "queue": None if q is None else q - st["start"], "series": series, "cpu": cpu_q,
                            "load": load})
            if st["queue_start"] is not None and st["first_scrape"] is not None:
                delays.append((rec, f"after {a['kind']}", st["first_scrape"] - st["queue_start"], interval))
    mib = 2**20
    print("WAL replay at start-up (gauge: prometheus_tsdb_data_replay_duration_seconds; queue: from the process "
          "start to 'Starting WAL watcher'):")
    print(f"  {'recording':<32} {'event':<8} {'series':>7} {'WAL MiB':>8} {'gauge ms':>9} {'MiB/s':>7} "
          f"{'queue ms':>9} {'MiB/s':>7} {'CPU s':>6} {'MiB/CPU s':>10} {'load1':>6}")
    for x in pts:
        q, c = x["queue"], x["cpu"]
        print(f"  {x['rec']:<32} {x['kind']:<8} {'—' if x['series'] is None else format(x['series'], '.0f'):>7} "
              f"{x['bytes'] / mib:>8.2f} {x['replay'] * 1000:>9.1f} {x['bytes'] / mib / x['replay']:>7.1f} "
              f"{'—' if q is None else format(q * 1000, '.0f'):>9} "
              f"{'—' if q is None else format(x['bytes'] / mib / q, '.1f'):>7} "
              f"{'—' if c is None else format(c, '.2f'):>6} "
              f"{'—' if not c else format(x['bytes'] / mib / c, '.1f'):>10} "
              f"{'—' if x['load'] is None else format(x['load'], '.2f'):>6}")
    print("  (CPU s: the new process's CPU seconds when its queue started, from process_cpu_seconds_total "
          "sampled each second; load1: the host's at the start; 2 cores)")
    if pts:
        # Through the origin: what `wal_replay_bytes_per_second` alone can express.
        # A start where Prometheus got less than half a core while replaying (its CPU seconds
        # over the wall time) measured the host's other work more than the replay.
        starved = [x for x in pts if x["cpu"] and x["queue"] and x["cpu"] / x["queue"] < 0.5]
        for x in starved:
            print(f"  {x['rec']}: Prometheus got {x['cpu'] / x['queue']:.2f} of a core while replaying "
                  f"(load1 {x['load']:.1f} on {os.cpu_count()} cores): left out of the '(uncontended)' fits")
        fits = [("gauge", "replay", "MiB/s", pts), ("start to queue start", "queue", "MiB/s", pts)]
        if starved:
            rest = [x for x in pts if x not in starved]
            fits += [("gauge (uncontended)", "replay", "MiB/s", rest),
                     ("start to queue start (uncontended)", "queue", "MiB/s", rest)]
        fits.append(("CPU seconds to the queue start", "cpu", "MiB per CPU second", pts))
        for label, key, unit, sel in fits:
            xy = [(x["bytes"], x[key]) for x in sel if x[key]]
            sxx = sum(b * b for b, _ in xy)
            if sxx > 0:
                slope = sum(b * y for b, y in xy) / sxx
                print(f"  {label}: the fit through the origin (the model's form, bytes / speed): "
                      f"{1 / slope / mib:.1f} {unit} over {len(xy)} starts")
        calm = [x for x in pts if x not in starved]
        fit = least_squares([x["bytes"] for x in calm], [x["replay"] for x in calm])
        if fit and fit[1] > 0:
            print(f"  gauge{' (uncontended)' if starved else ''}, least squares with an intercept: "
                  f"{fit[0] * 1000:.1f} ms + bytes / {1 / fit[1] / mib:.1f} MiB/s over {len(calm)} starts")
        by_series: dict[float, list[dict]] = {}
        for x in pts:
            if x["series"] is not None:
                by_series.setdefault(round(x["series"], -3), []).append(x)
        for n, xs in sorted(by_series.items()):
            for label, key, unit in (("gauge" + (" (uncontended)" if starved else ""), "replay", "ms"),
                                     ("CPU", "cpu", "ms of CPU")):
                ys = [x for x in xs if x[key] and (key == "cpu" or x not in starved)]
                if len({round(x["bytes"] / mib) for x in ys}) < 2:
                    continue
                fit = least_squares([x["bytes"] for x in ys], [x[key] for x in ys])
                if fit and fit[1] > 0:
                    print(f"  {label}, the {len(ys)} starts with about {n:,.0f} series: {fit[0] * 1000:.0f} {unit} "
                          f"(the series, bytes -> 0) + bytes / {1 / fit[1] / mib:.0f} MiB/s")
    print("Queue start to the first scrape (the scrape manager's 5 s tick, then the target's phase, up to one "
          "scrape interval):")
    for rec, k, x, _ in delays:
        print(f"  {rec:<32} {k:<16} {x:.3f} s")
    if delays:
        xs = sorted(x for _, _, x, _ in delays)
        print(f"  min {xs[0]:.3f} s, median {xs[len(xs) // 2]:.3f} s, max {xs[-1]:.3f} s over {len(xs)} starts")
        # The first scrape is the first instant of the target's phase at or after queue start +
        # delay, so delay <= x and delay > x - interval for every start.
        lo = max(x - i for _, _, x, i in delays)
        hi = min(x for _, _, x, _ in delays)
        print(f"  scrape_start_delay: every start is consistent with a delay in [{lo:.3f}, {hi:.3f}] s")


def compare_main(a) -> int:
    recs = recordings(a.names)
    if a.mode == "calibrate":
        calibrate(recs)
        return 0
    bad = 0
    results = []
    for rec in recs:
        r = compare(rec, a.rwsim)
        results.append(r)
        if a.mode == "table":
            print(markdown(r))
        elif not a.json:
            bad += print_comparison(r)
        else:
            bad += failures(r)
    if a.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "meta"} for r in results], indent=1, default=str))
    if a.mode == "table":
        print(summary(results))
        return 0
    if bad:
        print(f"\nlifecycle: {bad} comparison(s) out of tolerance", file=sys.stderr)
        return 1
    print(f"\nlifecycle: every comparison within tolerance ({len(recs)} recordings)")
    return 0


# ---------------------------------------------------------------- main


def main() -> int:
    # A SIGTERM (CI's timeout) unwinds like an exception, so children are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["live", "offline", "table", "calibrate"])
    ap.add_argument("names", nargs="*")
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    ap.add_argument("--rwsim", default=str(target_dir / "release" / "rwsim"))
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    ap.add_argument("--port-base", type=int, default=PORT_BASE)
    ap.add_argument("--run-label", default="run1", help="live: record as NAME@LABEL")
    ap.add_argument("--json", action="store_true", help="offline: print the comparison as JSON")
    a = ap.parse_args()
    if not Path(a.rwsim).exists():
        sys.exit(f"lifecycle: {a.rwsim} not found: build it (cargo build --release) or pass --rwsim")
    if a.mode == "live":
        for n in a.names:
            live(n, a.rwsim, a.prometheus, a.port_base, a.run_label, log=lambda s: print(s, flush=True))
        return 0
    return compare_main(a)


if __name__ == "__main__":
    sys.exit(main())
