#!/usr/bin/env python3
"""Issue #12 evidence from the fidelity recordings: what real Prometheus 2.42 did, in numbers.

Reads tools/fidelity/recordings/ (never Prometheus, never the model) and prints, per
recording, the real-side figures of docs/fidelity.md's "Round 2 (issue #12)" section:

    round2.py shutdowns RECORDING...   # hard shutdowns: failed/retried jumps, pending, shards (items 1, 3)
    round2.py reshards RECORDING...    # reshard instants, desired shards at each tick, log lines (item 1)
    round2.py coincidences RECORDING...  # each hard shutdown and the tick at the same instant (item 1)
    round2.py watcher RECORDING...     # wal_watcher_current_segment around a WAL-truncation loss (item 2)
    round2.py reqtime RECORDING...     # client time per request vs shards, serve's own time, CPU (item 4)
    round2.py curve RECORDING...       # the same grouped by concurrent requests, over all recordings (item 4)
    round2.py commit RECORDING...      # scrape-to-commit time quantiles (item 5)
    round2.py throttle RECORDING...    # time of a 429 vs a 2xx as Prometheus sees it (item 6)
    round2.py bytes RECORDING...       # WAL and wire bytes per sample (item 7)

Prometheus's remote-write logger drops a line identical (ignoring `ts`) to one it logged in
the last minute (util/logging/dedupe.go, wired in storage/remote/storage.go), so log lines
are evidence only where they are unique ("Failed to flush all samples on shutdown" count=N,
"Remote storage resharding" from/to); counts come from the metrics.
Python 3.11 standard library only.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORDINGS = HERE / "recordings"


def load(rec: str) -> tuple[list[dict], dict]:
    with open(RECORDINGS / f"{rec}.csv") as f:
        rows = [{k: (float(v) if v not in ("", None) else None) for k, v in r.items()} for r in csv.DictReader(f)]
    return rows, json.loads((RECORDINGS / f"{rec}.json").read_text())


def log_s(line: str, meta: dict) -> float:
    """A log line's `ts=`, in seconds since serve started."""
    ts = line.split("ts=", 1)[1].split(" ", 1)[0].rstrip("Z")
    whole, _, frac = ts.partition(".")
    t = time.mktime(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return t + int((frac + "000")[:3]) / 1000 - meta["serve_start_unix_ms"] / 1000


def field(line: str, key: str) -> str | None:
    if f" {key}=" not in line:
        return None
    return line.split(f" {key}=", 1)[1].split(" ", 1)[0].strip('"')


def v(r: dict, k: str) -> float:
    x = r.get(k)
    return 0.0 if x is None else x


def quantiles(xs: list[float], qs=(0.0, 0.1, 0.5, 0.9, 0.99, 1.0)) -> dict:
    xs = sorted(xs)
    if not xs:
        return {}
    out = {}
    for q in qs:
        i = min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))
        out[f"p{int(q * 100)}"] = xs[i]
    return out


# ---------------------------------------------------------------- items 1 and 3


