#!/usr/bin/env bash
# A longer structure-aware fuzzing campaign over every parser of the core (see
# crates/release-gate-core/src/fuzz.rs): mutated seed documents, checked for panics, bounded output and
# round trips. `cargo test` runs a short round of the same targets.
#
# Usage: scripts/fuzz.sh [SECONDS per target, default 60] [CASES per round, default 1000] [TARGET filter]
# Prints, per target: executions, time and crashes. Exits non-zero when any target found a failing input
# (each is printed, shrunk, above the summary).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
cases="${2:-1000}"
filter="${3:-}"
threads="${RELEASE_GATE_FUZZ_THREADS:-$(nproc 2>/dev/null || echo 1)}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
RELEASE_GATE_FUZZ_SECONDS="$seconds" RELEASE_GATE_FUZZ_CASES="$cases" \
  cargo test --release --locked -p release-gate-core --lib "fuzz::fuzz_${filter}" -- \
  --nocapture --test-threads="$threads" 2>&1 | tee "$log" | grep -E '^fuzz [a-z_]+: ' || status=$?
if grep -q 'test result: FAILED\|^error' "$log"; then
  status=1
fi
echo
grep -E '^fuzz [a-z_]+: [0-9]+ executions' "$log" | sort
exit "$status"
