#!/usr/bin/env bash
# Recompute the decision log's hash chain with jq and sha256sum only, and compare the head with the
# checkpoint; the same commands as README "Verify without release-gate". Run at the repository root.
set -euo pipefail
prev=0000000000000000000000000000000000000000000000000000000000000000
n=0
while IFS= read -r line; do
  n=$((n + 1))
  [ "$(printf '%s' "$line" | jq -r .prev)" = "$prev" ] || { echo "line $n: prev does not match" >&2; exit 1; }
  [ "$(printf '%s' "$line" | jq -r .seq)" = "$n" ] || { echo "line $n: seq does not match" >&2; exit 1; }
  prev=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
done < .release/ledger.jsonl
[ "$(sed -n 2p .release/ledger.checkpoint)" = "$n" ] || { echo "checkpoint size differs" >&2; exit 1; }
[ "$(sed -n 3p .release/ledger.checkpoint)" = "$prev" ] || { echo "checkpoint head differs" >&2; exit 1; }
principal=$(ssh-keygen -Y find-principals -f .release/allowed_signers -s .release/ledger.checkpoint.sig)
ssh-keygen -Y verify -f .release/allowed_signers -I "$principal" -n release-gate-checkpoint \
  -s .release/ledger.checkpoint.sig < .release/ledger.checkpoint
echo "chain of $n entries verified, head $prev"
