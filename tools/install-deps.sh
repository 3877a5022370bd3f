#!/usr/bin/env bash
# Installs the Debian packages nst needs to build, if any is missing; with
# --browser also what the test suite's browser test needs: Debian's chromium,
# node and npm, and playwright-core (npm ci --prefix tests/browser; it drives
# Debian's chromium, it never downloads a browser). `make demo` builds without
# those, `make test` asks for them. Uses sudo when not root. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
browser=0
[ "${1:-}" = "--browser" ] && browser=1
pkgs=(g++ cmake make pkg-config libtbb-dev libxsimd-dev libstb-dev catch2 libcpp-httplib-dev)
[ $browser -eq 1 ] && pkgs+=(chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm from Debian unless the machine has them (e.g. another vendor's nodejs,
# which brings its own npm and conflicts with Debian's npm package).
if [ $browser -eq 1 ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "nst: installing missing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
if [ $browser -eq 1 ] && [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
  echo "nst: installing the browser test's playwright-core (npm ci --prefix tests/browser)" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund ||
    echo "nst: WARNING: npm ci failed: the browser test (ctest browser_page) will be skipped" >&2
fi
