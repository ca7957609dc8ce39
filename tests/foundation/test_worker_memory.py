"""What keeps a worker's memory small (issues #11 and #17): the allocator's arenas, one
string object per code in the analytics history, the heat overlay without matplotlib."""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
import sys

import numpy as np
import pandas as pd
import pytest

from geo_sigap import _malloc


def test_arenas_are_limited_unless_the_operator_chose(monkeypatch):
    if _malloc._glibc() is None:
        pytest.skip("not glibc")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert _malloc.limit_arenas(2) is True
    assert _malloc.limit_arenas(0) is False  # 0: glibc's own default, nothing set
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert _malloc.limit_arenas(2) is False  # the environment wins
    assert isinstance(_malloc.release_free_memory(), bool)


def test_services_limit_the_arenas_from_the_settings(tmp_path, monkeypatch):
    from geo_sigap.services import Services
    from tests.conftest import make_settings

    calls = []
    monkeypatch.setattr(_malloc, "limit_arenas", calls.append)
    s = Services.from_settings(make_settings(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "d",
                                             malloc_arena_max=3))
    s.close()
    assert calls == [3]


def _rows(ids, quarter_start: str, rt: str) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "id": ids, "category": ["pkl"] * n, "lon": [103.6] * n, "lat": [-1.6] * n,
        "status": ["selesai"] * n, "priority": [3] * n,
        # a new string object per row, as a database driver gives them
        "kelurahan_code": ["".join(["15.71.11.", "1003"]) for _ in ids],
        "rw_code": [rt[:-6] for _ in ids], "rt_code": [(rt + " ")[:-1] for _ in ids],
        "reported_at": pd.date_range(quarter_start, periods=n, freq="h", tz="UTC"),
        "on_scene_at": pd.NaT})


def test_the_history_keeps_one_object_per_code_across_quarters():
    from geo_sigap.analytics.frames import Quarter
    from geo_sigap.analytics.incremental import HistoryStore, compact

    rt = "15.71.11.1003.RW001.RT001"
    store = HistoryStore()
    store.share_strings([rt])
    store.replace_quarter(Quarter(2025, 1), _rows([1, 2, 3], "2025-01-10", rt))
    store.upsert(_rows([4, 5], "2025-04-10", rt))
    first, second = (store.frame(q)["rt_code"].to_numpy(dtype=object)
                     for q in ("2025Q1", "2025Q2"))
    assert first[0] == rt and all(v is first[0] for v in [*first, *second])
    # a stored quarter (a partition frame read back from disk) is shared the same way
    stored = compact(_rows([6, 7], "2025-07-10", rt))
    assert stored["rt_code"].iloc[0] is not first[0]
    store.replace_quarter(Quarter(2025, 3), stored)
    assert all(v is first[0] for v in store.frame("2025Q3")["rt_code"].to_numpy(dtype=object))
    # without the store's pool each read keeps the objects it was given
    a = compact(_rows([1, 2], "2025-01-10", rt))["rt_code"].to_numpy(dtype=object)
    b = compact(_rows([3, 4], "2025-04-10", rt))["rt_code"].to_numpy(dtype=object)
    assert a[0] == b[0] and a[0] is not b[0]


def _grid():
    from geo_sigap.analytics.heatmap import kde_grid

    rng = np.random.default_rng(0)
    return kde_grid(103.6 + rng.normal(0, 0.01, 400), -1.6 + rng.normal(0, 0.01, 400))


def test_the_heat_overlay_draws_the_same_pixels_as_matplotlib():
    import matplotlib
    from PIL import Image

    g = _grid()
    d = g.density[::-1]
    norm = np.clip(d / float(np.quantile(d[d > 0], 0.995)), 0, 1)
    want = matplotlib.colormaps["inferno_r"](norm)
    want[..., 3] = np.where(norm < 0.02, 0.0, 0.35 + 0.5 * norm)
    want = (want * 255).astype(np.uint8)
    assert (g.to_rgba() == want).all()
    assert (np.asarray(Image.open(io.BytesIO(g.to_png()))) == want).all()
    assert not (g.to_rgba(cmap="viridis") == want).all()  # another ramp is another picture


