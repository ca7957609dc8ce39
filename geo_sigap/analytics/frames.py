"""The plain frames analytics works on, quarters, and filters.

Incidents (``pandas.DataFrame``), one row per incident:
``ticket, category, lon, lat, reported_at, verified_at, dispatched_at, en_route_at,
on_scene_at, handled_at, resolved_at, rejected_at, status, priority, kelurahan_code,
rw_code, rt_code, lead_team, lead_role`` — lon/lat in EPSG:4326, timestamps
timezone-aware (any zone; hour/day patterns use WIB, Asia/Jakarta).

Units (``geopandas.GeoDataFrame``, EPSG:4326): ``code, name, level, parent_code,
population, geometry`` with ``level`` in {kelurahan, rw, rt}.

Teams (``pandas.DataFrame``): ``code, name, role, …`` (teams CSV schema).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo_sigap.errors import InvalidInput

WIB = "Asia/Jakarta"
TIME_COLUMNS = ("reported_at", "verified_at", "dispatched_at", "en_route_at", "on_scene_at",
                "handled_at", "resolved_at", "rejected_at")
INCIDENT_COLUMNS = ("ticket", "category", "lon", "lat", *TIME_COLUMNS, "status", "priority",
                    "kelurahan_code", "rw_code", "rt_code", "lead_team", "lead_role")
SK4_CATEGORIES = ("pkl", "gepeng", "ternak", "pekat", "odgj")
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter in WIB, e.g. ``Quarter.parse("2026Q3")``."""

    year: int
    q: int

    @classmethod
    def parse(cls, text: str | Quarter) -> Quarter:
        if isinstance(text, Quarter):
            return text
        m = re.fullmatch(r"\s*(\d{4})\s*[-_ ]?[Qq]([1-4])\s*", str(text))
        if not m:
            raise InvalidInput(
                f"Triwulan tidak sah: {text!r} (contoh: 2026Q3)",
                f"Invalid quarter: {text!r} (example: 2026Q3)",
            )
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, ts: pd.Timestamp) -> Quarter:
        ts = pd.Timestamp(ts).tz_convert(WIB)
        return cls(ts.year, (ts.month - 1) // 3 + 1)

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(year=self.year, month=3 * self.q - 2, day=1, tz=WIB)

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end (the start of the next quarter)."""
        return self.next().start

    def next(self) -> Quarter:
        return Quarter(self.year + self.q // 4, self.q % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.q == 1), (self.q - 2) % 4 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def label(self) -> str:
        """'Triwulan III 2026 (Jul–Sep)'."""
        roman = ("I", "II", "III", "IV")[self.q - 1]
        months = BULAN[3 * self.q - 3], BULAN[3 * self.q - 1]
        return f"Triwulan {roman} {self.year} ({months[0]}–{months[1]})"


def normalise_incidents(df: pd.DataFrame, *, copy: bool = True) -> pd.DataFrame:
    """Check the columns and make timestamps tz-aware WIB; adds nothing else.

    Missing optional columns (``rw_code``, ``rt_code``, ``lead_role`` …) are added empty
    so that every analysis can rely on them. ``copy=False`` changes ``df`` itself (a
    frame just read, at city scale: no second copy in memory).
    """
    missing = [c for c in ("category", "lon", "lat", "reported_at") if c not in df.columns]
    if missing:
        raise InvalidInput(
            f"Kolom kejadian tidak ada: {', '.join(missing)}",
            f"Incident columns missing: {', '.join(missing)}",
            missing=missing,
        )
    out = df.copy() if copy else df
    for c in INCIDENT_COLUMNS:
        if c not in out.columns:
            out[c] = pd.NaT if c in TIME_COLUMNS else None
    for c in TIME_COLUMNS:
        col = out[c]
        if not isinstance(col.dtype, pd.DatetimeTZDtype):
            col = pd.to_datetime(col, utc=True, errors="coerce", format="ISO8601")
        out[c] = col.dt.tz_convert(WIB)
    out["lon"] = pd.to_numeric(out["lon"], errors="coerce")
    out["lat"] = pd.to_numeric(out["lat"], errors="coerce")
    return out


def filter_incidents(df: pd.DataFrame, *, categories=None, start=None, end=None,
                     hours: tuple[int, int] | None = None, kecamatan: str | None = None,
                     exclude_rejected: bool = True) -> pd.DataFrame:
    """Incidents matching every filter given.

    Parameters
    ----------
    categories : str or iterable of str, optional
        Category codes.
    start, end : timestamp-like, optional
        ``start <= reported_at < end`` (naive values are read as WIB).
    hours : (from, to), optional
        Local (WIB) hour of report, ``from <= hour < to``; wraps midnight when
        ``from > to`` (``(22, 4)`` is the night).
    kecamatan : str, optional
        Kecamatan code prefix of ``kelurahan_code`` (``15.71.11``).
    exclude_rejected : bool
        Leave out rejected reports (hoax, duplicate) — they are not incidents.
    """
    mask = np.ones(len(df), dtype=bool)
    if categories is not None:
        cats = [categories] if isinstance(categories, str) else list(categories)
        mask &= df["category"].isin(cats).to_numpy()
    t = df["reported_at"]
    if start is not None:
        mask &= (t >= _ts(start)).to_numpy()
    if end is not None:
        mask &= (t < _ts(end)).to_numpy()
    if hours is not None:
        h = t.dt.hour.to_numpy()
        a, b = hours
        mask &= ((h >= a) & (h < b)) if a <= b else ((h >= a) | (h < b))
    if kecamatan:
        mask &= df["kelurahan_code"].fillna("").astype(str).str.startswith(kecamatan).to_numpy()
    if exclude_rejected and "status" in df.columns:
        mask &= (df["status"].fillna("") != "ditolak").to_numpy()
    return df.loc[mask]


def _ts(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize(WIB) if ts.tzinfo is None else ts


def category_label(categories, code: str) -> str:
    """The category's Indonesian name, or the code when unknown."""
    try:
        return categories.get(code).name
    except Exception:  # noqa: BLE001 - unknown codes are shown as they are
        return str(code)
