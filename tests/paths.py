"""Where test data lives.

Real reference data sits in ``../shared/data`` beside the checkout (every developer
machine and CI). ``GEO_SIGAP_SHARED_DATA`` overrides it; a local clone of a checkout
(``git clone /work/main /tmp/x``) also finds it beside its origin.
"""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_DATA = REPO / "data"


def _shared_data() -> Path:
    env = os.environ.get("GEO_SIGAP_SHARED_DATA")
    if env:
        return Path(env).resolve()
    beside = (REPO.parent / "shared" / "data").resolve()
    if beside.exists():
        return beside
    try:
        origin = subprocess.run(["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin and Path(origin).is_dir():
        cand = (Path(origin).resolve().parent / "shared" / "data")
        if cand.exists():
            return cand
    return beside


SHARED_DATA = _shared_data()
JAMBI = SHARED_DATA / "jambi"


def require_shared_data() -> Path:
    if not JAMBI.exists():
        pytest.skip(f"../shared/data is absent ({JAMBI}); real-data tests need it")
    return JAMBI
