#!/usr/bin/env bash
# Peak memory (max RSS of the whole process, /usr/bin/time -v) and time of
# `nst fast` on one photo at 1024 x 1024 and 3840 x 2160 (4K), both made from
# tubingen.jpg by PIL (Debian's python3-pil), 2 threads by default.
#   bash bench/fast_memory.sh [BUILD] [THREADS]     (after `make models`)
set -euo pipefail
build=${1:-build}
threads=${2:-2}
shared=${NST_SHARED:-../shared}
model=$build/models/la_muse.nstw
[ -f "$model" ] || { echo "no $model: run make models" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$shared/images/tubingen.jpg" "$work" <<'PY'
import sys
from PIL import Image
src, work = sys.argv[1], sys.argv[2]
im = Image.open(src).convert("RGB")
for w, h in [(1024, 1024), (3840, 2160)]:
    im.resize((w, h), Image.BICUBIC).save(f"{work}/in_{w}x{h}.png")
PY
printf "%-11s %8s %12s %12s\n" size threads "peak RSS MB" "network s"
for wh in 1024x1024 3840x2160; do
  /usr/bin/time -v "$build/nst" fast --model "$model" --input "$work/in_$wh.png" \
    --output "$work/out_$wh.png" --threads "$threads" --json >"$work/rec.json" 2>"$work/time.txt"
  rss=$(awk -F': ' '/Maximum resident/ {print int($2 / 1024)}' "$work/time.txt")
  net=$(grep -o '"network_seconds": [0-9.]*' "$work/rec.json" | awk '{print $2}')
  printf "%-11s %8s %12s %12.2f\n" "$wh" "$threads" "$rss" "$net"
done
