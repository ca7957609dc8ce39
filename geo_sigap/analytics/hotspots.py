"""Statistically tested hotspots of incident counts on polygons and on a hexagonal grid.

Gi* (conditional permutations, seeded, Benjamini–Hochberg FDR) gives hot and cold
spots at 90/95/99 %; Local Moran's I gives clusters (HH, LL) and outliers (HL, LH) as a
second view. Islands are not tested (see :mod:`geo_sigap.analytics.gistar`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from geo_sigap.analytics import gistar as _gi
from geo_sigap.analytics.weights import hex_grid, queen_weights
from geo_sigap.errors import InvalidInput

if TYPE_CHECKING:  # imported where used: hex_gi needs neither (a first call is cheap)
    import geopandas as gpd
    import pandas as pd

#: The one hotspot test of a quarter, shown by the live map's hotspot layer and printed
#: in the rakor pack: 9,999 conditional permutations (with FDR over hundreds of cells 999
#: cannot reach 99 %), this seed, 250 m hexagons. A unit stops drawing once it is certain
#: not to be significant at 90 % (two-sided), so every class equals the full run's.
PERMUTATIONS = 9999
SEED = 12345
HEX_M = 250.0
DECIDE_ALPHA = 0.05  # on the folded (one-tail) p: 90 % two-sided


@dataclass(frozen=True)
class HexHotspots:
    """Gi* of one set of incidents on a hex grid: the cells in the grid's order."""

    codes: np.ndarray
    counts: np.ndarray
    gi: _gi.GiStar
    classes: np.ndarray  # +3..-3, -9 islands (FDR)
    n_incidents: int
    permutations: int
    seed: int

    def class_of(self) -> dict:
        return dict(zip(self.codes.tolist(), self.classes.tolist()))


