#!/usr/bin/env bash
# Creates .venv with the Python packages the tests compare against (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import tokenizers, transformers, pytest, numpy, tiktoken, ray.data, datasets, jinja2" 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
fi
