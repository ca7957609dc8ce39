"""Load the frames analytics needs from files (the demo data, or any data in our schema).

A storage-backed loader returning the same :class:`AnalyticsData` lives with storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_sigap.analytics.frames import normalise_incidents
from geo_sigap.errors import ImportFailed

LEVELS = ("kelurahan", "rw", "rt")


@dataclass
class AnalyticsData:
    """Everything an analysis or the rakor report reads.

    ``version`` identifies the data (for caches): change it when incidents change.
    """

    incidents: pd.DataFrame
    units: gpd.GeoDataFrame
    teams: pd.DataFrame
    categories: object  # geo_sigap.domain.categories.CategoryTable
    version: str = "0"
    meta: dict = field(default_factory=dict)


def load_units(boundary_dir: str | Path) -> gpd.GeoDataFrame:
    """kelurahan/rw/rt boundary files of a folder as one GeoDataFrame (EPSG:4326).

    Reads ``kelurahan.geojson``, ``rw.geojson`` and ``rt.geojson`` where present.
    """
    boundary_dir = Path(boundary_dir)
    parts = []
    for level in LEVELS:
        p = boundary_dir / f"{level}.geojson"
        if p.exists():
            g = gpd.read_file(p)
            if g.crs is None:
                g = g.set_crs("EPSG:4326")
            g = g.to_crs("EPSG:4326")
            if "level" not in g.columns:
                g["level"] = level
            parts.append(g)
    if not parts:
        raise ImportFailed(
            f"Tidak ada berkas batas wilayah (kelurahan/rw/rt.geojson) di {boundary_dir}",
            f"No boundary files (kelurahan/rw/rt.geojson) in {boundary_dir}",
        )
    units = pd.concat(parts, ignore_index=True)
    for c in ("code", "name", "level", "parent_code", "population"):
        if c not in units.columns:
            units[c] = None
    units["population"] = pd.to_numeric(units["population"], errors="coerce")
    return gpd.GeoDataFrame(units[["code", "name", "level", "parent_code", "population",
                                   "geometry"]], geometry="geometry", crs="EPSG:4326")


def place_incidents(incidents: pd.DataFrame, units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Fill ``kelurahan_code``, ``rw_code``, ``rt_code`` by point-in-polygon (sjoin).

    Codes already present are kept; a point on a shared border takes the first match.
    """
    out = incidents.copy()
    pts = gpd.GeoDataFrame(
        {"_row": np.arange(len(out))},
        geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs="EPSG:4326",
    )
    for level in LEVELS:
        col = f"{level}_code"
        polys = units.loc[units["level"] == level, ["code", "geometry"]]
        found = pd.Series([None] * len(out), dtype=object)
        if len(polys):
            j = gpd.sjoin(pts, polys, how="inner", predicate="within")
            j = j.drop_duplicates("_row")
            found.iloc[j["_row"].to_numpy()] = j["code"].to_numpy()
        if col in out.columns:
            have = out[col].astype(object)
            out[col] = have.where(have.notna() & (have.astype(str) != ""), found.to_numpy())
        else:
            out[col] = found.to_numpy()
    return out


def load_incidents_csv(path: str | Path, units: gpd.GeoDataFrame | None = None,
                       teams: pd.DataFrame | None = None) -> pd.DataFrame:
    """An incidents history CSV (docs/architecture.md schema) as the analytics frame."""
    df = pd.read_csv(path, dtype={"ticket": str, "lead_team": str, "category": str,
                                  "status": str})
    df = normalise_incidents(df)
    if units is not None:
        df = place_incidents(df, units)
    if teams is not None and len(teams) and "lead_team" in df.columns:
        role = dict(zip(teams["code"].astype(str), teams["role"].astype(str)))
        have = df["lead_role"] if "lead_role" in df.columns else None
        mapped = df["lead_team"].map(role)
        df["lead_role"] = mapped if have is None else have.where(have.notna(), mapped)
    return df


def load_demo_incidents(root: str | Path = ".") -> AnalyticsData:
    """The synthetic Paal Merah demo: incidents, boundaries, teams, categories.

    Parameters
    ----------
    root : path
        The repository (or any folder holding ``data/demo/incidents.csv``,
        ``data/demo/teams.csv`` and ``data/boundaries/paal_merah_demo/``).
    """
    from geo_sigap.domain.categories import load_categories

    root = Path(root)
    inc_path = root / "data" / "demo" / "incidents.csv"
    if not inc_path.exists():
        raise ImportFailed(
            f"Data demo belum ada: {inc_path}. Buat dengan: python -m geo_sigap.demo.generate",
            f"Demo data missing: {inc_path}. Make it with: python -m geo_sigap.demo.generate",
        )
    units = load_units(root / "data" / "boundaries" / "paal_merah_demo")
    teams_path = root / "data" / "demo" / "teams.csv"
    teams = pd.read_csv(teams_path, dtype=str) if teams_path.exists() else pd.DataFrame(
        columns=["code", "name", "role"])
    incidents = load_incidents_csv(inc_path, units, teams)
    stat = inc_path.stat()
    return AnalyticsData(incidents=incidents, units=units, teams=teams,
                         categories=load_categories(),
                         version=f"demo-{stat.st_size}-{int(stat.st_mtime)}",
                         meta={"source": str(inc_path), "synthetic": True})
