#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, then every test.
# Installs what the tests need (pinned) and fails loudly when something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
cargo --version
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

step "test tools: ssh-keygen, git, jq, sha256sum, Python, npm, script; pinned clients"
# Debian packages that provide the tools, installed when missing (the machine's package manager).
declare -A package=([ssh-keygen]=openssh-client [git]=git [jq]=jq [sha256sum]=coreutils [python3]=python3
  [npm]=npm [script]=bsdutils)
for tool in ssh-keygen git jq sha256sum python3 npm script; do
  if ! command -v "$tool" >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq "${package[$tool]}"
    fi
    command -v "$tool" >/dev/null || { echo "error: $tool is required by the tests and is not installed" >&2; exit 1; }
  fi
done
# The end-to-end tests run real clients and verifiers (MCP SDK, securesystemslib, Inspector, the
# conformance suite, Codex) against the real binary; install them exactly as pinned.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
export RELEASE_GATE_PYTHON="$PWD/.venv/bin/python"
export RELEASE_GATE_NODE_DIR="$PWD/tests/node"

# Prometheus and promtool for the metric tests, from Debian's package without its service: `apt-get download`
# and `dpkg -x` run no maintainer script, so no daemon starts on 0.0.0.0:9090; the tests start their own
# servers on 127.0.0.1. Pinned to the version Debian 12 offers.
PROMETHEUS_VERSION=2.42.0+ds-5+deb12u1
prometheus_dir="$PWD/target/prometheus"
if [ "$(cat "$prometheus_dir/version" 2>/dev/null)" != "$PROMETHEUS_VERSION" ] || [ ! -x "$prometheus_dir/usr/bin/prometheus" ]; then
  download=$(mktemp -d)
  chmod 755 "$download"
  (cd "$download" && { apt-get download -qq "prometheus=$PROMETHEUS_VERSION" 2>/dev/null \
    || { apt-get update -qq && apt-get download -qq "prometheus=$PROMETHEUS_VERSION"; }; })
  rm -rf "$prometheus_dir" && mkdir -p "$prometheus_dir"
  dpkg -x "$download"/prometheus_*.deb "$prometheus_dir"
  rm -rf "$download"
  echo "$PROMETHEUS_VERSION" > "$prometheus_dir/version"
fi
"$prometheus_dir/usr/bin/prometheus" --version 2>&1 | head -1
export RELEASE_GATE_PROMETHEUS_DIR="$prometheus_dir/usr/bin"

# The suite never reads this machine's git configuration (in-process servers inherit this environment;
# the end-to-end tests also give every command a temporary HOME). Hostile configuration reaches a test only
# when the test writes it on purpose.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
# Snapshots are reviewed surfaces: never write them from the test run.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
INSTA_UPDATE=no cargo test --workspace --locked 2>&1 | tee "$log"

# One closing line for the whole suite.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\nsuite: %d passed, %d failed\n", p, f; if (p == 0 || f > 0) exit 1 }' "$log"
