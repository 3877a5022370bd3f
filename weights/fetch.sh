#!/usr/bin/env bash
# Downloads torchvision's ImageNet VGG-19 checkpoint into DIR (default build/) and
# checks its SHA-256, then prints the file's path. Used by `make weights` when
# neither VGG19_SOURCE nor the shared data folder is available.
#
#   bash weights/fetch.sh [DIR]
#
# Override with VGG19_URL and VGG19_SHA256 (full 64 hex digits, or a prefix). The
# default pins the 8-digit prefix that torch hub file names carry ("-dcbb9e9d"),
# which is all that is published for this file.
set -euo pipefail
dir=${1:-build}
url=${VGG19_URL:-https://download.pytorch.org/models/vgg19-dcbb9e9d.pth}
want=${VGG19_SHA256:-dcbb9e9d}
name=$(basename "$url")
out="$dir/$name"

die() {
  echo "weights/fetch.sh: $*" >&2
  echo "weights/fetch.sh: set VGG19_SOURCE to a local VGG-19 (a .pth file or a TF.js model folder)," >&2
  echo "  or put the shared data folder at \$NST_SHARED (default ../shared)." >&2
  exit 1
}

mkdir -p "$dir"
if [ ! -f "$out" ]; then
  echo "weights/fetch.sh: downloading $url" >&2
  tmp="$out.part"
  if command -v curl >/dev/null; then
    curl -fL --connect-timeout 15 --retry 2 -o "$tmp" "$url" || { rm -f "$tmp"; die "download of $url failed (no internet?)"; }
  elif command -v wget >/dev/null; then
    wget -q --timeout=15 --tries=2 -O "$tmp" "$url" || { rm -f "$tmp"; die "download of $url failed (no internet?)"; }
  else
    die "neither curl nor wget is installed, cannot download $url"
  fi
  mv "$tmp" "$out"
fi
got=$(sha256sum "$out" | cut -d' ' -f1)
case "$got" in
  "$want"*) ;;
  *) rm -f "$out"; die "$name: SHA-256 $got does not start with $want (corrupted download, removed)" ;;
esac
echo "$out"
