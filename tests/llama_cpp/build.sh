#!/usr/bin/env bash
# Builds llama.cpp's `llama` library from the llama-cpp-python source distribution on PyPI (it
# vendors the whole llama.cpp tree) and prints the directory holding `include/` and `lib/`.
#
# The build is cached outside the clone, keyed by the sdist version:
# ${XDG_CACHE_HOME:-~/.cache}/polybpe/llama.cpp-<version>. It is made in a scratch directory and
# renamed into place only when complete, so an interrupted build is never reused (its scratch
# directory is removed by the next run). Needs a C++ compiler; cmake and ninja come from PyPI.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
CACHE_ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/polybpe
DEST=$CACHE_ROOT/llama.cpp-$VERSION
PY=$ROOT/.venv/bin/python

if [ -f "$DEST/lib/.complete" ]; then
  echo "$DEST"
  exit 0
fi
mkdir -p "$CACHE_ROOT"
# Scratch directories of builds whose process is gone (interrupted runs).
for stale in "$CACHE_ROOT"/llama.cpp-"$VERSION".partial.*; do
  [ -d "$stale" ] || continue
  pid=${stale##*.}
  if ! kill -0 "$pid" 2>/dev/null; then rm -rf "$stale"; fi
done
WORK=$DEST.partial.$$
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"
start=$(date +%s)
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
  "llama-cpp-python==$VERSION" -d "$WORK/sdist" >&2
tar -xzf "$WORK/sdist/llama_cpp_python-$VERSION.tar.gz" -C "$WORK"
SRC=$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp
"$ROOT/.venv/bin/cmake" -S "$SRC" -B "$WORK/build" -G Ninja -DCMAKE_MAKE_PROGRAM="$ROOT/.venv/bin/ninja" \
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF \
  -DGGML_OPENMP=OFF >&2
"$ROOT/.venv/bin/cmake" --build "$WORK/build" --target llama >&2
mkdir -p "$WORK/out/include" "$WORK/out/lib" "$WORK/out/share"
cp "$SRC"/include/*.h "$SRC"/ggml/include/*.h "$WORK/out/include/"
find "$WORK/build" -name '*.so*' -exec cp -P {} "$WORK/out/lib/" \;
# The tests read the converter's check text and the pre-tokenizer regexes from these.
cp "$SRC/convert_hf_to_gguf_update.py" "$SRC/src/llama-vocab.cpp" "$WORK/out/share/"
echo "llama.cpp $VERSION built in $(( $(date +%s) - start )) s" >&2
touch "$WORK/out/lib/.complete"
rm -rf "$DEST"
mv "$WORK/out" "$DEST"
echo "$DEST"
