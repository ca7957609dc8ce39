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

    place.locate_many = geocoder.locate_many  # the same as a frame: bulk importers
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


_STORED = ("kecamatan_code", "kelurahan_code", "rw_code", "rt_code")
_DOCS_MAX = 500_000  # placement texts kept across chunks (a few hundred bytes each)


def _rows_factorized(columns: list) -> tuple[np.ndarray, np.ndarray]:
    """``(inverse, first)`` of the distinct rows of integer code columns (``-1`` allowed):
    each row's number among the distinct rows, and the index of each one's first row.
    The columns are folded into one key column by column (re-numbered after each, so the
    key stays below n²): one hash pass per column instead of a sort of the rows."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for c in columns:
        c = np.asarray(c, dtype=np.int64) + 1
        key = key * (int(c.max(initial=0)) + 1) + c
        key = pd.factorize(key)[0].astype(np.int64)
    _, first = np.unique(key, return_index=True)  # key numbers rows in first-seen order
    return key, first


def placement_columns(placed, docs: dict | None = None) -> dict:
    """What storage keeps of many placements, column by column: the four unit codes
    (object arrays, ``None`` where missing) and ``placement`` (the JSON text of each
    :class:`Placement`, flags as a list).

    ``placed`` is a frame of :meth:`ReverseGeocoder.locate_many` or a sequence of
    :class:`Placement`. From a frame the JSON is written once per distinct combination of
    units and flags (a city has thousands of RT, a history millions of rows), not per row;
    ``docs`` (a dict kept by the caller across the chunks of one file) keeps those texts
    from one call to the next, so a combination met in an earlier chunk is not written
    again (at L a chunk of 20,000 rows holds ~10,000 combinations, the file ~50,000).
    """
    import json

    fields = tuple(Placement.__dataclass_fields__)
    if not isinstance(placed, pd.DataFrame):
        out = {k: np.array([getattr(p, k) for p in placed], dtype=object) for k in _STORED}
        docs = []
        for p in placed:
            d = {f: getattr(p, f) for f in fields}
            d["flags"] = list(p.flags)
            docs.append(json.dumps(d))
        out["placement"] = np.array(docs, dtype=object)
        return out
    n = len(placed)
    cols = [f"{lv}_{k}" for lv in _LEVELS for k in ("code", "name")]
    keys = []
    for c in cols:
        keys.append(pd.Categorical(placed[c]).codes if c in placed else np.full(n, -1))
    flags = (placed["quality_flags"].astype(str) if "quality_flags" in placed
             else pd.Series([""] * n))
    keys.append(pd.factorize(flags.to_numpy(object))[0])
    if n == 0:
        return {**{k: np.empty(0, dtype=object) for k in _STORED},
                "placement": np.empty(0, dtype=object)}
    inverse, first = _rows_factorized(keys)
    values = {c: placed[c].astype(object).where(placed[c].notna(), None).to_numpy(object)
              if c in placed else np.full(n, None, dtype=object) for c in cols}
    fl = flags.to_numpy(object)
    if docs is None:
        docs = {}
    elif len(docs) > _DOCS_MAX:
        docs.clear()
    texts = []
    keys = zip(*(values[c][first].tolist() for c in cols), fl[first].tolist())
    for i, key in zip(first, keys, strict=True):
        doc = docs.get(key)
        if doc is None:
            d = {f: (values[f][i] if f in values else None) for f in fields if f != "flags"}
            d["flags"] = [f for f in str(fl[i]).split(";") if f and f != "nan"]
            doc = docs[key] = json.dumps({f: d[f] for f in fields})
        texts.append(doc)
    out = {k: values[k] for k in _STORED}
    out["placement"] = np.array(texts, dtype=object)[inverse]
    return out