def shutdowns(rec: str) -> list[dict]:
    """Every jump of samples_failed_total, with the state just before it.

    At a hard shutdown (storage/remote/queue_manager.go, shards.stop after flushDeadline)
    every shard still running fails its in-flight batch (sendSamples: retried += n, then
    failed += n), fails batches it takes from its queue (failed += n), and, when its select
    loop in runShard picks ctx.Done(), adds the queue's shared enqueuedSamples (failed += E,
    logged summed as "Failed to flush all samples on shutdown" count=D).
    """
    rows, meta = load(rec)
    flush = [(log_s(l, meta), int(field(l, "count") or 0)) for l in meta.get("prometheus_log_lines", [])
             if "Failed to flush all samples" in l]
    out = []
    for i in range(1, len(rows)):
        a, b = rows[i - 1], rows[i]
        df = v(b, "samples_failed_total") - v(a, "samples_failed_total")
        if df <= 0:
            continue
        d = sum(n for t, n in flush if a["t"] - 0.5 <= t <= b["t"] + 0.5)
        dr = v(b, "samples_retried_total") - v(a, "samples_retried_total")
        e0 = v(a, "samples_pending")
        buffered = df - dr - d
        left = e0 - dr - buffered
        out.append({
            "t": b["t"], "t_before": a["t"], "shards_before": v(a, "shards"), "shards_after": v(b, "shards"),
            "desired_before": v(a, "shards_desired"), "pending_before": e0, "failed_jump": df,
            "retried_jump": dr, "flush_log_count": d, "failed_from_queues": buffered,
            # Each adder adds the shared count at its instant: between what is left after every
            # other failure and the pending count before. Bounds on the number of adders.
            "adders_min": d / e0 if e0 > 0 else None,
            "adders_max": d / left if left > 0 else None,
            "failed_over_pending": df / e0 if e0 > 0 else None,
            "appended_before": v(a, "samples_in_total"),
        })
        if v(a, "shards") > 0 and dr > 0:
            out[-1]["rule"] = predict(int(v(a, "shards")), dr, max(0.0, e0 - dr))
    return out


def predict(shards: int, in_flight: float, queued: float, batch: int = 500, capacity: int = 2500,
            runs: int = 4000, seed: int = 1) -> dict:
    """The hard-shutdown rule derived from v2.42's runShard, drawn `runs` times.

    Every still-running shard is inside sendSamples when the context is cancelled: its
    attempt (or backoff sleep) returns, onRetry adds the batch to samples_retried_total,
    the next loop turn returns ctx.Err(), and sendSamples adds the batch to
    samples_failed_total and subtracts it from the shared enqueuedSamples (E). Back in its
    select, the ready cases are ctx.Done() (always), the batch channel when it holds a batch
    or is closed, and never the timer (just reset for batch_send_deadline). Go picks
    uniformly among ready cases: ctx.Done() adds the current E to samples_failed_total and
    returns; a batch fails at once (the ctx check before any attempt) and subtracts itself
    from E; a closed empty channel returns without adding. A channel is closed once
    FlushAndShutdown pushed the partial batch, i.e. unless the queue was full.

    Queued samples are spread evenly over the shards (samples are sharded by series ref).
    Two interleavings bound reality: (A) shards handled one after the other in random order;
    (B) every adder sees E before any other shard's failures were subtracted.
    """
    import random
    rng = random.Random(seed)
    per_queue = queued / shards if shards else 0
    n_in = in_flight / shards if shards else 0
    full = per_queue >= capacity
    m = math.ceil(per_queue / batch) if per_queue > 0 else 0
    out = {}
    for name in ("A_sequential", "B_no_subtraction_seen"):
        ds, ks, fq = [], [], []
        for _ in range(runs):
            e0 = in_flight + queued
            e = e0
            d = k = drained = 0.0
            for _shard in range(shards):
                e -= n_in
                left = m
                while True:
                    ready = 1 + (1 if left > 0 or not full else 0)
                    if rng.randrange(ready) == 0:
                        d += e if name == "A_sequential" else e0 - n_in
                        k += 1
                        break
                    if left == 0:
                        break
                    size = min(batch, per_queue - (m - left) * batch) if left == 1 else batch
                    e -= size
                    drained += size
                    left -= 1
            ds.append(d)
            ks.append(k)
            fq.append(drained)
        mean = sum(ds) / runs
        sd = (sum((x - mean) ** 2 for x in ds) / runs) ** 0.5
        out[name] = {"flush_count_mean": round(mean), "flush_count_sd": round(sd),
                     "adders_mean": sum(ks) / runs, "failed_from_queues_mean": round(sum(fq) / runs),
                     "failed_jump_mean": round(in_flight + sum(fq) / runs + mean)}
    out["assumed"] = {"queued_per_shard": per_queue, "batches_per_queue": m, "channel_open": full}
    return out


