"""Compiled kernels are kept between starts: in ``<data_dir>/cache/numba`` when the
package folder is read-only, so that a second start loads them instead of compiling."""

import json
import os
import subprocess
import sys

import pytest

# One service start in a new process: choose the cache place, compile (or load) one of
# the geocoder's kernels (the coordinate check: small, so that the test compiles in
# seconds, not the half minute of the grid kernels), answer a few points, report numba's
# cache hits and misses.
_START = r"""
import json, sys
from pathlib import Path
from geo_sigap.settings import Settings
from geo_sigap.services import use_jit_cache

where = use_jit_cache(Settings(), package_dir=Path(sys.argv[1]))
from geo_sigap.geocoding import _kernel

xs, ys, bits = _kernel.checked([103.6, -1.6, None, 500.0], [-1.6, 103.6, 0.0, 0.0],
                               (103.5, -1.7, 103.7, -1.5), (95.0, -11.0, 141.0, 6.0),
                               False, 1, 2, 4)
answer = [[None if x != x else x for x in xs.tolist()], bits.tolist()]
kernels = [d for d in vars(_kernel).values() if hasattr(d, "stats") and hasattr(d, "py_func")]
print(json.dumps({
    "where": str(where), "answer": answer,
    "hits": sum(sum(d.stats.cache_hits.values()) for d in kernels),
    "misses": sum(sum(d.stats.cache_misses.values()) for d in kernels)}))
"""


def _start(data_dir, blocked):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GEO_SIGAP_") and k != "NUMBA_CACHE_DIR"}
    env["GEO_SIGAP_DATA_DIR"] = str(data_dir)
    out = subprocess.run([sys.executable, "-c", _START, str(blocked)], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_second_start_loads_compiled_kernels_from_data_dir(tmp_path):
    # a package folder where nothing can be written (a file stands where a folder would be)
    (tmp_path / "readonly").write_text("")
    blocked = tmp_path / "readonly" / "geo_sigap"
    data = tmp_path / "data"
    first = _start(data, blocked)
    assert first["where"] == str(data / "cache" / "numba")
    assert first["misses"] > 0  # compiled in this start …
    files = list((data / "cache" / "numba").rglob("*.nbi"))
    assert any("check_points" in f.name for f in files), files  # … and written to the data dir
    second = _start(data, blocked)
    assert second["misses"] == 0 and second["hits"] > 0  # loaded, not compiled
    assert second["answer"] == first["answer"]
    # the swapped pair corrected, the missing one and the impossible one flagged
    assert first["answer"] == [[103.6, 103.6, None, None], [0, 2, 4, 1]]


def test_writable_package_keeps_numbas_place(tmp_path, monkeypatch):
    from geo_sigap.services import use_jit_cache
    from geo_sigap.settings import Settings

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert use_jit_cache(Settings(data_dir=tmp_path / "d"), package_dir=tmp_path) is None
    assert "NUMBA_CACHE_DIR" not in os.environ
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))  # the operator's choice
    (tmp_path / "f").write_text("")
    assert use_jit_cache(Settings(data_dir=tmp_path / "d"), package_dir=tmp_path / "f") is None
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")
