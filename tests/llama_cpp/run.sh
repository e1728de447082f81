#!/usr/bin/env bash
# polybpe vocabularies in llama.cpp itself (tests/llama_cpp/test_llama_cpp.py): builds llama.cpp's
# `llama` library from PyPI's llama-cpp-python sdist (cached, see build.sh; cold: 246 s of CPU, 3m46s user
# + 21 s sys, so about 2 min on 2 idle cores; cached: 0 s), compiles the line-by-line `tokenize` driver, and runs the
# tests with the `vocab` binary (POLYBPE_VOCAB_BIN, default target/debug/vocab). Skips without
# ../shared (POLYBPE_SHARED).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SHARED=${POLYBPE_SHARED:-$ROOT/../shared}
if [ ! -d "$SHARED/corpus/train" ] || [ ! -d "$SHARED/corpus/parallel" ]; then
  echo "llama.cpp tests skipped: no corpus at $SHARED (set POLYBPE_SHARED)"
  exit 0
fi
if ! .venv/bin/python -c "import gguf, cmake, ninja" 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
fi
start=$(date +%s)
LLAMA_CPP_DIR=$(tests/llama_cpp/build.sh)
echo "llama.cpp library ready in $(( $(date +%s) - start )) s: $LLAMA_CPP_DIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"${CXX:-c++}" -std=c++17 -O1 -I"$LLAMA_CPP_DIR/include" tests/llama_cpp/tokenize.cpp -o "$WORK/tokenize" \
  -L"$LLAMA_CPP_DIR/lib" -lllama -Wl,-rpath,"$LLAMA_CPP_DIR/lib"
export LLAMA_CPP_DIR LLAMA_TOKENIZE=$WORK/tokenize POLYBPE_SHARED=$SHARED
export POLYBPE_VOCAB_BIN=${POLYBPE_VOCAB_BIN:-$ROOT/target/debug/vocab}
.venv/bin/python -m pytest tests/llama_cpp -q -s -p no:cacheprovider
