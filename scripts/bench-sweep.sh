#!/usr/bin/env bash
# Benchmark of `rwsim sweep` (issue #4), as reported in README.md § Performance.
#
# 1. The 200-point grid of builtin:sweep-outage (a 6h scenario) on 1 thread, then 2 threads:
#    wall time each, and the speed-up. The two sweep.csv files must be identical.
# 2. The same 200 points as 200 sequential `rwsim run` processes (each point's values via
#    --set and its seed via --seed): the per-point cost of `rwsim run`, to compare with the
#    per-point cost of the 1-thread sweep.
#
# The machine may be shared: run it when the load average is low (it is printed first;
# README numbers were taken after waiting for a 1-minute load average below 0.4).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
bin=$CARGO_TARGET_DIR/release/rwsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
now() { date +%s.%N; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for t in 1 2; do
  "$bin" sweep builtin:sweep-outage --threads "$t" --timing --out "$out/t$t" >/dev/null
done
cmp "$out/t1/sweep.csv" "$out/t2/sweep.csv" && echo "1 and 2 threads: byte-identical sweep.csv"

points=0
t0=$(now)
# Columns: point, max_shards, capacity, replications, seed, ...
while IFS=, read -r _ shards capacity _ seed _; do
  "$bin" run builtin:sweep-outage --seed "$seed" \
    --set "remote_write.queue_config.max_shards=$shards" \
    --set "remote_write.queue_config.capacity=$capacity" >/dev/null
  points=$((points + 1))
done < <(tail -n +2 "$out/t1/sweep.csv")
t1=$(now)
awk -v a="$t0" -v b="$t1" -v n="$points" \
  'BEGIN { printf "%d sequential rwsim run: wall %.3f s, %.4f s per point\n", n, b - a, (b - a) / n }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
