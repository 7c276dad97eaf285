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
ensure_packages ask $BUILD_PACKAGES $LAB_PACKAGES $GUI_PACKAGES
cargo build --locked --quiet
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No desktop session here (DISPLAY and WAYLAND_DISPLAY are empty): the wizard needs one." >&2
  echo "From a desktop terminal run: sudo -E $0   (-E keeps DISPLAY for root)." >&2
  echo "Without a desktop, the same engine runs on the command line: ./target/debug/writeback-wizard --help" >&2
  exit 2
fi
exec ./target/debug/writeback-wizard --lab "$@"
