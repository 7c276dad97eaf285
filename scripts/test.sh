#!/usr/bin/env bash
# Runs every test: installs what the tests need when missing (Samba, LDAP tools, Xvfb and Mesa
# for the real-window test, keyutils, OpenSSL, Node.js for the third-party OAuth server, the
# Windows cross-build's toolchain, Wine), then lints, builds the Windows .exe and MSI, runs the
# whole suite against real lab DCs, the tenant simulator and oidc-provider — the Windows build
# under Wine included — and fuzzes. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
require_root
ensure_rust
# shellcheck disable=SC2086
ensure_packages yes $BUILD_PACKAGES $KERBEROS_TEST_PACKAGES $LAB_PACKAGES $GUI_PACKAGES $WINDOW_TEST_PACKAGES $WINDOWS_BUILD_PACKAGES $WINE_PACKAGES keyutils openssl
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || ensure_packages yes nodejs npm

started=$(date +%s)
echo "== format and lints" >&2
if cargo fmt --version >/dev/null 2>&1; then cargo fmt --all -- --check; fi
cargo clippy --locked --workspace --all-targets --features crash-points --quiet -- -D warnings
# The CLI alone (no wizard, no lab), and the Windows release's features (the wizard, no lab).
cargo clippy --locked --no-default-features --bins --quiet -- -D warnings
cargo clippy --locked --no-default-features --features gui --bins --quiet -- -D warnings
echo "== the Windows build: writeback-wizard.exe and its MSI (scripts/windows.sh)" >&2
scripts/windows.sh
echo "== the certified OAuth server the sign-in conformance test runs against (npm)" >&2
(cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
echo "== tests (in a private kernel keyring session, so the keyring tests touch no user's keys)" >&2
# `crash-points` (test only, never in a release) lets the crash test kill the binary mid-apply.
keyctl session - cargo test --locked --workspace --features crash-points
echo "== benchmarks, smoke sizes (docs/performance.md has the full figures; cargo bench --bench perf)" >&2
WRITEBACK_LAB_TEMPLATE_DIR="$PWD/target/tmp/lab-template" cargo bench --locked --profile dev --bench perf -- --smoke
echo "== fuzzing (each target for a bounded time, from its in-tree corpus and dictionary)" >&2
if ! cargo fuzz --version >/dev/null 2>&1; then cargo install cargo-fuzz --locked; fi
# cargo fuzz has no --locked: a fuzz/Cargo.lock that is not current would be rewritten. Fail
# instead, so a run leaves the work tree as it found it.
(cd fuzz && cargo metadata --locked --format-version 1 >/dev/null)
fuzz_seconds=${WRITEBACK_FUZZ_SECONDS:-20}
for target in sd_decode:sd sddl_parse:sddl ad_diagnostic:diag settings:settings journal:journal graph_json:graph token_json:token win_events:events access_check:sddl; do
  name=${target%%:*}; dict=${target##*:}
  scratch=$(mktemp -d)
  # New inputs go to the scratch folder; the in-tree corpus is only read. A crash, a leak of
  # memory past the limits, or a panic makes cargo fuzz exit non-zero and leaves the input in
  # fuzz/artifacts/.
  if ! (cd fuzz && cargo fuzz run --sanitizer none "$name" "$scratch" "corpus/$name" -- \
      -max_total_time="$fuzz_seconds" -dict="dict/$dict.dict" -rss_limit_mb=512 -malloc_limit_mb=64) > "$scratch.log" 2>&1; then
    tail -40 "$scratch.log" >&2
    echo "fuzz target $name failed; the input is in fuzz/artifacts/$name" >&2
    exit 1
  fi
  echo "fuzz $name: $(grep -E '^Done' "$scratch.log")" >&2
  rm -rf "$scratch" "$scratch.log"
done
echo "== all tests passed in $(( $(date +%s) - started )) s" >&2
