"""Batch geocoding of a CSV: coordinates and/or address text → unit codes, names, flags.

The CLI ``geo-sigap geocode INPUT.csv -o OUTPUT.csv`` is one call to
:func:`geocode_csv`; pass ``progress=lambda done, total: bar.update(...)`` for a
progress bar (rich or tqdm) and print the returned summary.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_sigap.errors import InvalidInput
from geo_sigap.geocoding.reverse import ReverseGeocoder
from geo_sigap.geocoding.units import LEVEL_KEYS

LON_NAMES = ("lon", "lng", "long", "longitude", "bujur", "x")
LAT_NAMES = ("lat", "latitude", "lintang", "y")
ADDRESS_NAMES = ("address", "address_text", "alamat", "lokasi", "location")

#: Columns added to the output, in order.
OUTPUT_COLUMNS = (["geo_lon", "geo_lat"]
                  + [f"{k}_{w}" for k in LEVEL_KEYS.values() for w in ("code", "name")]
                  + ["deepest_level", "quality_flags", "geocode_source", "geocode_confidence",
                     "geocode_label", "geocode_status", "geocode_reason"])


def _pick(columns: list[str], wanted: str | None, names: tuple[str, ...]) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise InvalidInput(f"Kolom {wanted!r} tidak ada di CSV (ada: {columns})",
                               f"Column {wanted!r} is not in the CSV (has: {columns})")
        return wanted
    lower = {c.lower().strip(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def geocode_csv(input_path: str | Path, output_path: str | Path,
                reverse: ReverseGeocoder | None = None,
                forward: Any | Callable[[], Any] | None = None, *,
                lon_col: str | None = None, lat_col: str | None = None,
                address_col: str | None = None,
                progress: Callable[[int, int], None] | None = None,
                chunk_size: int = 50_000) -> dict[str, Any]:
    """Geocode every row of ``input_path`` and write ``output_path`` (input columns kept,
    :data:`OUTPUT_COLUMNS` added).

    Rows with usable coordinates (``lon/lat``, EPSG:4326; column names detected when not
    given) are reverse geocoded; rows without, or with invalid coordinates, use the
    address text with ``forward`` (best candidate; ``address_ambiguous`` flag when
    several places score alike). Never raises for a bad row. A row with empty lon/lat
    is flagged ``missing_coordinates`` (``invalid_coordinates`` is for values that are
    given but wrong).

    ``forward`` may be a geocoder or a function that builds one: it is then called only
    when a row needs its address read (a CSV with coordinates only never builds it).

    Returns
    -------
    dict
        ``rows, ok, flagged, failed, seconds, rows_per_s, by_source, by_level,
        failures`` (reason → count) and ``flags`` (flag → count).

    Raises
    ------
    InvalidInput
        The CSV has neither coordinate columns nor an address column (with a forward
        geocoder), or a named column is missing.
    """
    t0 = time.perf_counter()
    df = pd.read_csv(input_path, dtype=str, keep_default_na=False)
    cols = list(df.columns)
    lon_c, lat_c = _pick(cols, lon_col, LON_NAMES), _pick(cols, lat_col, LAT_NAMES)
    addr_c = _pick(cols, address_col, ADDRESS_NAMES)
    has_xy = lon_c is not None and lat_c is not None and reverse is not None
    if not has_xy and not (addr_c and forward is not None):
        raise InvalidInput(
            "CSV perlu kolom lon/lat (dan geocoder balik) atau kolom alamat (dan geocoder "
            f"maju); kolom yang ada: {cols}",
            f"The CSV needs lon/lat columns (with a reverse geocoder) or an address column "
            f"(with a forward geocoder); it has: {cols}",
        )
    n = len(df)
    out: dict[str, Any] = {c: np.full(n, None, dtype=object) for c in OUTPUT_COLUMNS}
    out["geocode_source"][:] = "none"
    status = np.full(n, "failed", dtype=object)
    reason = np.full(n, "", dtype=object)
    done = 0
    if progress:
        progress(0, n)
    need_text = np.ones(n, dtype=bool)
    if forward is not None and not hasattr(forward, "search") and callable(forward):
        forward = _Lazy(forward)
    if has_xy:
        for s in range(0, n, chunk_size):
            e = min(n, s + chunk_size)
            lon_raw = df[lon_c].to_numpy()[s:e]
            lat_raw = df[lat_c].to_numpy()[s:e]
            res = reverse.locate_many(lon_raw, lat_raw)
            _fill_from_reverse(out, status, reason, res, s)
            need_text[s:e] = (res["invalid_coordinates"].to_numpy()
                              | res["missing_coordinates"].to_numpy()
                              | res["outside_coverage"].to_numpy())
            done = e
            if progress:
                progress(done if not addr_c else done // 2, n)
    if not has_xy:
        reason[:] = "missing_coordinates"
        out["quality_flags"][:] = "missing_coordinates"
    if addr_c and forward is not None:
        texts = df[addr_c].to_numpy()
        rows = np.flatnonzero(need_text & (df[addr_c].str.strip().to_numpy() != ""))
        for i in np.flatnonzero(need_text & (df[addr_c].str.strip().to_numpy() == "")):
            if status[i] == "failed" and not reason[i]:
                reason[i] = "no_address"
        for k, i in enumerate(rows):
            _forward_row(out, status, reason, i, texts[i], forward)
            if progress and (k % 500 == 0 or k == len(rows) - 1):
                progress(n // 2 + (k + 1) * (n - n // 2) // max(len(rows), 1)
                         if has_xy else (k + 1) * n // max(len(rows), 1), n)
    out["geocode_status"] = status
    out["geocode_reason"] = reason
    result = df.copy()
    for c in OUTPUT_COLUMNS:
        result[c] = out[c]
    result.to_csv(output_path, index=False)
    if progress:
        progress(n, n)
    seconds = time.perf_counter() - t0
    flag_counts: Counter[str] = Counter()
    for f in out["quality_flags"]:
        if f:
            flag_counts.update(x for x in str(f).split(";") if x)
    return {
        "rows": n,
        "ok": int((status == "ok").sum()),
        "flagged": int((status == "flagged").sum()),
        "failed": int((status == "failed").sum()),
        "seconds": round(seconds, 3),
        "rows_per_s": round(n / seconds, 1) if seconds > 0 else None,
        "by_source": dict(Counter(out["geocode_source"])),
        "by_level": dict(Counter(x for x in out["deepest_level"] if x)),
        "failures": dict(Counter(r for r, s in zip(reason, status) if s == "failed")),
        "flags": dict(flag_counts),
        "output": str(output_path),
    }


_SOFT = {"swapped_latlon", "gap_nearest", "overlap", "border", "hierarchy_conflict",
         "rt_missing", "rw_missing", "address_ambiguous"}


class _Lazy:
    """A forward geocoder built on its first search."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build, self._geocoder = build, None

    def search(self, text: str, limit: int = 5) -> Any:
        if self._geocoder is None:
            self._geocoder = self._build()
        return self._geocoder.search(text, limit=limit)


