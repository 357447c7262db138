#!/usr/bin/env bash
# Speed of `rwsim run` with the robust answer (issue #10), as reported in README.md
# § Performance: every bundled scenario that gets a best/median/worst case, with the robust
# answer (the default) and with --literal, measured by hyperfine (one warm-up, then 5 runs;
# `apt-get install hyperfine`).
#
# The machine is shared: the script waits (up to 30 minutes) for a 1-minute load average
# below 1.0 and prints it before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
bin=$CARGO_TARGET_DIR/release/rwsim
for _ in $(seq 180); do
  awk '{ exit !($1 < 1.0) }' /proc/loadavg && break
  sleep 10
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for s in outage-short outage-wal-loss network-partition object-storage-outage ingester-oom-crashloop \
  proxy-timeout-slow-upstream ring-unready-rollout body-too-large-as-500 rejects-400 rejected-400 \
  tenant-throttled-429 restart-during-outage reload-during-backlog sender-oom-catchup agent-outage \
  alloy-outage sweep-outage bench-1m-24h; do
  runs=$("$bin" run "builtin:$s" | grep -o '^Best, median and worst case: [0-9]* runs' | grep -o '[0-9]*' || echo 1)
  hyperfine --warmup 1 --runs 5 --style none --export-json "/tmp/bench-robust-$s.json" \
    "$bin run builtin:$s" "$bin run builtin:$s --literal" >/dev/null
  python3 - "$s" "$runs" <<'PY'
import json, sys
s, runs = sys.argv[1], sys.argv[2]
r = json.load(open(f"/tmp/bench-robust-{s}.json"))["results"]
print(f"{s:28} robust {r[0]['median']:.3f} s wall, {r[0]['user'] + r[0]['system']:.3f} s CPU ({runs} runs)   literal {r[1]['median']:.3f} s wall, {r[1]['user'] + r[1]['system']:.3f} s CPU")
PY
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
