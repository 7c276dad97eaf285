#!/usr/bin/env bash
# Runs writeback-wizard in lab mode: a Samba AD DC on loopback (installed if missing, asking
# first on a terminal) and, once the wizard exists, the wizard on it. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
require_root
ensure_rust
# shellcheck disable=SC2086
ensure_packages ask $LAB_PACKAGES
cargo build --locked --quiet
exec ./target/debug/writeback-wizard --lab "$@"