def hex_counts(grid, lon, lat) -> np.ndarray:
    """Incidents per cell of ``grid`` (points outside the grid are left out)."""
    x, y = grid.to_metric(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    idx = grid.cell_index(x, y)
    return np.bincount(idx[idx >= 0], minlength=len(grid.q)).astype(np.float64)


def hex_gi(grid, weights, lon, lat, *, permutations: int = PERMUTATIONS,
           seed: int = SEED) -> HexHotspots:
    """The hotspot test of incidents at ``lon, lat`` on ``grid`` (``weights``: its adjacency
    or :func:`geo_sigap.analytics.gistar.star_weights` of it) — the computation the live
    map and the rakor pack share."""
    counts = hex_counts(grid, lon, lat)
    g = _gi.gi_star(counts, weights, permutations=permutations, seed=seed,
                    decide_alpha=DECIDE_ALPHA)
    return HexHotspots(codes=np.asarray(grid.codes()), counts=counts, gi=g,
                       classes=g.classes(fdr=True), n_incidents=int(len(np.asarray(lon))),
                       permutations=permutations, seed=seed)


def units_of_level(units: gpd.GeoDataFrame, level: str,
                   kecamatan: str | None = None) -> gpd.GeoDataFrame:
    """Units of one level (kelurahan, rw, rt), optionally inside one kecamatan."""
    sel = units.loc[units["level"] == level]
    if kecamatan:
        sel = sel.loc[sel["code"].astype(str).str.startswith(kecamatan)]
    if sel.empty:
        raise InvalidInput(
            f"Tidak ada unit wilayah tingkat {level!r}"
            + (f" di kecamatan {kecamatan}" if kecamatan else ""),
            f"No units of level {level!r}" + (f" in kecamatan {kecamatan}" if kecamatan else ""),
        )
    return sel.reset_index(drop=True)


def count_by_unit(incidents: pd.DataFrame, unit_codes, level: str) -> np.ndarray:
    """Number of incidents in each unit (in the order of ``unit_codes``)."""
    import pandas as pd

    col = f"{level}_code"
    vc = incidents[col].value_counts()
    return vc.reindex(pd.Index(unit_codes)).fillna(0).to_numpy(dtype=np.float64)


def _attach(gdf: gpd.GeoDataFrame, counts: np.ndarray, w, *, permutations: int, seed: int,
            fdr: bool, moran: bool) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out["count"] = counts.astype(np.int64)
    g = _gi.gi_star(counts, w, permutations=permutations, seed=seed, decide_alpha=DECIDE_ALPHA)
    cls = g.classes(fdr=fdr)
    out["gi_z"] = g.z
    out["gi_p"] = g.p_two
    out["gi_class"] = cls
    out["gi_label"] = [_gi.GI_CLASS_LABELS[int(c)] for c in cls]
    if moran:
        m = _gi.local_moran(counts, w, permutations=permutations, seed=seed)
        q = m.quadrants(0.05, fdr=fdr)
        out["moran_i"] = m.Is
        out["moran_p"] = np.minimum(1.0, 2 * m.p_sim)
        out["moran_q"] = q
        out["moran_label"] = [_gi.MORAN_LABELS[x] for x in q]
    out.attrs["islands"] = int(g.island.sum())
    out.attrs["fdr"] = fdr
    out.attrs["permutations"] = permutations
    out.attrs["seed"] = seed
    return out


def unit_hotspots(incidents: pd.DataFrame, units: gpd.GeoDataFrame, level: str = "rw", *,
                  kecamatan: str | None = None, permutations: int = 999, seed: int = SEED,
                  fdr: bool = True, moran: bool = True, weights=None) -> gpd.GeoDataFrame:
    """Gi* (and Local Moran) of incident counts per kelurahan / RW / RT polygon.

    Parameters
    ----------
    incidents : DataFrame
        Incidents already filtered (category, period …), with ``<level>_code``.
    units : GeoDataFrame
        Units (EPSG:4326); those of ``level`` are tested with Queen contiguity.
    weights : sparse matrix, optional
        Precomputed binary weights for the selected units (in their order).

    Returns
    -------
    GeoDataFrame
        The units with ``count, gi_z, gi_p`` (two-sided pseudo p), ``gi_class``
        (+3..-3, -9 island), ``gi_label`` and, with ``moran``, ``moran_i, moran_p,
        moran_q, moran_label``. ``attrs['islands']`` counts untested units.
    """
    sel = units_of_level(units, level, kecamatan)
    w = weights if weights is not None else queen_weights(sel)
    counts = count_by_unit(incidents, sel["code"], level)
    return _attach(sel, counts, w, permutations=permutations, seed=seed, fdr=fdr, moran=moran)


def hex_hotspots(incidents: pd.DataFrame, area: gpd.GeoDataFrame, size_m: float = 250.0, *,
                 permutations: int = 999, seed: int = SEED, fdr: bool = True,
                 moran: bool = False) -> gpd.GeoDataFrame:
    """Gi* of incident counts on a regular hexagonal grid covering ``area``.

    The grid (cells of ``size_m`` centre to centre, in the area's UTM zone) keeps the cells whose
    centre lies in ``area``; each cell's neighbours are the six around it.
    """
    grid = hex_grid(area, size_m)
    x, y = grid.to_metric(incidents["lon"].to_numpy(), incidents["lat"].to_numpy())
    idx = grid.cell_index(x, y)
    counts = np.bincount(idx[idx >= 0], minlength=len(grid.q)).astype(np.float64)
    gdf = grid.to_geodataframe()
    out = _attach(gdf, counts, grid.adjacency(), permutations=permutations, seed=seed,
                  fdr=fdr, moran=moran)
    out.attrs["size_m"] = size_m
    out.attrs["crs"] = grid.crs
    return out


def to_geojson(gdf: gpd.GeoDataFrame, columns=None) -> dict:
    """A FeatureCollection (EPSG:4326) with the chosen columns as properties."""
    import json

    cols = list(columns) if columns is not None else [c for c in gdf.columns if c != "geometry"]
    g = gdf[cols + ["geometry"]].copy()
    for c in cols:
        if g[c].dtype.kind == "f":
            g[c] = g[c].round(4).astype(object).where(g[c].notna(), None)
    return json.loads(g.to_crs("EPSG:4326").to_json(drop_id=True))
