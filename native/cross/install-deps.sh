#!/usr/bin/env sh
# What `teecert probe build --target` and the cross-architecture tests need, from
# Debian's packages: the AArch64 and RISC-V cross compilers with their C libraries,
# qemu-user to run what they build, and OpenSSL's headers for the probe host built for
# this machine.  (A cross-built host links the target's libcrypto when Debian has it,
# libssl-dev:arm64 after `dpkg --add-architecture arm64`; without it the host is built
# without a key.)  Needs root (or sudo); safe to re-run.
# Skips quietly, with one line, where apt-get is not available.
set -eu
PKGS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user libssl-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: no apt-get here; install$missing by hand for the cross-architecture tests" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
