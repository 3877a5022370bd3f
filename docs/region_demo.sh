#!/bin/sh
# The pictures of the README's "Regions, strength and style statistics" section,
# made by nst stylize from ../shared images and the masks in docs/masks/
# (grey PNGs: white = the region). Run from the repository root after `make` and
# `make weights`; writes into ${OUT:-/tmp/nst-region-demo}, then the README's
# JPEGs into docs/.
set -eu
S=${NST_SHARED:-../shared}
OUT=${OUT:-/tmp/nst-region-demo}
mkdir -p "$OUT"
nst=build/nst
# Two styles by region: The Starry Night on the left, The Scream on the right.
$nst stylize --content "$S/images/tubingen.jpg" --style "$S/images/starry_night.jpg" \
  --style "$S/images/the_scream.jpg" --style-mask docs/masks/tubingen_left.png \
  --style-mask docs/masks/tubingen_right.png --size 384 --output "$OUT/regions.png" --print-every 0
# A protected face: the same run with and without --content-mask (weight 30, the default).
$nst stylize --content "$S/images/train/0027.jpg" --style "$S/images/starry_night.jpg" --size 384 \
  --output "$OUT/dog.png" --print-every 0
$nst stylize --content "$S/images/train/0027.jpg" --style "$S/images/starry_night.jpg" --size 384 \
  --content-mask docs/masks/dog_face.png --output "$OUT/dog_face_kept.png" --print-every 0
# A strength sweep: style weights 10, 100 (the default) and 1000, and their strip.
$nst stylize --content "$S/images/tubingen.jpg" --style "$S/images/starry_night.jpg" --size 384 \
  --style-weights 10,100,1000 --output "$OUT/strength.png" --print-every 0
# Style statistics: Gram matrices (default), means and covariances, and the
# 2-Wasserstein distance of the Gaussian fits (a tenth of the style weight: it
# pulls harder near the optimum, and at 100 The Scream's own layout takes over).
$nst stylize --content "$S/images/tubingen.jpg" --style "$S/images/the_scream.jpg" --size 384 \
  --output "$OUT/gram.png" --print-every 0
$nst stylize --content "$S/images/tubingen.jpg" --style "$S/images/the_scream.jpg" --size 384 \
  --style-loss mean-cov --output "$OUT/mean_cov.png" --print-every 0
$nst stylize --content "$S/images/tubingen.jpg" --style "$S/images/the_scream.jpg" --size 384 \
  --style-loss w2 --style-weight 10 --output "$OUT/w2.png" --print-every 0
# The README's JPEGs: side by side where there are two.
/usr/bin/python3 - "$OUT" <<'PY'
import sys
from PIL import Image
out = sys.argv[1]
def row(names, dest):
    ims = [Image.open(f"{out}/{n}").convert("RGB") for n in names]
    w, h = ims[0].size
    s = Image.new("RGB", (len(ims) * (w + 4) - 4, h), "white")
    for i, im in enumerate(ims):
        s.paste(im, (i * (w + 4), 0))
    s.save(dest, quality=88)
Image.open(f"{out}/regions.png").convert("RGB").save("docs/regions_two_styles.jpg", quality=88)
row(["dog.png", "dog_face_kept.png"], "docs/regions_face_kept.jpg")
Image.open(f"{out}/strength_strip.png").convert("RGB").save("docs/strength_strip.jpg", quality=88)
row(["gram.png", "mean_cov.png", "w2.png"], "docs/style_losses.jpg")
PY
