#!/usr/bin/env bash
# Produces the default weight file BUILD/vgg19.nstw (what `make weights` runs),
# from the first source available:
#   1. $VGG19_SOURCE: a .pth file, a TF.js model.json, or a folder holding either;
#   2. $NST_SHARED/weights/vgg19-imagenet-uint8 (NST_SHARED defaults to ../shared);
#   3. a download of torchvision's checkpoint (weights/fetch.sh, needs internet).
# Options through the environment: VGG19_DTYPE=uint8|float32 (default: as the
# source), VGG19_CONVENTION=caffe|torchvision (a .pth whose name does not tell).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
nst="$build/nst"
out="$build/vgg19.nstw"
[ -x "$nst" ] || { echo "weights/make_weights.sh: $nst is missing (run make first)" >&2; exit 1; }

convert() {
  local src=$1 from
  if [ -d "$src" ]; then
    if [ -f "$src/model.json" ]; then
      src="$src/model.json"
    else
      local found=("$src"/*.pth)
      [ -f "${found[0]}" ] && [ ${#found[@]} -eq 1 ] ||
        { echo "weights/make_weights.sh: '$src' holds neither model.json nor exactly one .pth" >&2; exit 1; }
      src=${found[0]}
    fi
  fi
  case "$src" in
    *.json) from=tfjs ;;
    *.pth | *.pt) from=pth ;;
    *) echo "weights/make_weights.sh: '$src' is neither a .pth nor a model.json" >&2; exit 1 ;;
  esac
  local args=(convert --from "$from" --input "$src" --output "$out")
  [ -n "${VGG19_DTYPE:-}" ] && args+=(--dtype "$VGG19_DTYPE")
  [ -n "${VGG19_CONVENTION:-}" ] && args+=(--convention "$VGG19_CONVENTION")
  echo "weights: $nst ${args[*]}" >&2
  "$nst" "${args[@]}"
}

shared=${NST_SHARED:-../shared}/weights/vgg19-imagenet-uint8
if [ -n "${VGG19_SOURCE:-}" ]; then
  [ -e "$VGG19_SOURCE" ] || { echo "weights/make_weights.sh: VGG19_SOURCE='$VGG19_SOURCE' does not exist" >&2; exit 1; }
  convert "$VGG19_SOURCE"
elif [ -f "$shared/model.json" ]; then
  convert "$shared"
else
  echo "weights: no VGG19_SOURCE and no '$shared'; trying a download" >&2
  pth=$(bash weights/fetch.sh "$build")  # exits here when the download fails
  convert "$pth"
fi