def reshards(rec: str) -> dict:
    rows, meta = load(rec)
    steps = []
    prev = None
    for r in rows:
        s = r.get("shards")
        if s is None:
            continue
        if prev is not None and s != prev:
            steps.append((r["t"], prev, s))
        prev = s
    lines = []
    for l in meta.get("prometheus_log_lines", []):
        if "resharding" in l or "Failed to flush" in l:
            msg = l.split('msg="', 1)[1].split('"', 1)[0]
            extra = " ".join(x for x in (f"from={field(l, 'from')}" if field(l, "from") else "",
                                         f"to={field(l, 'to')}" if field(l, "to") else "",
                                         f"count={field(l, 'count')}" if field(l, "count") else "") if x)
            lines.append((round(log_s(l, meta), 3), msg, extra))
    # The desired count Prometheus computed at each 10 s tick (shards_desired is set at every
    # tick, before the ±30 % band and the reshard gate).
    desired = []
    prevd = None
    for r in rows:
        d = r.get("shards_desired")
        if d is not None and d != prevd:
            desired.append((r["t"], round(d, 2), v(r, "shards")))
        prevd = d
    return {"steps": steps, "log": lines, "desired": desired}


def coincidences(rec: str) -> list[dict]:
    """Each hard shutdown and the reshard tick at the same instant (item 1).

    The tick that started the reshard set t.numShards to its target; a later tick that finds
    a desired count outside ±30 % of it (after math.Ceil) tries the unbuffered reshardChan:
    if reshardLoop is still in shards.stop() it logs "Currently resharding, skipping." (often
    deduplicated away), else it reshards at once and logs a unique "Remote storage
    resharding" line.
    """
    rows, meta = load(rec)
    info = reshards(rec)
    starts = [(t, int(e.split()[0][5:]), int(e.split()[1][3:])) for t, msg, e in info["log"]
              if msg == "Remote storage resharding"]
    out = []
    for ev in shutdowns(rec):
        t_down = ev["t_before"]
        # The reshard in progress: the last one started before the shutdown.
        cur = [x for x in starts if x[0] < t_down - 0.5]
        if not cur:
            continue
        t0, frm, to = cur[-1]
        after = [x for x in starts if t_down - 0.5 <= x[0] <= ev["t"] + 0.5]
        # The tick's desired count: the first row at least 0.1 s after the tick at ~t_down.
        tick = t0 + round((t_down - t0) / 10) * 10
        desired = next((r.get("shards_desired") for r in rows if r["t"] >= tick + 0.1), None)
        lo, hi = to * 0.7, to * 1.3
        if after:
            outcome = f"shutdown first: the tick resharded {after[0][1]}→{after[0][2]} at {after[0][0]:.3f}s"
        elif desired is not None and not (lo <= math.ceil(desired) <= hi):
            outcome = "tick first: skipped (desired outside the band, no reshard logged)"
        else:
            outcome = "no information (desired inside the band)"
        out.append({"hard_shutdown_s": t_down, "reshard_started_s": t0, "from": frm, "to": to,
                    "tick_s": tick, "desired_at_tick": desired, "band": [lo, hi], "outcome": outcome})
    return out


# ---------------------------------------------------------------- item 2


def watcher(rec: str) -> list[tuple]:
    rows, meta = load(rec)
    out, prev = [], None
    for r in rows:
        key = (r.get("wal_watcher_current_segment"), r.get("tsdb_wal_segment_current"),
               r.get("tsdb_wal_truncations_total"), r.get("tsdb_head_truncations_total"))
        if key != prev:
            out.append((r["t"],) + key)
        prev = key
    events = [(round(log_s(l, meta), 3), l.split('msg="', 1)[1].split('"', 1)[0], field(l, "first"), field(l, "last"))
              for l in meta.get("prometheus_log_lines", [])
              if any(k in l for k in ("error tailing WAL", "WAL checkpoint complete", "Deleting obsolete"))
              or ("Replaying WAL" in l and "component=remote" in l)]
    return out, events


