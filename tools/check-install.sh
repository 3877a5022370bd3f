#!/usr/bin/env bash
# Checks what `cmake --install` gives a user of the library (run by ctest as
# "install: ..." and by `make check-install`):
#   1. installs the build folder BUILD into a fresh prefix;
#   2. compiles every installed header on its own (each is self-contained and
#      includes only installed headers);
#   3. builds examples/ against the installed package (find_package(nst));
#   4. runs the example on a photo when a model is there (BUILD/models), and the
#      installed nst program, which must find the installed weights by itself.
# Usage: tools/check-install.sh BUILD [WORK]
set -euo pipefail
build=$(cd "${1:?usage: check-install.sh BUILD [WORK]}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
work=${2:-$(mktemp -d)}
rm -rf "$work/prefix" "$work/example"
mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/lib/cmake/nst/nstConfig.cmake" || { echo "check-install: no nstConfig.cmake in $prefix" >&2; exit 1; }
test -x "$prefix/bin/nst" || { echo "check-install: no bin/nst in $prefix" >&2; exit 1; }

count=0
while IFS= read -r h; do
  rel=${h#"$prefix/include/nst/"}
  echo "#include \"$rel\"" | ${CXX:-c++} -std=c++20 -fsyntax-only -I"$prefix/include/nst" -x c++ - ||
    { echo "check-install: the installed header $rel does not compile on its own" >&2; exit 1; }
  count=$((count + 1))
done < <(find "$prefix/include/nst" -name '*.hpp' | sort)
echo "check-install: $count installed headers compile on their own"

cmake -S "$src/examples" -B "$work/example" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/example" -j "${JOBS:-2}" >/dev/null
echo "check-install: examples/ built against the installed package"

shared=${NST_SHARED:-$src/../shared}
model=$(ls "$build"/models/*.nstw 2>/dev/null | head -n 1 || true)
photo="$shared/images/tubingen.jpg"
if [ -n "$model" ] && [ -f "$photo" ]; then
  "$work/example/fast_stylize" "$model" "$photo" "$work/example/out.png" 96
  head -c 8 "$work/example/out.png" | od -An -c | grep -q "P   N   G" ||
    { echo "check-install: the example wrote no PNG" >&2; exit 1; }
  echo "check-install: the example painted $photo with $(basename "$model")"
else
  echo "check-install: SKIPPED running the example (no model in $build/models or no $photo)"
fi
if [ -f "$build/vgg19.nstw" ] && [ -f "$photo" ]; then
  (cd "$work" && env -u NST_WEIGHTS "$prefix/bin/nst" loss --content "$photo" --style "$photo" \
     --image "$photo" --size 64 --json >/dev/null)
  echo "check-install: the installed nst found its installed weights"
else
  echo "check-install: SKIPPED the installed nst's weights (no $build/vgg19.nstw)"
fi
