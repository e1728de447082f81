#!/usr/bin/env bash
# Runs every test: Rust unit, integration and CLI tests, then the Python suites: the package
# `polybpe` (built into .venv with maturin) and the end-to-end checks against the real
# `tokenizers` and `transformers`. Data from ../shared is used when present (POLYBPE_SHARED
# overrides the path); tests that need it are skipped without it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/setup-venv.sh
cargo test --quiet
# The criterion benches and examples are not built by `cargo test`; keep them compiling.
cargo check --quiet --workspace --benches --examples
cargo build --quiet -p vocab
# The Python package installed the way the README tells users to.
.venv/bin/pip install --quiet --disable-pip-version-check ./tokenizer-py
export POLYBPE_VOCAB_BIN="$ROOT/target/debug/vocab"
.venv/bin/python -m pytest tests/python -q
.venv/bin/python -m pytest tokenizer-py/tests -q
# llama.cpp itself, built from PyPI (cached; skipped without ../shared).
tests/llama_cpp/run.sh
