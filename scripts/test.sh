#!/usr/bin/env bash
# Runs every test: Rust unit, integration and CLI tests, then the Python end-to-end suite
# against the real `tokenizers` and `transformers`. Data from ../shared is used when present
# (POLYBPE_SHARED overrides the path); tests that need it are skipped without it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
cargo test --quiet
cargo build --quiet -p vocab
export POLYBPE_VOCAB_BIN="$PWD/target/debug/vocab"
.venv/bin/python -m pytest tests/python -q
