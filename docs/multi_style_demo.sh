#!/usr/bin/env bash
# docs/multi_style_strip.jpg and docs/multi_style_regions.jpg from a two-style network
# (styles 0 and 1), on tubingen.jpg at 480 px: the interpolation strip (nst fast
# --style-strip) and the sky in style 0 with the town in style 1 in one pass (nst fast
# --style-mask-images). The pictures are nst's; PIL (Debian's python3-pil, run with
# /usr/bin/python3) only draws the two masks and converts the PNGs to JPEG.
#   bash docs/multi_style_demo.sh MODEL.nstw [BUILD]
# The network in the README is the hour-trained scream network (docs/training.md) extended
# by starry_night for 10 minutes:
#   nst train --extend scream.nstw --style starry_night.jpg --images ../shared/images/train \
#             --output scream_night.nstw --size 256 --minutes 10 --content-weight 2
set -euo pipefail
model=${1:?usage: bash docs/multi_style_demo.sh MODEL.nstw [BUILD]}
build=${2:-build}
shared=${NST_SHARED:-../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
photo="$shared/images/tubingen.jpg"
"$build/nst" fast --model "$model" --input "$photo" --size 320 --style-strip 0,0.25,0.5,0.75,1 \
  --output "$work/strip.png"
# Masks at the photo's aspect: the top 42 % (the sky) white in sky.png, the rest in town.png,
# with a soft 6 % band between them.
/usr/bin/python3 - "$photo" "$work" <<'PY'
import sys
from PIL import Image
photo, work = sys.argv[1], sys.argv[2]
w, h = Image.open(photo).size
sky = Image.new("L", (w, h))
for y in range(h):
    t = min(max((y / h - 0.39) / 0.06, 0.0), 1.0)
    sky.paste(int(round(255 * (1 - t))), (0, y, w, y + 1))
sky.save(f"{work}/sky.png")
Image.eval(sky, lambda v: 255 - v).save(f"{work}/town.png")
PY
"$build/nst" fast --model "$model" --input "$photo" --size 480 \
  --style-mask-images "$work/sky.png,$work/town.png" --output "$work/regions.png"
for k in 0 1; do
  "$build/nst" fast --model "$model" --input "$photo" --size 480 --style-index $k --output "$work/s$k.png"
done
/usr/bin/python3 - "$work" <<'PY'
import sys
from PIL import Image
work = sys.argv[1]
Image.open(f"{work}/strip.png").convert("RGB").save("docs/multi_style_strip.jpg", quality=88)
tiles = [Image.open(f"{work}/{n}.png").convert("RGB") for n in ("s0", "regions", "s1")]
w, h = tiles[0].size
out = Image.new("RGB", (3 * w, h))
for i, t in enumerate(tiles):
    out.paste(t, (i * w, 0))
out.save("docs/multi_style_regions.jpg", quality=88)
PY
echo "wrote docs/multi_style_strip.jpg and docs/multi_style_regions.jpg"
