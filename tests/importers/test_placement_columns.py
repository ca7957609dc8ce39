"""The placement columns of the bulk import: distinct rows found by folding code columns
(against numpy's row-wise unique), placement texts kept across chunks (against texts
written afresh for each chunk), on random inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_sigap.domain.admin import AdminLevel, AdminUnit
from geo_sigap.importers.placement import _rows_factorized, placement_columns, placer_from_units


def test_rows_factorized_equals_numpy_unique_rows():
    rng = np.random.default_rng(9)
    for n, k, hi in [(1, 1, 1), (50, 3, 2), (2000, 11, 40), (5000, 4, 5000), (300, 2, 1)]:
        cols = [rng.integers(-1, hi, n) for _ in range(k)]
        inverse, first = _rows_factorized(cols)
        stacked = np.stack(cols, axis=1)
        uniq = np.unique(stacked, axis=0)
        assert len(first) == len(uniq) == inverse.max() + 1
        # rows with one number are equal, rows with two numbers differ
        assert np.array_equal(stacked[first][inverse], stacked)
        assert len({tuple(r) for r in stacked[first]}) == len(first)
        assert np.array_equal(inverse[first], np.arange(len(first)))


def test_placement_texts_kept_across_chunks_equal_fresh_ones():
    cells = [shapely.box(103.60 + 0.005 * i, -1.62, 103.605 + 0.005 * i, -1.60)
             for i in range(8)]
    units = [AdminUnit("15.71.11", AdminLevel.KECAMATAN, "Paal Merah", "15.71",
                       shapely.union_all(cells))]
    units += [AdminUnit(f"15.71.11.10{i:02d}", AdminLevel.KELURAHAN, f"Kel {i}", "15.71.11", c)
              for i, c in enumerate(cells)]
    place = placer_from_units(units)
    rng = np.random.default_rng(2)
    docs: dict = {}
    for _ in range(6):
        n = int(rng.integers(1, 400))
        lon = rng.uniform(103.595, 103.645, n)  # some outside, some on borders
        lat = rng.uniform(-1.625, -1.595, n)
        lon[: n // 10] = np.round(lon[: n // 10], 3)
        frame = place.locate_many(lon, lat)
        kept = placement_columns(frame, docs)
        fresh = placement_columns(frame)
        slow = placement_columns(place(lon, lat))
        for k in fresh:
            assert list(kept[k]) == list(fresh[k]) == list(slow[k]), k
    assert 0 < len(docs) < 100
    empty = placement_columns(pd.DataFrame({"kelurahan_code": []}), docs)
    assert all(len(v) == 0 for v in empty.values())
