"""The repository's CI rule (root ``conftest.py``): a skipped PostGIS or SpatiaLite case
fails the run in CI instead of passing silently."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASES = '''
import pytest

@pytest.fixture(params=["sqlite", pytest.param("spatialite", marks=pytest.mark.spatialite),
                        pytest.param("postgis", marks=pytest.mark.postgis)])
def backend(request):
    if request.param != "sqlite":
        pytest.skip("backend not available here")
    return request.param

def test_on_each_backend(backend):
    assert backend
'''


def _run(tmp_path: Path, ci: bool, workers: int = 0) -> subprocess.CompletedProcess:
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_cases.py").write_text(CASES)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n  postgis: x\n  spatialite: x\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GEO_SIGAP_REQUIRE_ALL")}
    if ci:
        env["CI"] = "true"
    xdist = ["-n", str(workers), "--dist", "loadfile"] if workers else []
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *xdist, str(tmp_path)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def test_skipped_backends_fail_in_ci_only(tmp_path):
    local = _run(tmp_path, ci=False)
    assert local.returncode == 0 and "2 skipped" in local.stdout, local.stdout
    ci = _run(tmp_path, ci=True)
    assert ci.returncode != 0, ci.stdout  # reported as failures (errors at setup)
    assert ci.stdout.count("Skipped in CI") >= 2 and "skipped" not in ci.stdout.splitlines()[-1]
    assert "Skipped in CI" in ci.stdout


def test_skipped_backends_fail_in_ci_with_two_workers_too(tmp_path):
    """``scripts/test`` runs the suite on pytest-xdist workers: the rule holds there."""
    pytest.importorskip("xdist")
    ci = _run(tmp_path, ci=True, workers=2)
    assert ci.returncode != 0, ci.stdout
    assert ci.stdout.count("Skipped in CI") >= 2 and "1 passed" in ci.stdout, ci.stdout
