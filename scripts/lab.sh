#!/usr/bin/env bash
# Runs the writeback-wizard window in lab mode: a Samba AD DC on loopback and the tenant simulator
# in the wizard's process (packages installed if missing, asking first on a terminal). Needs root
# (the DC's ports) and a desktop session (DISPLAY or WAYLAND_DISPLAY).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
require_root
ensure_rust
# shellcheck disable=SC2086
ensure_packages ask $LAB_PACKAGES $GUI_PACKAGES
cargo build --locked --quiet
exec ./target/debug/writeback-wizard --lab "$@"
