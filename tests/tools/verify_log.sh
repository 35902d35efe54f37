#!/usr/bin/env bash
# Check the decision log branch with git, jq, sha256sum and ssh-keygen only; the same commands as README
# "Verify without release-gate". Run at the repository root: verify_log.sh [REF] (default release-gate-ledger).
set -euo pipefail
ref=${1:-release-gate-ledger}
prev=0000000000000000000000000000000000000000000000000000000000000000
n=0
for c in $(git rev-list --reverse --first-parent "$ref"); do
  n=$((n + 1))
  [ "$(git rev-list --no-walk --parents "$c" | wc -w)" -le 2 ] || { echo "commit $c is a merge" >&2; exit 1; }
  [ "$(git ls-tree --name-only "$c" | tr '\n' ' ')" = "checkpoint checkpoint.sig entry " ] \
    || { echo "commit $c holds other files" >&2; exit 1; }
  entry=$(git cat-file blob "$c:entry")
  [ "$(printf '%s' "$entry" | jq -r .prev)" = "$prev" ] || { echo "entry $n: prev does not match" >&2; exit 1; }
  [ "$(printf '%s' "$entry" | jq -r .seq)" = "$n" ] || { echo "entry $n: seq does not match" >&2; exit 1; }
  prev=$(git cat-file blob "$c:entry" | sha256sum | cut -d' ' -f1)
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
git cat-file blob "$ref:checkpoint" > "$tmp/checkpoint"
git cat-file blob "$ref:checkpoint.sig" > "$tmp/checkpoint.sig"
[ "$(sed -n 2p "$tmp/checkpoint")" = "$n" ] || { echo "the checkpoint's size differs" >&2; exit 1; }
principal=$(ssh-keygen -Y find-principals -f .release/allowed_signers -s "$tmp/checkpoint.sig")
ssh-keygen -Y verify -f .release/allowed_signers -I "$principal" -n release-gate-checkpoint \
  -s "$tmp/checkpoint.sig" < "$tmp/checkpoint"
echo "chain of $n entries verified, head $prev"
