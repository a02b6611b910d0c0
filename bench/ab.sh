#!/bin/bash
# bench/ab.sh DIR_A DIR_B [TIMES] [ROUNDS] — before/after on a shared machine: runs bench/pass-rounds.ts in two
# checkouts of seekdata in turn (A, B, A, B, ...; TIMES pairs, default 3; ROUNDS per run, default 6), one JSON line
# per run, so both sides meet the same load. Each checkout needs its node_modules (a symlink to another checkout's
# is fine) and its WebAssembly module built (node scripts/build-wasm.mjs). SEEKDATA_BENCH_FORMATS picks xz or bzip2.
set -euo pipefail
A=${1:?checkout A}; B=${2:?checkout B}; TIMES=${3:-3}; ROUNDS=${4:-6}
HERE=$(cd "$(dirname "$0")" && pwd)
# An older checkout may predate the script: it gets this one (it imports that checkout's own sources).
for dir in "$A" "$B"; do [ -f "$dir/bench/pass-rounds.ts" ] || cp "$HERE/pass-rounds.ts" "$dir/bench/"; done
for _ in $(seq 1 "$TIMES"); do
  for dir in "$A" "$B"; do
    printf '%s ' "$(basename "$dir")"
    (cd "$dir" && npx tsx bench/pass-rounds.ts "$ROUNDS" | tail -1)
  done
done
