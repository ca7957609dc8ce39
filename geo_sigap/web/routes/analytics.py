"""Analytics for the web map: heat grid, hotspot GeoJSON, KPIs (cached).

Data comes from ``request.app.state.services.analytics_data()``, which returns a
:class:`geo_sigap.analytics.loaders.AnalyticsData`; results are cached per filter and
``data.version`` (a new version — new incidents — computes afresh).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from fastapi import APIRouter, Depends, Query, Request

from geo_sigap.web.auth import staff_actor

router = APIRouter(prefix="/api/analytics", tags=["analitik"], dependencies=[Depends(staff_actor)])

_DATA: dict[str, object] = {}  # version → AnalyticsData, so cached functions can find it


def _data(request: Request):
    data = request.app.state.services.analytics_data()
    if data.version not in _DATA:
        _DATA.clear()
        _DATA[data.version] = data
    return data


def _filtered(version: str, category: str | None, quarter: str | None, hours: str | None,
              kecamatan: str | None):
    from geo_sigap.analytics.frames import Quarter, filter_incidents
    from geo_sigap.errors import InvalidInput

    data = _DATA[version]
    start = end = None
    if quarter:
        q = Quarter.parse(quarter)
        start, end = q.start, q.end
    h = None
    if hours:
        try:
            a, b = (int(v) for v in hours.split("-"))
        except ValueError:
            raise InvalidInput("Jam harus berbentuk 'dari-sampai', mis. 20-3",
                               "Hours must look like 'from-to', e.g. 20-3") from None
        h = (a, b)
    cats = category.split(",") if category else None
    return data, filter_incidents(data.incidents, categories=cats, start=start, end=end,
                                  hours=h, kecamatan=kecamatan)


@lru_cache(maxsize=64)
def _heat(version, category, quarter, hours, kecamatan, bandwidth_m, kernel):
    from geo_sigap.analytics.heatmap import kde_grid

    data, inc = _filtered(version, category, quarter, hours, kecamatan)
    kel = data.units.loc[data.units["level"] == "kelurahan"]
    if kecamatan:
        kel = kel.loc[kel["code"].astype(str).str.startswith(kecamatan)]
    bounds = tuple(float(v) for v in kel.total_bounds) if len(kel) else None
    g = kde_grid(inc["lon"], inc["lat"], bandwidth_m=bandwidth_m, kernel=kernel, bounds=bounds)
    out = g.to_json()
    out["image"] = g.to_data_url()
    return out


@lru_cache(maxsize=32)
def _hotspots(version, category, quarter, hours, kecamatan, level, hex_m, permutations):
    from geo_sigap.analytics.hotspots import hex_hotspots, to_geojson, unit_hotspots

    data, inc = _filtered(version, category, quarter, hours, kecamatan)
    if level == "hex":
        kel = data.units.loc[data.units["level"] == "kelurahan"]
        if kecamatan:
            kel = kel.loc[kel["code"].astype(str).str.startswith(kecamatan)]
        gdf = hex_hotspots(inc, kel, hex_m, permutations=permutations)
        cols = ["code", "count", "gi_z", "gi_p", "gi_class", "gi_label"]
    else:
        gdf = unit_hotspots(inc, data.units, level, kecamatan=kecamatan,
                            permutations=permutations)
        cols = ["code", "name", "count", "gi_z", "gi_p", "gi_class", "gi_label", "moran_q",
                "moran_label"]
    fc = to_geojson(gdf, cols)
    fc["meta"] = {"permutations": permutations, "fdr": True, "islands": gdf.attrs["islands"],
                  "n_incidents": int(len(inc))}
    return fc


@lru_cache(maxsize=32)
def _kpis(version, category, quarter, hours, kecamatan):
    from geo_sigap.analytics.performance import annotate

    data, inc = _filtered(version, category, quarter, hours, kecamatan)
    ann = annotate(inc, data.categories)
    resp = ann["min_respons"].dropna()
    wt = ann["within_target"].dropna().astype(bool)

    def num(v):
        return None if v is None or not np.isfinite(v) else round(float(v), 1)

    return {
        "incidents": int(len(inc)),
        "by_category": {str(k): int(v) for k, v in inc["category"].value_counts().items()},
        "response_median_min": num(resp.median()) if len(resp) else None,
        "response_p90_min": num(resp.quantile(0.9)) if len(resp) else None,
        "share_within_target": num(wt.mean()) if len(wt) else None,
        "overdue": int(ann["overdue"].sum()),
    }


@router.get("/heat", summary="Peta panas (grid kepadatan kejadian per km²)")
def heat(request: Request, category: str | None = None, quarter: str | None = None,
         hours: str | None = Query(None, description="jam WIB 'dari-sampai', mis. 20-3"),
         kecamatan: str | None = None, bandwidth_m: float | None = Query(None, gt=0, le=5000),
         kernel: str = Query("quartic", pattern="^(quartic|gaussian)$")) -> dict:
    data = _data(request)
    return _heat(data.version, category, quarter, hours, kecamatan, bandwidth_m, kernel)


@router.get("/hotspots", summary="Titik panas Gi* (GeoJSON)")
def hotspots(request: Request, category: str | None = None, quarter: str | None = None,
             hours: str | None = None, kecamatan: str | None = None,
             level: str = Query("hex", pattern="^(hex|kelurahan|rw|rt)$"),
             hex_m: float = Query(250.0, ge=50, le=2000),
             permutations: int = Query(999, ge=99, le=9999)) -> dict:
    data = _data(request)
    return _hotspots(data.version, category, quarter, hours, kecamatan, level, hex_m,
                     permutations)


@router.get("/kpis", summary="Angka utama (jumlah, waktu respons, keterlambatan)")
def kpis(request: Request, category: str | None = None, quarter: str | None = None,
         hours: str | None = None, kecamatan: str | None = None) -> dict:
    data = _data(request)
    return _kpis(data.version, category, quarter, hours, kecamatan)


def warm_up() -> None:
    """Load the compiled Gi* kernel (call once in a background thread at start-up)."""
    from geo_sigap.analytics._kernels import warm_up as _warm

    _warm()