def _fill_from_reverse(out: dict[str, Any], status: np.ndarray, reason: np.ndarray,
                       res: pd.DataFrame, start: int) -> None:
    sl = slice(start, start + len(res))
    missing = res["missing_coordinates"].to_numpy()
    valid = ~res["invalid_coordinates"].to_numpy() & ~missing
    outside = res["outside_coverage"].to_numpy()
    out["geo_lon"][sl] = np.where(valid, res["lon"].to_numpy(), None)
    out["geo_lat"][sl] = np.where(valid, res["lat"].to_numpy(), None)
    for k in LEVEL_KEYS.values():
        for w in ("code", "name"):
            col = res[f"{k}_{w}"].astype(object)
            out[f"{k}_{w}"][sl] = col.where(col.notna(), None).to_numpy()
    dl = res["deepest_level"].astype(object)
    out["deepest_level"][sl] = dl.where(dl.notna(), None).to_numpy()
    flags = res["quality_flags"].astype(str).to_numpy()
    out["quality_flags"][sl] = flags
    out["geocode_source"][sl] = np.where(valid & ~outside, "coordinates", "none")
    out["geocode_confidence"][sl] = np.where(valid & ~outside, 1.0, None)
    soft = np.array([any(f in _SOFT for f in s.split(";") if f) for s in flags])
    st = np.where(valid & ~outside, np.where(soft, "flagged", "ok"), "failed")
    rs = np.where(~valid, np.where(missing, "missing_coordinates", "invalid_coordinates"),
                  np.where(outside, "outside_coverage", ""))
    status[sl] = st
    reason[sl] = rs
    # a usable row with flags shows them as its reason
    flagged = np.flatnonzero(st == "flagged")
    reason[start + flagged] = flags[flagged]


def _forward_row(out: dict[str, Any], status: np.ndarray, reason: np.ndarray, i: int,
                 text: Any, forward: Any) -> None:
    text = "" if text is None else str(text)
    cands = forward.search(text, limit=3)
    if not cands:
        if status[i] == "failed":
            keep = reason[i] and reason[i] != "missing_coordinates"
            reason[i] = (reason[i] + ";" if keep else "") + "address_not_found"
        return
    best = cands[0]
    p = best.placement
    out["geo_lon"][i], out["geo_lat"][i] = best.lon, best.lat
    for k in LEVEL_KEYS.values():
        for w in ("code", "name"):
            out[f"{k}_{w}"][i] = getattr(p, f"{k}_{w}") if p is not None else None
    deepest = None
    if p is not None:
        deepest = next((k for k in reversed(list(LEVEL_KEYS.values()))
                        if getattr(p, f"{k}_code")), None)
    out["deepest_level"][i] = deepest
    flags = [f"matched_{best.level}"]
    if best.ambiguous:
        flags.append("address_ambiguous")
    if p is not None:
        flags += [f for f in p.flags if f not in flags]
    out["quality_flags"][i] = ";".join(flags)
    out["geocode_source"][i] = "address"
    out["geocode_confidence"][i] = best.confidence
    out["geocode_label"][i] = best.label
    status[i] = "flagged" if best.ambiguous or best.confidence < 0.6 else "ok"
    reason[i] = "address_ambiguous" if best.ambiguous else (
        "low_confidence" if best.confidence < 0.6 else "")
