#!/usr/bin/env bash
# Installs the Debian packages nst needs to build and test, if any is missing,
# and the browser test's playwright-core (npm ci --prefix tests/browser; it
# drives Debian's chromium, it never downloads a browser). Uses sudo when not
# root. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(g++ cmake make pkg-config libtbb-dev libxsimd-dev libstb-dev catch2 libcpp-httplib-dev chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm from Debian unless the machine has them (e.g. another vendor's nodejs,
# which brings its own npm and conflicts with Debian's npm package).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "nst: installing missing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
  echo "nst: installing the browser test's playwright-core (npm ci --prefix tests/browser)" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund ||
    echo "nst: WARNING: npm ci failed: the browser test (ctest browser_page) will be skipped" >&2
fi