# ---------------------------------------------------------------- item 4


def reqtime(rec: str, latency_s: float = 0.020) -> dict:
    """Per second: Prometheus's mean request time, serve's mean answer time for 2xx, the
    shard count, samples sent, Prometheus's CPU; grouped by shard count."""
    rows, meta = load(rec)
    per = []
    for a, b in zip(rows, rows[1:]):
        dn = v(b, "sent_batch_duration_seconds_count") - v(a, "sent_batch_duration_seconds_count")
        if dn <= 0:
            continue
        ds = v(b, "sent_batch_duration_seconds_sum") - v(a, "sent_batch_duration_seconds_sum")
        sn = v(b, "serve_answer_2xx_count") - v(a, "serve_answer_2xx_count")
        ss = v(b, "serve_answer_2xx_seconds_sum") - v(a, "serve_answer_2xx_seconds_sum")
        sent = v(b, "samples_total") - v(a, "samples_total")
        dt = b["t"] - a["t"]
        cpu = (v(b, "prometheus_cpu_seconds") - v(a, "prometheus_cpu_seconds")) / dt
        scpu = (v(b, "serve_cpu_seconds") - v(a, "serve_cpu_seconds")) / dt
        host = (v(b, "host_busy_cpu_seconds") - v(a, "host_busy_cpu_seconds")) / dt
        per.append({"t": b["t"], "shards": v(a, "shards"), "requests": dn, "client_ms": 1000 * ds / dn,
                    "serve_ms": 1000 * ss / sn if sn > 0 else None, "sent_per_s": sent / dt,
                    "prom_cpu": cpu, "serve_cpu": scpu, "host_busy": host,
                    # Concurrent requests by Little's law: requests/s x time per request.
                    "in_flight": dn / dt * ds / dn})
    return {"per_second": per, "host": meta.get("host")}


def curve(*recs: str) -> list[dict]:
    """Item 4's curve over several recordings: intervals grouped by concurrent requests (Little's
    law: requests per second x mean request time), with the request-weighted mean time as
    Prometheus saw it, serve's own answer time, their difference (the client's share on this
    host, which also runs serve), and Prometheus's CPU per sample sent."""
    edges = [0, 0.5, 1.5, 3, 6, 12, 25, 50, 100, 150, 200, 1e9]
    groups: dict[int, dict] = {}
    for rec in recs:
        for p in reqtime(rec)["per_second"]:
            if p["serve_ms"] is None or p["requests"] < 3:
                continue
            g = next(i for i in range(len(edges) - 1) if edges[i] <= p["in_flight"] < edges[i + 1])
            a = groups.setdefault(g, {"n": 0, "req": 0.0, "client": 0.0, "serve": 0.0, "cpu": 0.0, "sent": 0.0,
                                      "shards": [], "recs": set()})
            a["n"] += 1
            a["req"] += p["requests"]
            a["client"] += p["client_ms"] * p["requests"]
            a["serve"] += p["serve_ms"] * p["requests"]
            dt = p["requests"] / max(1e-9, p["in_flight"]) * p["client_ms"] / 1000 if p["in_flight"] > 0 else 0
            a["cpu"] += p["prom_cpu"] * dt
            a["sent"] += p["sent_per_s"] * dt
            a["shards"].append(p["shards"])
            a["recs"].add(rec)
    out = []
    for g in sorted(groups):
        a = groups[g]
        c, sv = a["client"] / a["req"], a["serve"] / a["req"]
        out.append({"in_flight": f"{edges[g]:g}–{edges[g + 1]:g}", "intervals": a["n"], "requests": round(a["req"]),
                    "shards": f"{min(a['shards']):.0f}–{max(a['shards']):.0f}", "client_ms": round(c, 1),
                    "serve_ms": round(sv, 1), "client_minus_serve_ms": round(c - sv, 1),
                    "prom_cpu_us_per_sample": round(1e6 * a["cpu"] / a["sent"], 2) if a["sent"] else None,
                    "recordings": sorted(a["recs"])})
    return out


