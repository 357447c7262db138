#!/usr/bin/env bash
# A profile-guided (PGO) release build of rwsim, for the heaviest use: long runs, large sweeps,
# the robust answer of big scenarios. Same code, same results: PGO changes only how the
# compiler lays out and inlines the code (no fast-math), so every output is byte-identical
# to the plain `cargo build --release` binary. On this project's 2-core machine it simulates
# builtin:bench-1m-24h about 13 % faster (README.md § Performance).
#
#   scripts/pgo-build.sh              # builds target/pgo/release/rwsim
#   scripts/pgo-build.sh --check      # ... and compares its outputs with the plain build's
#
# Exit status: 0 built (and, with --check, identical), 2 bad usage, 3 no llvm-profdata for
# rustc's LLVM could be found, anything else the failing step's own (a --check difference is
# a bug: report it). RUSTFLAGS already set are kept, and the profile flags added to them.
#
# Steps: an instrumented build (target/pgo-gen), training runs of bundled scenarios that
# cover every sender model and the sweep path, merging their profiles with llvm-profdata,
# and the optimised build (target/pgo). llvm-profdata must come from the same LLVM major
# version as rustc: rustup's llvm-tools component, or Debian's llvm-N package (installed
# here when it is missing and we are root or have passwordless sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: scripts/pgo-build.sh [--check]" >&2; exit 2 ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
if [ -z "$llvm_major" ]; then
  echo "pgo-build: could not read rustc's LLVM version from 'rustc -vV'" >&2
  exit 1
fi

host=$(rustc -vV | sed -n 's/^host: //p')

find_profdata() {
  local sysroot p plain
  sysroot=$(rustc --print sysroot)
  for p in "$sysroot/lib/rustlib/$host/bin/llvm-profdata" "$(command -v "llvm-profdata-$llvm_major" || true)" \
           "/usr/lib/llvm-$llvm_major/bin/llvm-profdata"; do
    if [ -n "$p" ] && [ -x "$p" ]; then
      echo "$p"
      return 0
    fi
  done
  # An unversioned one on PATH, if it is of the same LLVM major version.
  plain=$(command -v llvm-profdata || true)
  if [ -n "$plain" ] && "$plain" --version 2>/dev/null | grep -q "LLVM version $llvm_major\."; then
    echo "$plain"
    return 0
  fi
  return 1
}

profdata=$(find_profdata || true)
if [ -z "$profdata" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
  else
    as_root="none"
  fi
  if [ "$as_root" != none ] && command -v apt-get >/dev/null 2>&1; then
    echo "pgo-build: installing llvm-$llvm_major for llvm-profdata (rustc uses LLVM $llvm_major)"
    $as_root apt-get update -qq || true
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "llvm-$llvm_major" \
      || true
  fi
  profdata=$(find_profdata || true)
fi
if [ -z "$profdata" ]; then
  echo "pgo-build: no llvm-profdata for LLVM $llvm_major (rustc's version)." >&2
  echo "  hint: 'rustup component add llvm-tools', or install Debian's llvm-$llvm_major package" >&2
  exit 3
fi
echo "pgo-build: rustc $(rustc -V | cut -d' ' -f2), LLVM $llvm_major, $profdata"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
profiles="$work/profiles"

echo "pgo-build: 1/3 instrumented build (target/pgo-gen)"
# --target: RUSTFLAGS then apply to rwsim and its dependencies only, not to build scripts
# and proc-macros (the rustc book's advice for PGO).
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$profiles" \
  cargo build --release --locked --quiet --target "$host" --target-dir target/pgo-gen --bin rwsim
gen=target/pgo-gen/$host/release/rwsim

echo "pgo-build: 2/3 training runs"
# A 12-point corner of the bundled sweep: instrumented code is slow, and the sweep path is
# the same for 12 points as for 200.
small_grid=(--set remote_write.queue_config.max_shards=2..12:4 --set remote_write.queue_config.capacity=2500..10000:2500)
# The engine's hot path (a day of a million series), every sender model, the lifecycle
# events, and the sweep and robust-answer paths, which run many simulations each.
"$gen" bench --runs 1 >/dev/null
for s in outage-wal-loss agent-outage alloy-outage restart-during-outage sender-oom-catchup \
         reload-during-backlog ingester-oom-crashloop slow-receiver throttled-429; do
  "$gen" run "builtin:$s" --literal --json >/dev/null
done
"$gen" compare builtin:compare-senders --json >/dev/null
"$gen" sweep builtin:sweep-outage "${small_grid[@]}" --out "$work/sweep" >/dev/null
"$gen" run builtin:outage-short >/dev/null
"$profdata" merge -o "$work/rwsim.profdata" "$profiles"

echo "pgo-build: 3/3 optimised build (target/pgo)"
RWSIM_PGO=1 RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$work/rwsim.profdata" \
  cargo build --release --locked --quiet --target "$host" --target-dir target/pgo --bin rwsim
mkdir -p target/pgo/release
cp "target/pgo/$host/release/rwsim" target/pgo/release/rwsim
bin=target/pgo/release/rwsim
echo "pgo-build: built $bin"

if [ "$check" -eq 1 ]; then
  # The PGO binary must give the same bytes as the plain build.
  cargo build --release --locked --quiet --bin rwsim
  plain=target/release/rwsim
  for s in bench-1m-24h outage-wal-loss agent-outage alloy-outage sender-oom-catchup; do
    "$plain" run "builtin:$s" --literal --json >"$work/plain.json"
    "$bin" run "builtin:$s" --literal --json >"$work/pgo.json"
    cmp "$work/plain.json" "$work/pgo.json"
  done
  "$plain" compare builtin:compare-senders --json >"$work/plain.json"
  "$bin" compare builtin:compare-senders --json >"$work/pgo.json"
  cmp "$work/plain.json" "$work/pgo.json"
  "$plain" sweep builtin:sweep-outage --out "$work/sweep-plain" >/dev/null
  "$bin" sweep builtin:sweep-outage --out "$work/sweep-pgo" >/dev/null
  cmp "$work/sweep-plain/sweep.csv" "$work/sweep-pgo/sweep.csv"
  cmp "$work/sweep-plain/sweep.json" "$work/sweep-pgo/sweep.json"
  echo "pgo-build: outputs byte-identical to the plain release build (5 runs, compare, a 200-point sweep)"
fi
