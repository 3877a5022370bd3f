#!/usr/bin/env bash
# ctest's browser test (browser_page, label browser): nst serve's page driven in
# headless Chromium by page.test.mjs (see there for what it checks).
#   bash tests/browser/run.sh NST MODELS_DIR WEIGHTS
# It needs Debian's chromium, node with this folder's node_modules
# (npm ci --prefix tests/browser, as .ci/run does) and the release build's
# weights (make weights models). Without one of them it says so and exits 77,
# which ctest reports as skipped (SKIP_RETURN_CODE), never as passed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
nst=${1:-} models=${2:-} weights=${3:-}
chromium=${CHROMIUM:-/usr/bin/chromium}
skip() {
  echo "********************************************************************"
  echo "SKIPPED: the browser test of nst serve's page did not run: $*"
  echo "********************************************************************"
  exit 77
}
command -v node >/dev/null || skip "no node on PATH (apt-get install nodejs npm)"
[ -x "$chromium" ] || skip "no Chromium at $chromium (apt-get install chromium, or set CHROMIUM)"
[ -f "$here/node_modules/playwright-core/package.json" ] ||
  skip "no $here/node_modules/playwright-core (run: npm ci --prefix tests/browser)"
[ -x "$nst" ] || skip "no nst program at '$nst'"
compgen -G "$models/*.nstw" >/dev/null || skip "no style networks $models/*.nstw (make models)"
[ -f "$weights" ] || skip "no VGG-19 weights at '$weights' (make weights)"
exec node "$here/page.test.mjs" "$nst" "$models" "$weights"
