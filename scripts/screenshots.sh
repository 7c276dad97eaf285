#!/bin/sh
# Regenerates the README's screenshots: the wizard in lab mode in a real X window (Xvfb), driven
# by real pointer clicks (xdotool) through the whole "Customize synchronization options" flow.
# Needs: xvfb, imagemagick, xdotool, x11-utils. Usage: scripts/screenshots.sh [OUT_DIR]
# The wizard's log of the last run is left in ${TMPDIR:-/tmp}/writeback-wizard-screenshots.log.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/docs/screenshots}
work=$(mktemp -d)
trap 'cp "$work/wizard.log" "${TMPDIR:-/tmp}/writeback-wizard-screenshots.log" 2>/dev/null; kill $wiz $xvfb 2>/dev/null || true; WRITEBACK_LOG_DIR=$work/logs XDG_DATA_HOME=$work/data "$bin" lab down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cargo build --quiet --manifest-path "$here/Cargo.toml"
bin=$here/target/debug/writeback-wizard
n=151; while [ -e /tmp/.X11-unix/X$n ]; do n=$((n + 1)); done
Xvfb :$n -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
while [ ! -e /tmp/.X11-unix/X$n ]; do sleep 0.1; done
export DISPLAY=:$n XDG_RUNTIME_DIR=$work XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config WRITEBACK_LOG_DIR=$work/logs
chmod 700 "$work"
"$bin" --lab --theme light >"$work/wizard.log" 2>&1 & wiz=$!
id=
while [ -z "$id" ]; do sleep 0.1; id=$(xwininfo -root -tree | awk '/"writeback-wizard/ {print $1; exit}'); done
# Waits until two screenshots in a row are the same (the engine has answered, the frame settled).
settle() {
  prev=; while :; do sleep 0.3; cur=$(import -window "$id" rgb:- | md5sum); [ "$cur" = "$prev" ] && break; prev=$cur; done
}
shot() { settle; import -window "$id" "$out/$1.png"; }
click() { xdotool mousemove --window "$id" "$1" "$2" click 1; settle; }
# Positions in the 940x620 window: Next at the bar's right, the pages' first buttons.
next() { click 897 588; }
mkdir -p "$out"
shot welcome; next; shot tasks; next
# The sign-in button stays off until lab mode is up (the DC and the simulator).
until grep -qs "tenant simulator listening" "$work/data/writeback-wizard/lab-mode/logs/writeback-wizard.log"; do sleep 0.2; done
click 346 160; shot connect-entra; next
click 304 401; sleep 2; shot connect-directories; next
shot scope; next; sleep 1; shot optional-features; next; sleep 1; shot ready
next; sleep 2; shot complete
echo "screenshots in $out"
