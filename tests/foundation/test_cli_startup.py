"""`geo-sigap --help` starts fast: no heavy library is imported until a command runs."""

import json
import subprocess
import sys

import pytest

HEAVY = ("geopandas", "shapely", "numba", "sqlalchemy", "fastapi", "osmnx", "matplotlib",
         "pandas", "numpy", "scipy", "pyproj", "pydantic", "uvicorn", "networkx")
# typer itself imports pydantic (typer._adapters) to show a sub-command's options
TYPER_OWN = ("pydantic",)

_PROBE = """
import json, runpy, sys
sys.argv = ["geo-sigap", *json.loads(sys.argv[1])]
try:
    runpy.run_module("geo_sigap.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = %r
print("\\nLOADED=" + json.dumps([m for m in sys.modules if m.split(".")[0] in heavy]))
print("EXIT=" + str(code))
""" % (HEAVY,)


@pytest.mark.parametrize("args", [["--help"], ["import", "--help"], ["routing", "build",
                                                                      "--help"]])
def test_help_imports_no_heavy_module(args):
    allowed = () if args == ["--help"] else TYPER_OWN
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    loaded = json.loads(next(x for x in lines if x.startswith("LOADED="))[len("LOADED="):])
    assert next(x for x in lines if x.startswith("EXIT=")) == "EXIT=0"
    loaded = [m for m in loaded if m.split(".")[0] not in allowed]
    assert loaded == [], f"`geo-sigap {' '.join(args)}` imported {sorted(loaded)}"
    assert "Usage" in out.stdout


_APP = """
import json, sys
from geo_sigap.web.app import create_app
create_app()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_web_app_start_imports_no_map_or_jit_library(tmp_path):
    """Building the web app (service start, before /health) leaves folium, pandas, numba
    … to the first request or the background warm-up that needs them."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("GEO_SIGAP_")}
    env.update(GEO_SIGAP_DATA_DIR=str(tmp_path),
               GEO_SIGAP_DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}",
               GEO_SIGAP_SECRET_KEY="test-startup-secret-0123456789abcdefghij")
    out = subprocess.run([sys.executable, "-c", _APP], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    heavy = {"folium", "pandas", "geopandas", "numba", "matplotlib", "osmnx", "scipy"}
    assert not loaded & heavy, sorted(loaded & heavy)
