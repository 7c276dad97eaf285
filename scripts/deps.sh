# Sourced by scripts/lab.sh and scripts/test.sh: installs the Debian packages a command needs.
# Usage: ensure_packages ask|yes PACKAGE...
#   ask: on a terminal, ask before installing; without one, install (CI, scripts).

missing_packages() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[@]}"
}

ensure_packages() {
  local mode=$1; shift
  local missing; missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages: $missing" >&2
    echo "Install them as root: apt-get update && apt-get install -y --no-install-recommends $missing" >&2
    exit 3
  fi
  if [ "$mode" = ask ] && [ -t 0 ]; then
    read -r -p "Install the Debian packages $missing now? [Y/n] " answer
    case "$answer" in n*|N*) echo "Not installed; nothing was changed." >&2; exit 3;; esac
  fi
  echo "Installing: $missing" >&2
  apt-get update -q >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "Rust is not installed. Install it (https://rustup.rs), then run this again:" >&2
    echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\"" >&2
    exit 3
  fi
}

require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "The lab's Samba domain controller needs root (ports 389/636). Run: sudo $0" >&2
    exit 3
  fi
}

# What building the product on Linux needs besides Rust: MIT Kerberos' headers and GSSAPI library
# (the Kerberos sign-in, through libgssapi) and clang for the bindings libgssapi-sys generates.
BUILD_PACKAGES="libkrb5-dev libgssapi-krb5-2 clang libclang-dev pkg-config"

# What the Kerberos tests need besides: kinit (an existing ticket), faketime (a skewed clock),
# OpenLDAP's GSSAPI plug-in (ldapsearch as an independent reader of the sealed lab DC).
KERBEROS_TEST_PACKAGES="krb5-user faketime libsasl2-modules-gssapi-mit"

# Packages the lab domain controller needs.
LAB_PACKAGES="samba samba-ad-dc samba-ad-provision ldap-utils"

# What the wizard window loads at run time (eframe's OpenGL through Mesa, winit's X11 and
# keyboard libraries; all dlopened, so a missing one only shows when the window opens).
GUI_PACKAGES="libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0"

# What the GUI tests need besides: a virtual X server, screenshots, pointer clicks, xwininfo (the
# real-window test), and Mesa's CPU Vulkan driver (lavapipe) for the page snapshots.
WINDOW_TEST_PACKAGES="xvfb imagemagick xdotool x11-utils mesa-vulkan-drivers libvulkan1"

# What scripts/windows.sh needs: Debian's Rust (with the standard library's source, for
# -Zbuild-std), the mingw-w64 cross tools, and wixl for the MSI.
WINDOWS_BUILD_PACKAGES="rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64-posix g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 wixl msitools"

# What the Wine tests need besides (Debian's wine64 8.0; Xvfb from WINDOW_TEST_PACKAGES; tesseract
# to read the wizard's words off a screenshot of its window under Wine).
WINE_PACKAGES="wine64 wine tesseract-ocr tesseract-ocr-eng"
