#!/usr/bin/env python3
"""Calibrated vs default constants: one outage, forecast twice, against real Prometheus 2.42.

For a harness scenario whose `[fidelity]` table has a `calibrate` entry, `live` runs it like
`fidelity.py live` (rwsim target, rwsim serve with the scenario's fault, Debian's Prometheus
2.42; the same recording) and, during the healthy part before the fault, runs

    rwsim calibrate --prometheus http://127.0.0.1:PORT --window W --save ANSWERS

against that Prometheus, which measures the constants from Prometheus's own metrics (WAL
bytes per sample from `prometheus_tsdb_wal_completed_pages_total`, wire bytes per sample
from `bytes_total / samples_total`, the latency fit, the series), never from the harness's
file sizes. Its answers are kept beside the recording (`NAME.calibrate.json.gz`), with its
table (`NAME.calibrate.txt`) and the Prometheus flags (`NAME.flags`).

The comparison (`offline`, also run by `fidelity.py offline`) then forecasts the same outage
three times with `rwsim run`:

- **defaults**: the scenario a user writes without measuring: `rwsim import` of the very
  prometheus.yml and flags Prometheus ran with, the series count filled in (what the user
  knows); every constant at the default of the rwsim binary in use;
- **calibrated**: the scenario `rwsim calibrate --from NAME.calibrate.json.gz` (unzipped) writes (so the
  current calibrate code re-derives it from the recorded answers);
- **defaults + calibrated WAL bytes**: the defaults scenario with only
  `tsdb.wal_bytes_per_sample` taken from the calibration, to show which constant decides;

each with the harness's fault and clock alignment (fidelity.model_scenario: no samples before
the first real scrape, the recorded start, the same drain), and prints them against the loss
measured at the receiver (fidelity.receiver_loss). The calibrated forecast must be within
the harness's tolerance (5 points of loss); the defaults' are reported, not judged.

    tools/fidelity/calibrated.py live NAME [--port-base 19300] [--run-label L]
    tools/fidelity/calibrated.py offline [NAME ...]
    tools/fidelity/calibrated.py table [NAME ...]

`[fidelity]` keys read here: `calibrate = { at = "15s", window = "3m30s" }` (when, after serve
starts, calibrate starts sampling, and for how long: it must end before the first fault) and
`start_phase = "40s"` (wait until the Unix time modulo `min_block_duration` is this before
starting, so every run meets the same head-compaction schedule). Python 3.11 standard
library only.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import gzip
import json
import os
import re
import shutil
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
import fidelity  # noqa: E402
from fidelity import (  # noqa: E402
    ROOT, TOL_SHARE_PP, at, fid, load_recording, load_scenario, model_scalars, parse_duration, pct,
    prometheus_flags, receiver_loss, scenario_of,
)

# Flags of the harness that describe this run's machine, not the Prometheus being forecast.
LOCAL_FLAGS = ("--config.file", "--storage.tsdb.path", "--web.listen-address", "--log.level")


def is_calibrated(sc: dict) -> bool:
    return "calibrate" in fid(sc)


def files(rec: str) -> dict:
    r = fidelity.RECORDINGS
    return {"answers": r / f"{rec}.calibrate.json.gz", "table": r / f"{rec}.calibrate.txt", "flags": r / f"{rec}.flags",
            "yml": r / f"{rec}.prometheus.yml"}


# ---------------------------------------------------------------- the live run


def wait_phase(sc: dict, log=print) -> None:
    """Sleeps until Unix time modulo the block range is `start_phase` (minus the ~0.3 s the
    target takes to start), so the head compactions come at the same seconds in every run."""
    phase = fid(sc).get("start_phase")
    if phase is None:
        return
    r = parse_duration(sc.get("tsdb", {}).get("min_block_duration", "2h"))
    want = (parse_duration(phase) - 0.3) % r
    wait = (want - time.time() % r) % r
    log(f"calibrated: waiting {wait:.0f}s for phase {phase} of the {r:.0f}s block range")
    time.sleep(wait)


def live(name: str, rwsim: str, prometheus: str, port_base: int, label: str | None = None, log=print) -> None:
    """fidelity.live, plus `rwsim calibrate` against the running Prometheus before the fault."""
    sc = load_scenario(name)
    rec = f"{name}@{label}" if label else name
    cal = fid(sc)["calibrate"]
    start_at, window = parse_duration(cal.get("at", "15s")), parse_duration(cal["window"])
    first_fault = min((parse_duration(f["start"]) for f in sc.get("receiver", {}).get("fault", [])), default=None)
    if first_fault is not None and start_at + window + 5 > first_fault:
        sys.exit(f"calibrated: {name}: calibrate at {start_at:.0f}s for {window:.0f}s would overlap the fault at "
                 f"{first_fault:.0f}s")
    ports = {"target": port_base + 1, "serve": port_base + 2, "prometheus": port_base + 3}
    tmp = Path(tempfile.mkdtemp(prefix=f"rwsim-calibrated-{name}-"))
    state: dict = {"proc": None, "error": None, "done": False}
    stop = threading.Event()

    def calibrate_thread():
        # The model's clock (and the fault windows) start when serve starts: found by polling
        # its /metrics, which answers from the moment it listens.
        try:
            deadline = time.time() + 60
            while not stop.is_set():
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{ports['serve']}/metrics", timeout=0.5).read()
                    break
                except Exception:
                    if time.time() > deadline:
                        raise RuntimeError("rwsim serve did not come up")
                    time.sleep(0.02)
            t0 = time.time()
            if stop.wait(max(0.0, t0 + start_at - time.time())):
                return
            cmd = [rwsim, "calibrate", "--prometheus", f"http://127.0.0.1:{ports['prometheus']}",
                   "--window", f"{window:.0f}s", "--out", str(tmp / "out"), "--save", str(tmp / "answers.json")]
            log(f"calibrated: {name}: t={time.time() - t0:.0f}s: {' '.join(cmd[1:])}")
            with open(tmp / "calibrate.txt", "wb") as out:
                p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
                state["proc"] = p
                rc = p.wait()
            log(f"calibrated: {name}: t={time.time() - t0:.0f}s: rwsim calibrate exited {rc}")
            if rc != 0:
                raise RuntimeError(f"rwsim calibrate exited {rc}: {(tmp / 'calibrate.txt').read_text()}")
            state["done"] = True
        except Exception as e:  # reported after the run
            state["error"] = e

    wait_phase(sc, log)
    th = threading.Thread(target=calibrate_thread, daemon=True)
    th.start()
    try:
        fidelity.live(name, rwsim, prometheus, port_base, log=log, label=label)
        th.join(5)
        if state["error"] or not state["done"]:
            raise RuntimeError(f"calibrated: {name}: calibrate did not complete: {state['error']}")
        f = files(rec)
        # Gzipped: the sampled /metrics pages repeat themselves (530 KB → about 50 KB).
        with open(tmp / "answers.json", "rb") as src, gzip.open(f["answers"], "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
        shutil.copy(tmp / "calibrate.txt", f["table"])
        flags = [x for x in prometheus_flags(sc, tmp, ports) if not x.startswith(LOCAL_FLAGS)]
        f["flags"].write_text(" ".join(flags) + "\n")
        log(f"calibrated: {rec}: kept {f['answers'].name}, {f['table'].name}, {f['flags'].name}")
    finally:
        stop.set()
        p = state["proc"]
        if p is not None and p.poll() is None:
            p.terminate()
            p.wait(10)
        th.join(10)
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- the three forecasts


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (datetime.datetime, datetime.date)):
        return json.dumps(v.isoformat())
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"no TOML for {v!r}")


def to_toml(d: dict, prefix: str = "") -> str:
    """TOML for a scenario: top-level tables as `[table]`, lists of tables (faults, workload
    changes) as `[[array]]`, other nested tables (latency distributions, queue_config) inline."""
    lines, later = [], []
    for k, v in d.items():
        if isinstance(v, dict) and not prefix or isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            later.append((k, v))
        else:
            lines.append(f"{k} = {toml_value(v)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in later:
        path = f"{prefix}{k}"
        if isinstance(v, dict):
            out += f"\n[{path}]\n" + to_toml(v, path + ".")
        else:
            for item in v:
                out += f"\n[[{path}]]\n" + to_toml(item, path + ".")
    return out


def aligned(base: dict, sc: dict, meta: dict, label: str) -> dict:
    """`base` (an imported or calibrated scenario) with the harness's fault, clock and
    workload alignment, as fidelity.model_scenario does for the harness's own scenarios."""
    d = json.loads(json.dumps(base, default=str))
    d["name"] = f"{scenario_of(meta['scenario'])} ({label})"
    d.pop("seed", None)
    start_ms = meta["serve_start_unix_ms"]
    d["start"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start_ms // 1000)) + f".{start_ms % 1000:03d}Z"
    d["duration"] = f"{int(-(-(meta['duration_s'] + max(0.0, meta['drained_s'])) // 1))}s"
    w = d.setdefault("workload", {})
    targets = int(w.get("targets", 1))
    series = int(w["series"])
    assert "change" not in w, "a plain workload"
    # No samples before Prometheus's first scrape (it applies targets on a 5 s reload tick),
    # then the scraped series plus the 5 report series per target.
    w["series"] = 0
    w["report_series"] = False
    delay_ms = max(1, meta["first_scrape_unix_ms"] - meta["serve_start_unix_ms"])
    w["change"] = [{"at": f"{delay_ms}ms", "series": series + 5 * targets}]
    rx = d.setdefault("receiver", {})
    rx["fault"] = sc.get("receiver", {}).get("fault", [])
    d["output"] = {"step": "1s"}
    return d


def run_dict(d: dict, rwsim: str) -> tuple[list[dict], dict, str]:
    with tempfile.TemporaryDirectory(prefix="rwsim-calibrated-model-") as tmp:
        text = to_toml(d)
        p = Path(tmp) / "scenario.toml"
        p.write_text(text)
        out = subprocess.run([rwsim, "run", str(p), "--literal", "--json", "--out", tmp], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"calibrated: rwsim run failed on\n{text}\n{out.stderr}")
        summary = json.loads(out.stdout)
        with open(Path(tmp) / "timeseries.csv") as f:
            rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    return rows, summary, text


def imported(rec: str, sc: dict, rwsim: str, tmp: Path) -> dict:
    """The scenario a user writes without measuring anything: import of the same
    prometheus.yml and flags, the series count filled in, every constant at rwsim's default."""
    f = files(rec)
    out = tmp / "import"
    w = sc["workload"]
    cmd = [rwsim, "import", str(f["yml"]), "--flags-file", str(f["flags"]), "--prometheus-version", "2.42",
           "--series", str(w["series"]), "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"calibrated: {' '.join(cmd)} failed: {r.stderr}")
    tomls = sorted(out.glob("*.toml"))
    if len(tomls) != 1:
        sys.exit(f"calibrated: rwsim import wrote {len(tomls)} scenarios, expected one")
    return tomllib.loads(tomls[0].read_text())


def calibrated(rec: str, rwsim: str, tmp: Path) -> tuple[dict, str]:
    """The scenario `rwsim calibrate` writes from the answers it saved during the live run,
    and its calibration table."""
    out = tmp / "calibrate"
    answers = tmp / "answers.json"
    answers.write_bytes(gzip.decompress(files(rec)["answers"].read_bytes()))
    cmd = [rwsim, "calibrate", "--from", str(answers), "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"calibrated: {' '.join(cmd)} failed: {r.stdout}{r.stderr}")
    tomls = sorted(out.glob("*.toml"))
    if len(tomls) != 1:
        sys.exit(f"calibrated: rwsim calibrate wrote {len(tomls)} scenarios, expected one")
    return tomllib.loads(tomls[0].read_text()), r.stdout


def constants(d: dict) -> dict:
    w, t, s, rx = d.get("workload", {}), d.get("tsdb", {}), d.get("sender", {}), d.get("receiver", {})
    lat = rx.get("latency", "20ms")
    if isinstance(lat, dict):
        lat = ", ".join(f"{k} {v}" if k != "distribution" else v for k, v in lat.items())
    return {
        "series": w.get("series"),
        "wal_bytes_per_sample": t.get("wal_bytes_per_sample"),
        "wire_bytes_per_sample": w.get("wire_bytes_per_sample"),
        "receiver.latency": lat,
        "request_overhead": s.get("request_overhead", "0s"),
        "scrape_duration": w.get("scrape_duration", "0s"),
    }


def forecast(d: dict, sc: dict, rwsim: str, dur: float) -> dict:
    rows, summary, _ = run_dict(d, rwsim)
    m = model_scalars(sc, rows, summary, dur)
    tl = summary.get("timeline", [])
    return {
        "appended": at(rows, dur, "samples_in_total"),
        "lost": m["lost"],
        "max_lag": m["max_lag"],
        "loss_at": [e["t_seconds"] for e in tl if e["kind"] == "wal_truncation_loss"],
        "restarts": [e["t_seconds"] for e in tl if e["kind"] == "watcher_restart"],
        "truncations": [e["t_seconds"] for e in tl if e["kind"] in ("wal_truncation", "wal_truncation_loss")],
        "segments_created": summary["wal"]["segments_created"],
        # Segments each deleting truncation removed, as "F–K" (from the timeline's messages).
        "deleted": ["–".join(m.groups()) for e in tl if e["kind"] in ("wal_truncation", "wal_truncation_loss")
                    for m in [re.search(r"deleted segments (\d+)–(\d+)", e["message"])] if m],
    }


def flip_point(base: dict, sc: dict, meta: dict, rwsim: str, lo: float, hi: float) -> float | None:
    """The WAL bytes per sample, between lo and hi, at which the forecast (of `base` with the
    harness's alignment) starts losing data through WAL truncation, to 0.01; None if it does
    not change sides in between."""
    def loses(b: float) -> bool:
        d = json.loads(json.dumps(base, default=str))
        d.setdefault("tsdb", {})["wal_bytes_per_sample"] = round(b, 4)
        _, summary, _ = run_dict(aligned(d, sc, meta, f"wal bytes {b:.3f}"), rwsim)
        return summary["samples"]["dropped"]["wal_truncation"] > 0

    lo, hi = min(lo, hi), max(lo, hi)
    if loses(lo) or not loses(hi):
        return None
    while hi - lo > 0.01:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if loses(mid) else (mid, hi)
    return hi


def real_side(rows: list[dict], meta: dict, dur: float) -> dict:
    scraped, stored = receiver_loss(meta, dur)
    comp, prev = [], None
    for x in rows:
        h = x.get("tsdb_head_truncations_total")
        if h is not None and prev is not None and h > prev:
            comp.append(x["t"])
        prev = h if h is not None else prev
    restarts = [(fidelity.log_unix_ms(l) - meta["serve_start_unix_ms"]) / 1000.0
                for l in meta.get("prometheus_log_lines", [])
                if "component=remote" in l and 'msg="Replaying WAL"' in l][1:]  # the first is the queue's start
    # A checkpoint of segments F..K deletes them; a watcher still in a segment c < K loses what
    # follows c (docs/model.md §11.3). c: the watcher's gauge sampled just before.
    loss_at, deleted = [], []
    for l in meta.get("prometheus_log_lines", []):
        if 'msg="WAL checkpoint complete"' in l:
            t = (fidelity.log_unix_ms(l) - meta["serve_start_unix_ms"]) / 1000.0
            k = int(l.split(" last=", 1)[1].split(" ", 1)[0])
            deleted.append(f"{int(l.split(' first=', 1)[1].split(' ', 1)[0])}–{k}")
            if at(rows, t - 0.5, "wal_watcher_current_segment") < k:
                loss_at.append(t)
    return {"scraped": scraped, "lost": scraped - stored, "truncations": comp, "restarts": restarts, "loss_at": loss_at, "deleted": deleted,
            "max_lag": max(((x.get("highest_timestamp_in_seconds") or 0) - (x.get("queue_highest_sent_timestamp_seconds")
                            or 0) for x in rows if x["t"] <= dur and x.get("queue_highest_sent_timestamp_seconds")),
                           default=0.0),
            "segments": (at(rows, rows[-1]["t"], "tsdb_wal_segment_current") or 0) + 1}


def compare(rec: str, rwsim: str, flip: bool = False) -> dict:
    sc = load_scenario(rec)
    rows, meta = load_recording(rec)
    dur = meta["duration_s"]
    with tempfile.TemporaryDirectory(prefix="rwsim-calibrated-") as t:
        tmp = Path(t)
        imp = imported(rec, sc, rwsim, tmp)
        cal, table = calibrated(rec, rwsim, tmp)
    walb_cal = cal.get("tsdb", {}).get("wal_bytes_per_sample")
    if walb_cal is None:
        sys.exit(f"calibrated: {rec}: the calibration has no tsdb.wal_bytes_per_sample")
    mixed = json.loads(json.dumps(imp, default=str))
    mixed.setdefault("tsdb", {})["wal_bytes_per_sample"] = walb_cal
    runs = {}
    for key, label, d in (("defaults", "defaults", imp), ("calibrated", "calibrated", cal),
                          ("wal_only", "defaults + calibrated WAL bytes", mixed)):
        ad = aligned(d, sc, meta, label)
        runs[key] = {"label": label, "constants": constants(d), **forecast(ad, sc, rwsim, dur)}
    harness = fidelity.calibration(rec)
    # Where the forecast switches, searched well around both constants.
    walb_def = runs["defaults"]["constants"]["wal_bytes_per_sample"]
    flip_at = flip_point(imp, sc, meta, rwsim, min(walb_def, walb_cal) / 2, max(walb_def, walb_cal) * 1.5) \
        if flip else None
    return {"flip_at": flip_at, "real": real_side(rows, meta, dur), "runs": runs, "meta": meta, "calibrate_table": table,
            "harness_wal_bytes_per_sample": harness["wal_bytes_per_sample"],
            "harness_wire_bytes_per_sample": harness["wire_bytes_per_sample"],
            "scenario": sc}


def loss_pp(r: dict, key: str) -> tuple[float, float]:
    """(model loss %, error in points against the real loss %)."""
    real = pct(r["real"]["lost"], r["real"]["scraped"])
    m = r["runs"][key]
    model = pct(m["lost"], m["appended"])
    return model, model - real


def times(ts):
    return ", ".join(f"{t:.0f}s" for t in ts) if ts else "none"


def markdown(rec: str, r: dict) -> str:
    m, real, sc = r["meta"], r["real"], r["scenario"]
    fault = sc["receiver"]["fault"][0]
    lines = [
        f"Recording `{rec}`: {m['prometheus'].split(' (')[0]}, {m.get('values', 'cycle')} values, "
        f"{sc['workload']['series']:,} series + 5 report series, 1 s scrapes; "
        f"`--storage.tsdb.min-block-duration={sc['tsdb']['min_block_duration']}`, "
        f"`--storage.tsdb.wal-segment-size={sc['tsdb']['wal_segment_size']}`; "
        f"{fault['status']} from {fault['start']} to {fault['end']}; recorded {m['host']['recorded_utc']}, "
        f"load average {' / '.join(m['host']['loadavg_before'])} before and "
        f"{' / '.join(m['host']['loadavg_after'])} after ({m['host']['nproc']} cores).",
        "",
        "| | lost at the receiver | error | WAL bytes/sample | wire bytes/sample | receiver latency | "
        "request overhead | scrape duration | WAL loss at (s) | watcher restart (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| real Prometheus 2.42 | **{real['lost']:,.0f} ({pct(real['lost'], real['scraped']):.2f} %)** | | "
        f"{r['harness_wal_bytes_per_sample']:.2f} (segment files) | {r['harness_wire_bytes_per_sample']:.2f} | "
        f"20ms (serve) | | | {times(real['loss_at'])} | {times(real['restarts'])} |",
    ]
    for key in ("defaults", "calibrated", "wal_only"):
        run = r["runs"][key]
        c = run["constants"]
        model, err = loss_pp(r, key)
        verdict = (" ✓" if abs(err) <= TOL_SHARE_PP else " ✗") if key == "calibrated" else ""
        lines.append(
            f"| model, {run['label']} | {run['lost']:,.0f} ({model:.2f} %) | {err:+.2f} pp{verdict} | "
            f"{c['wal_bytes_per_sample']} | {c['wire_bytes_per_sample']} | {c['receiver.latency']} | "
            f"{c['request_overhead']} | {c['scrape_duration']} | {times(run['loss_at'])} | {times(run['restarts'])} |")
    lines += ["", f"Head compactions: real {times(real['truncations'])}; model (calibrated) "
              f"{times(r['runs']['calibrated']['truncations'])}. Segments deleted by each checkpoint: real "
              f"{', '.join(real['deleted']) or 'none'}; model with defaults "
              f"{', '.join(r['runs']['defaults']['deleted']) or 'none'}; calibrated "
              f"{', '.join(r['runs']['calibrated']['deleted']) or 'none'}."]
    if r.get("flip_at") is not None:
        lines += ["", f"With this run's timing, the model forecasts loss from {r['flip_at']:.2f} WAL bytes per sample "
                  "on (the defaults scenario with only `tsdb.wal_bytes_per_sample` varied, bisected to 0.01)."]
    return "\n".join(lines) + "\n"


def report(rec: str, rwsim: str, mode: str, as_json: bool, results: dict) -> int:
    """Prints the comparison as fidelity.py offline/table do; the number of comparisons out of
    tolerance (the calibrated forecast's loss only)."""
    for k in ("answers", "flags", "yml"):
        if not files(rec)[k].exists():
            print(f"calibrated: {rec}: no {files(rec)[k].name} (run `fidelity.py live {scenario_of(rec)}`)",
                  file=sys.stderr)
            return 1
    r = compare(rec, rwsim, flip=mode == "table")
    results[rec] = {k: v for k, v in r.items() if k not in ("scenario", "calibrate_table")}
    _, err = loss_pp(r, "calibrated")
    if mode == "table":
        print(markdown(rec, r))
    elif not as_json:
        real = r["real"]
        print(f"\n== {rec} (calibrated vs default constants)")
        print(f"  {'':<34} {'lost at the receiver':>22}  {'error':>9}  WAL B/sample  wire B/sample  latency")
        print(f"  {'real Prometheus 2.42':<34} {real['lost']:>11,.0f} ({pct(real['lost'], real['scraped']):5.2f} %)"
              f"  {'':>9}  {r['harness_wal_bytes_per_sample']:>12.2f}  {r['harness_wire_bytes_per_sample']:>12.2f}"
              f"  (segment files, bytes_total)")
        for key in ("defaults", "calibrated", "wal_only"):
            run = r["runs"][key]
            c = run["constants"]
            model, e = loss_pp(r, key)
            flag = ""
            if key == "calibrated":
                flag = "" if abs(e) <= TOL_SHARE_PP else "  <-- OUT OF TOLERANCE"
            print(f"  {'model, ' + run['label']:<34} {run['lost']:>11,.0f} ({model:5.2f} %)  {e:>+6.2f} pp"
                  f"  {c['wal_bytes_per_sample']!s:>12}  {c['wire_bytes_per_sample']!s:>12}  {c['receiver.latency']}"
                  f"{flag}")
        for what, key in (("WAL truncations past the watcher", "loss_at"), ("watcher restarts", "restarts")):
            print(f"  {what}: real {times(real[key])}; calibrated {times(r['runs']['calibrated'][key])}; "
                  f"defaults {times(r['runs']['defaults'][key])}")
        print(f"  segments deleted by each checkpoint: real {', '.join(real['deleted']) or 'none'}; calibrated "
              f"{', '.join(r['runs']['calibrated']['deleted']) or 'none'}; defaults "
              f"{', '.join(r['runs']['defaults']['deleted']) or 'none'}")
    return 0 if abs(err) <= TOL_SHARE_PP else 1


def recordings_of(names: list[str]) -> list[str]:
    if not names:
        names = sorted(p.stem for p in fidelity.SCENARIOS.glob("*.toml") if is_calibrated(load_scenario(p.stem)))
    out = []
    for n in names:
        if "@" in n:
            out.append(n)
            continue
        runs = sorted(p.name[: -len(".csv")] for p in fidelity.RECORDINGS.glob(f"{n}@*.csv"))
        out += ([n] if (fidelity.RECORDINGS / f"{n}.csv").exists() or not runs else []) + runs
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["live", "offline", "table"])
    ap.add_argument("names", nargs="*")
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    ap.add_argument("--rwsim", default=str(target_dir / "release" / "rwsim"))
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    ap.add_argument("--port-base", type=int, default=19300)
    ap.add_argument("--run-label", default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not Path(a.rwsim).exists():
        sys.exit(f"calibrated: {a.rwsim} not found: build it (cargo build --release) or pass --rwsim")
    if a.mode == "live":
        if len(a.names) != 1:
            sys.exit("calibrated: live takes one scenario")
        if not is_calibrated(load_scenario(a.names[0])):
            sys.exit(f"calibrated: {a.names[0]} has no [fidelity] calibrate entry")
        live(a.names[0], a.rwsim, a.prometheus, a.port_base, label=a.run_label)
        a.names = [f"{a.names[0]}@{a.run_label}" if a.run_label else a.names[0]]
    bad, results = 0, {}
    for rec in recordings_of(a.names):
        bad += report(rec, a.rwsim, "table" if a.mode == "table" else "offline", a.json, results)
    if a.json:
        print(json.dumps(results, indent=1, default=str))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
