#!/usr/bin/env bash
# docs/fast_styles.jpg: tubingen.jpg and the five converted networks' pictures of it,
# side by side. The pictures are nst's (`nst fast`); only the joining is done by PIL
# (Debian's python3-pil, run with /usr/bin/python3).
#   make models && bash docs/fast_strip.sh [BUILD]
set -euo pipefail
build=${1:-build}
shared=${NST_SHARED:-../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
styles=(la_muse rain_princess scream udnie wave)
for s in "${styles[@]}"; do
  "$build/nst" fast --model "$build/models/$s.nstw" --input "$shared/images/tubingen.jpg" \
    --output "$work/$s.png" --size 320
done
/usr/bin/python3 - "$shared/images/tubingen.jpg" "$work" docs/fast_styles.jpg "${styles[@]}" <<'PY'
import sys
from PIL import Image
photo, work, out, styles = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
tiles = [Image.open(f"{work}/{s}.png").convert("RGB") for s in styles]
w, h = tiles[0].size
first = Image.open(photo).convert("RGB").resize((w, h), Image.BICUBIC)
strip = Image.new("RGB", (w * (len(tiles) + 1), h))
for i, t in enumerate([first] + tiles):
    strip.paste(t, (i * w, 0))
strip.save(out, quality=88)
PY
echo "wrote docs/fast_styles.jpg"
