#!/usr/bin/env bash
# Cross-builds the Windows release of writeback-wizard from this checkout into target/windows/:
# writeback-wizard.exe (self-contained: the mingw runtime linked statically; manifest, icon and
# version information embedded), writeback-wizard-<version>.msi, and SHA256SUMS. Installs what it
# needs when missing (Debian's Rust with the standard library's source, mingw-w64, wixl).
#
# rustup cannot add the Windows target here, so the standard library is built from Debian's
# rust-web-src with -Zbuild-std; RUSTC_BOOTSTRAP=1 lets that stable compiler take -Z flags, for
# this build only (docs/windows.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
# shellcheck disable=SC2086
ensure_packages yes $WINDOWS_BUILD_PACKAGES

target=x86_64-pc-windows-gnu
out=target/windows
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc-posix
# +crt-static links the mingw C runtime and winpthreads into the .exe: no DLL beside it.
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS="-C target-feature=+crt-static"
started=$(date +%s)
# The release carries the wizard and no lab: no Samba lab, no tenant simulator.
/usr/bin/cargo build --locked --release --target "$target" -Zbuild-std=std,panic_abort \
  --target-dir target/windows-build --bin writeback-wizard --no-default-features --features gui
mkdir -p "$out"
cp "target/windows-build/$target/release/writeback-wizard.exe" "$out/writeback-wizard.exe"
x86_64-w64-mingw32-strip "$out/writeback-wizard.exe"

# The .exe imports only system DLLs: anything else would have to ship beside it.
imports=$(x86_64-w64-mingw32-objdump -p "$out/writeback-wizard.exe" | sed -n 's/^\s*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)
allowed='^(kernel32|user32|gdi32|advapi32|ws2_32|ntdll|bcrypt|bcryptprimitives|crypt32|secur32|shell32|ole32|oleaut32|opengl32|imm32|comctl32|comdlg32|dwmapi|uxtheme|userenv|shlwapi|msvcrt|ucrtbase|api-ms-win-[a-z0-9-]+|propsys|winmm|version|dbghelp|iphlpapi|ncrypt|credui|hid|setupapi|cfgmgr32|powrprof|dxgi|d3d11|d3dcompiler_47|synchronization|ktmw32|kernelbase|combase|rpcrt4|uiautomationcore)\.dll$'
if echo "$imports" | grep -Evq "$allowed"; then
  echo "the .exe needs DLLs that Windows does not have:" >&2
  echo "$imports" | grep -Ev "$allowed" >&2
  exit 1
fi

wixl -a x64 -D Version="$version" -D ExeSource="$out/writeback-wizard.exe" \
  -D IconSource=assets/windows/writeback-wizard.ico \
  -o "$out/writeback-wizard-$version.msi" packaging/writeback-wizard.wxs
# The state folder's permissions (MsiLockPermissionsEx, Windows Installer 5.0) and its staying on
# uninstall (msidbComponentAttributesPermanent, 16, with 64-bit, 256): wixl writes neither.
sddl=$(sed -n 's/^pub const STATE_FOLDER_SDDL: &str = "\(.*\)";/\1/p' crates/base/src/platform/mod.rs)
[ -n "$sddl" ] || { echo "STATE_FOLDER_SDDL not found" >&2; exit 1; }
msibuild "$out/writeback-wizard-$version.msi" \
  -q "CREATE TABLE \`MsiLockPermissionsEx\` (\`MsiLockPermissionsEx\` CHAR(72) NOT NULL, \`LockObject\` CHAR(72) NOT NULL, \`Table\` CHAR(32) NOT NULL, \`SDDL\` LONGCHAR NOT NULL, \`Condition\` CHAR(255) PRIMARY KEY \`MsiLockPermissionsEx\`)" \
  -q "INSERT INTO \`MsiLockPermissionsEx\` (\`MsiLockPermissionsEx\`, \`LockObject\`, \`Table\`, \`SDDL\`) VALUES ('StateFolderLock', 'STATEDIR', 'CreateFolder', '$sddl')" \
  -q "UPDATE \`Component\` SET \`Attributes\` = 272 WHERE \`Component\` = 'StateFolder'"
(cd "$out" && sha256sum writeback-wizard.exe "writeback-wizard-$version.msi" > SHA256SUMS)
echo "built $out/writeback-wizard.exe and $out/writeback-wizard-$version.msi in $(( $(date +%s) - started )) s" >&2
