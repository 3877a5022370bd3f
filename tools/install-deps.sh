#!/usr/bin/env bash
# Installs the Debian packages nst needs to build and test, if any is missing.
# Uses sudo when not root. Safe to run again.
set -euo pipefail
pkgs=(g++ cmake make pkg-config libtbb-dev libxsimd-dev libstb-dev catch2 libcpp-httplib-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "nst: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
