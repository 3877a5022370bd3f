#!/usr/bin/env bash
# Compiles every library source for aarch64 with Debian's cross compiler
# (g++-aarch64-linux-gnu), the SIMD kernels as NEON objects, so the NEON path
# is known to build on an x86-64 machine. Installs the cross compiler if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq g++-aarch64-linux-gnu >/dev/null
fi
flags=(-std=c++20 -O2 -Wall -Wextra -Wpedantic -Wshadow -Werror -Isrc -I. -isystem /usr/include/stb
       -idirafter /usr/include -DNST_HAVE_NEON=1 -DNST_VERSION='"aarch64-check"')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
for f in src/*/*.cpp src/nn/kernels/*.cpp tools/*.cpp; do
  case "$f" in
    *.simd.cpp) aarch64-linux-gnu-g++ "${flags[@]}" -DNST_ARCH=xsimd::neon64 -c "$f" -o "$out/$n.o" ;;
    *) aarch64-linux-gnu-g++ "${flags[@]}" -fsyntax-only "$f" ;;
  esac
  n=$((n + 1))
done
fmla=$(for o in "$out"/*.o; do aarch64-linux-gnu-objdump -d "$o"; done | grep -c fmla || true)
echo "aarch64: $n sources compiled; NEON kernels contain $fmla fmla instructions"
[ "$fmla" -gt 0 ]