def test_the_heat_overlay_does_not_load_matplotlib():
    code = ("import sys, numpy as np\n"
            "from geo_sigap.analytics.heatmap import kde_grid\n"
            "g = kde_grid(103.6 + np.arange(50) * 1e-4, -1.6 + np.arange(50) * 1e-4)\n"
            "assert g.to_data_url().startswith('data:image/png;base64,')\n"
            "print('matplotlib' in sys.modules)\n"
            "g.to_rgba(cmap='viridis')\n"
            "print('matplotlib' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


def test_the_heat_convolution_equals_scipy_signal_on_random_grids():
    from scipy.signal import fftconvolve

    from geo_sigap.analytics.heatmap import _convolve_same

    rng = np.random.default_rng(17)
    for _ in range(200):  # axes of length 1 included (broadcast, no FFT there)
        a = rng.poisson(0.3, size=rng.integers(1, 80, 2)).astype(np.float64)
        k = rng.random(rng.integers(1, 30, 2))
        want, got = fftconvolve(a, k, mode="same"), _convolve_same(a, k)
        assert got.shape == want.shape and (got == want).all()


def test_the_gap_cells_equal_scipy_binary_dilation_on_random_grids():
    from scipy.ndimage import binary_dilation

    from geo_sigap.geocoding.reverse import _dilate

    rng = np.random.default_rng(5)
    for _ in range(300):
        ny, nx = rng.integers(1, 40, 2)
        ry, rx = rng.integers(0, 45, 2)
        occupied = rng.random((ny, nx)) < rng.random() * 0.2
        want = binary_dilation(occupied, structure=np.ones((2 * ry + 1, 2 * rx + 1), bool))
        assert (_dilate(occupied, int(ry), int(rx)) == want).all()


def test_heat_and_the_reverse_geocoder_load_neither_scipy_signal_nor_ndimage():
    code = ("import sys, numpy as np\n"
            "from shapely.geometry import box\n"
            "from geo_sigap.analytics.heatmap import kde_grid\n"
            "from geo_sigap.domain.admin import AdminLevel, AdminUnit\n"
            "from geo_sigap.geocoding.reverse import ReverseGeocoder\n"
            "g = kde_grid(103.6 + np.arange(50) * 1e-4, -1.6 + np.arange(50) * 1e-4)\n"
            "assert g.density.sum() > 0\n"
            "units = [AdminUnit(code=f'15.71.11.100{i}', level=AdminLevel.KELURAHAN,\n"
            "                   name=f'K{i}', parent_code='15.71.11',\n"
            "                   geometry=box(103.6 + i * 0.01, -1.6, 103.61 + i * 0.01, -1.59))\n"
            "         for i in range(1, 4)]\n"
            "rg = ReverseGeocoder.from_units(units)\n"
            "assert rg.place(103.615, -1.595).kelurahan_code == '15.71.11.1001'\n"
            "print(sorted(m for m in ('scipy.signal', 'scipy.ndimage', 'scipy.stats')\n"
            "             if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_the_history_keeps_codes_and_hands_out_the_same_frames_as_compact():
    from geo_sigap.analytics.frames import Quarter
    from geo_sigap.analytics.incremental import _STRINGS, HistoryStore, Strings, compact

    rng = np.random.default_rng(23)
    rts = [f"15.71.11.1003.RW{i % 9 + 1:03d}.RT{i:03d}" for i in range(40)]
    rows = _rows(list(range(1, 301)), "2025-01-10", rts[0])
    rows["rt_code"] = [rts[i] if i < 40 else None for i in rng.integers(0, 45, len(rows))]
    rows["category"] = rng.choice(["pkl", "odgj", "pekat"], len(rows))
    store = HistoryStore()
    store.upsert(rows.iloc[:150])
    store.upsert(rows.iloc[150:])  # a second write appends to the same partition
    assert store.quarters() == [Quarter(2025, 1)]  # 300 hours from 10 January
    data = store.block("2025Q1").data
    assert all(data[c].dtype == np.int16 for c in _STRINGS)  # 2 bytes a cell
    pd.testing.assert_frame_equal(store.frame("2025Q1"), compact(rows))
    pd.testing.assert_frame_equal(store.frame(), compact(rows))
    # past 32,767 strings the codes are int32, decoded the same
    table = Strings()
    many = pd.Series([f"v{i}" for i in range(40_000)] + [None])
    codes = table.encode(many)
    assert codes.dtype == np.int32 and codes[-1] == -1
    pd.testing.assert_series_equal(pd.Series(table.column(codes)), many)


@pytest.mark.parametrize("population", [None, 250])
def test_the_analytics_units_share_the_services_polygons(services, population):
    from geopandas.testing import assert_geodataframe_equal
    from shapely.geometry import box

    from geo_sigap.domain.admin import AdminLevel, AdminUnit
    from geo_sigap.storage.units import units_frame, upsert_units
    from tests.conftest import tiny_units

    if population is not None:  # populations given: the frame's column is numeric
        with services.db.session() as s:
            upsert_units(s, [replace(u, population=population) for u in tiny_units()])
    held = {id(u.geometry) for u in services.units}
    got, _ = services.analytics_history.units()
    with services.db.session() as s:  # what the analytics read from the table before
        want = units_frame(s, [AdminLevel.KELURAHAN, AdminLevel.RW, AdminLevel.RT])
    want = want[["code", "name", "level", "parent_code", "population", "geometry"]]
    want["population"] = pd.to_numeric(want["population"], errors="coerce")
    assert_geodataframe_equal(got, want.reset_index(drop=True))
    assert {id(g) for g in got.geometry.values} <= held  # no second copy of a polygon
    # units imported meanwhile (another process): the stamp differs, read from the table
    with services.db.session() as s:
        upsert_units(s, [AdminUnit("15.71.11.1003.RW001.RT009", AdminLevel.RT, "RT 009",
                                   "15.71.11.1003.RW001",
                                   box(103.5951, -1.6249, 103.5952, -1.6248))])
    services.analytics_history.store()
    again, _ = services.analytics_history.units()
    assert len(again) == len(got) + 1


def test_a_trim_soon_runs_once_for_a_burst_of_calls(monkeypatch):
    import threading

    if _malloc._glibc() is None:
        pytest.skip("not glibc")
    calls, ran = [], threading.Semaphore(0)
    monkeypatch.setattr(_malloc, "release_free_memory", lambda: (calls.append(1), ran.release()))
    assert _malloc.release_free_memory_soon(0.05) is True
    assert _malloc.release_free_memory_soon(0.05) is False  # one pending: joined
    assert ran.acquire(timeout=5)
    assert calls == [1]
    assert _malloc.release_free_memory_soon(0.01) is True  # done: the next one schedules
    assert ran.acquire(timeout=5)
    assert calls == [1, 1]
    assert sum(t.name == "geo-sigap-malloc-trim" for t in threading.enumerate()) == 1
