#!/usr/bin/env bash
# Single-scale vs coarse-to-fine: time for the full-size image to reach a loss.
#   bash bench/multiscale.sh [SIZE] [ITERATIONS]     (defaults 256 100)
# Runs `nst stylize` twice on the shared Tubingen / Starry Night pair:
#   single: --size SIZE, ITERATIONS iterations
#   multi:  --scales SIZE/2,SIZE, ITERATIONS/2 iterations per scale
# and prints, from the two run records, each run's time and final loss, and how
# long the single-scale run needed to reach the multi-scale run's final loss.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-256}
its=${2:-100}
shared=${NST_SHARED:-../shared}
out=${OUT:-out/multiscale}
mkdir -p "$out"
common=(--content "$shared/images/tubingen.jpg" --style "$shared/images/starry_night.jpg" --print-every 0)
build/nst stylize "${common[@]}" --size "$size" --iterations "$its" --output "$out/single.png"
build/nst stylize "${common[@]}" --scales "$((size / 2)),$size" --iterations "$((its / 2))" --output "$out/multi.png"
/usr/bin/python3 - "$out/single.png.json" "$out/multi.png.json" <<'PY'
import json, sys
single, multi = (json.load(open(p)) for p in sys.argv[1:3])
s_scale = single["result"]["scales"][-1]
m_scales = multi["result"]["scales"]
target = multi["result"]["final_loss"]
per_it = s_scale["seconds"] / max(1, s_scale["iterations"])
reach = next((i + 1 for i, l in enumerate(s_scale["loss_trace"]) if l <= target), None)
print(f"single-scale {s_scale['width']}x{s_scale['height']}: {s_scale['iterations']} iterations, "
      f"{single['result']['seconds']:.1f} s, final loss {single['result']['final_loss']:.4g}")
print("multi-scale " + " + ".join(f"{s['width']}x{s['height']} {s['iterations']} it {s['seconds']:.1f} s" for s in m_scales)
      + f": {multi['result']['seconds']:.1f} s, final loss {target:.4g}")
if reach:
    t = reach * per_it
    print(f"single-scale reaches {target:.4g} after {reach} iterations ~ {t:.1f} s: "
          f"multi-scale takes {multi['result']['seconds'] / t:.2f} of that time")
else:
    print(f"single-scale never reaches {target:.4g} in {s_scale['iterations']} iterations "
          f"({single['result']['seconds']:.1f} s): multi-scale is better at less than "
          f"{multi['result']['seconds'] / single['result']['seconds']:.2f} of the time")
PY
