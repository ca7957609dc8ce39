"""Where test data lives."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
JAMBI = SHARED_DATA / "jambi"
DEMO_DATA = REPO / "data"


def require_shared_data() -> Path:
    if not JAMBI.exists():
        pytest.skip(f"../shared/data is absent ({JAMBI}); real-data tests need it")
    return JAMBI