# ---------------------------------------------------------------- item 5


def commit(rec: str) -> dict:
    rows, meta = load(rec)
    lags = meta.get("commit_lag_ms")
    if not lags:
        return {}
    first = lags[0]
    rest = [x for x in lags[1:] if x is not None]
    return {"first_ms": first, "n": len(rest), "quantiles_ms": quantiles(rest),
            "missing": sum(1 for x in lags if x is None), "host": meta.get("host")}


# ---------------------------------------------------------------- item 6


def throttle(rec: str) -> dict:
    """Least squares over the seconds with answers: Prometheus's summed request time in a
    second = n2xx x d2xx + n429 x d429, with n from serve's own counts."""
    rows, meta = load(rec)
    xs = []
    for a, b in zip(rows, rows[1:]):
        ds = v(b, "sent_batch_duration_seconds_sum") - v(a, "sent_batch_duration_seconds_sum")
        n2 = v(b, "serve_answer_2xx_count") - v(a, "serve_answer_2xx_count")
        n4 = v(b, "serve_answer_429_count") - v(a, "serve_answer_429_count")
        if n2 + n4 > 0:
            xs.append((n2, n4, ds))
    s22 = sum(a * a for a, _, _ in xs)
    s44 = sum(b * b for _, b, _ in xs)
    s24 = sum(a * b for a, b, _ in xs)
    s2y = sum(a * y for a, _, y in xs)
    s4y = sum(b * y for _, b, y in xs)
    det = s22 * s44 - s24 * s24
    out = {}
    if det > 0:
        out["client_2xx_ms"] = 1000 * (s2y * s44 - s4y * s24) / det
        out["client_429_ms"] = 1000 * (s4y * s22 - s2y * s24) / det
    last = rows[-1]
    for c in ("2xx", "429"):
        n = v(last, f"serve_answer_{c}_count")
        out[f"serve_{c}_ms"] = 1000 * v(last, f"serve_answer_{c}_seconds_sum") / n if n else None
        out[f"serve_{c}_answers"] = n
    return out


# ---------------------------------------------------------------- item 7


def bytes_(rec: str) -> dict:
    rows, meta = load(rec)
    last = rows[-1]
    sent = v(last, "samples_total") - v(last, "samples_retried_total")
    n = meta["series_per_scrape"]
    series = sum(n.values())
    run = last["t"]
    return {"values": meta.get("values", "cycle"), "series_per_scrape": series,
            "samples_per_s": v(last, "samples_in_total") / max(1.0, run - (meta["first_scrape_unix_ms"] - meta["serve_start_unix_ms"]) / 1000),
            "wal_bytes_per_sample": v(last, "wal_bytes_written") / max(1.0, v(last, "samples_in_total")),
            "wal_mib": v(last, "wal_bytes_written") / 2**20, "segments": v(last, "tsdb_wal_segment_current") + 1,
            "wire_bytes_per_sample": v(last, "bytes_total") / max(1.0, sent), "run_s": run}


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    what, recs = sys.argv[1], sys.argv[2:]
    if what == "curve":
        for row in curve(*recs):
            print(json.dumps(row, default=str))
        return 0
    fn = {"shutdowns": shutdowns, "reshards": reshards, "watcher": watcher, "reqtime": reqtime,
          "commit": commit, "throttle": throttle, "bytes": bytes_, "coincidences": coincidences}.get(what)
    if fn is None:
        print(__doc__)
        return 2
    for rec in recs:
        print(json.dumps({rec: fn(rec)}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
