#!/usr/bin/env bash
# Runs every test: installs what the tests need when missing (Samba, LDAP tools, keyutils,
# OpenSSL), then lints and runs the whole suite against real lab DCs. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
require_root
ensure_rust
# shellcheck disable=SC2086
ensure_packages yes $LAB_PACKAGES keyutils openssl

started=$(date +%s)
echo "== format and lints" >&2
if cargo fmt --version >/dev/null 2>&1; then cargo fmt --all -- --check; fi
cargo clippy --locked --all-targets --quiet -- -D warnings
echo "== tests (in a private kernel keyring session, so the keyring tests touch no user's keys)" >&2
keyctl session - cargo test --locked
echo "== all tests passed in $(( $(date +%s) - started )) s" >&2
