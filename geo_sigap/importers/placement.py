"""Placing many points in their administrative units, for importers (batch reverse geocoding)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo_sigap.domain.incidents import Placement

_LEVELS = ("kabkota", "kecamatan", "kelurahan", "rw", "rt")


def placer_from_db(db, *, gap_tolerance_m: float = 50.0):
    """A ``placer(lons, lats) -> list[Placement]`` over the units stored in ``db``."""
    from geo_sigap.storage.units import load_units

    with db.session() as s:
        units = load_units(s)
    return placer_from_units(units, gap_tolerance_m=gap_tolerance_m)


def placer_from_units(units, *, gap_tolerance_m: float = 50.0):
    from geo_sigap.geocoding.reverse import ReverseGeocoder

    geocoder = ReverseGeocoder.from_units(units, gap_tolerance_m=gap_tolerance_m)

    def place(lons: np.ndarray, lats: np.ndarray) -> Sequence[Placement]:
        return placements_from_frame(geocoder.locate_many(lons, lats))

    return place


def placements_from_frame(df: pd.DataFrame) -> list[Placement]:
    """Rows of :meth:`ReverseGeocoder.locate_many` as :class:`Placement` objects."""
    cols = {f"{lv}_{k}": df[f"{lv}_{k}"].astype(object).where(df[f"{lv}_{k}"].notna(), None)
            .tolist() for lv in _LEVELS for k in ("code", "name") if f"{lv}_{k}" in df}
    flags = df["quality_flags"].astype(str).tolist() if "quality_flags" in df else [""] * len(df)
    out = []
    for i in range(len(df)):
        p = Placement(**{k: v[i] for k, v in cols.items()})
        p.flags = tuple(f for f in flags[i].split(";") if f and f != "nan")
        out.append(p)
    return out
