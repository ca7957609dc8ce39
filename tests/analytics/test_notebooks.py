"""The planners' notebooks run top to bottom on the demo data (executed, so they cannot rot)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if not (REPO / "data" / "demo" / "incidents.csv").exists():
        pytest.fail("demo data missing: run python -m geo_sigap.demo.generate")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert len(outputs) >= 4


def test_there_are_two_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_explore_incidents.ipynb",
                                           "02_quarter_hotspots.ipynb"]
