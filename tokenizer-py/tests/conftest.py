import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shared() -> Path:
    path = Path(os.environ.get("POLYBPE_SHARED", ROOT.parent / "shared"))
    if not (path / "tokenizers").is_dir():
        pytest.skip(f"shared data not found at {path} (set POLYBPE_SHARED)")
    return path
