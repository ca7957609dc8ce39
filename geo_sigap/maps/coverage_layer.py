"""Travel-time coverage of RT/RW as a GeoJSON FeatureCollection for the coordinator's map.

Computed by :class:`geo_sigap.maps.coverage_cache.CoverageCache` (when the teams' posts
change), served by ``GET /api/map/coverage``.
"""

from __future__ import annotations

import json

import shapely

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.maps.simplify import simplified

COVERAGE_LEVELS = {"rt": AdminLevel.RT, "rw": AdminLevel.RW}


def _num(v, digits: int = 1):
    """A JSON number, or None for NaN / missing."""
    if v is None:
        return None
    v = float(v)
    return round(v, digits) if v == v else None


def coverage_collection(engine, units, teams, level: AdminLevel, *, category=None,
                        role=None) -> dict:
    """Coverage of the units at ``level`` as a GeoJSON FeatureCollection (EPSG:4326).

    Parameters
    ----------
    engine
        The road :class:`~geo_sigap.routing.engine.RoutingEngine`.
    units
        All :class:`~geo_sigap.domain.admin.AdminUnit` of the area (any levels).
    teams
        :class:`~geo_sigap.domain.teams.Team` list; their posts and vehicles count.
    category
        A :class:`~geo_sigap.domain.categories.Category`: its roles (lead first) and its
        target response time (minutes); ``None``: every role that has teams (in
        :class:`~geo_sigap.domain.teams.Role` order), no target.
    role
        One :class:`~geo_sigap.domain.teams.Role` to compute instead of the category's.

    Returns
    -------
    dict
        Features with properties ``code, name, level, parent_code, kelurahan_code,
        kelurahan_name`` and, per role ``r``: ``r_eta_min`` (minutes, one decimal; None:
        no road path), ``r_post`` (team code), ``r_beyond_target``; plus
        ``beyond_target`` (any role beyond the target or unreachable; None without a
        target). ``meta``: ``level, category, roles, lead_role, target_min, n_units``.
        Geometries are simplified as in :func:`boundaries_geojson`.
    """
    import geopandas as gpd

    from geo_sigap.routing.coverage import coverage

    chosen = [u for u in units if u.level == level and u.geometry is not None]
    by_code = {u.code: u for u in units}
    frame = gpd.GeoDataFrame(
        {"code": [u.code for u in chosen], "name": [u.name for u in chosen],
         "level": [level.name.lower()] * len(chosen)},
        geometry=[u.geometry for u in chosen], crs="EPSG:4326")
    from geo_sigap.domain.teams import Role

    if role is not None:
        roles = [role]
    elif category is None or not category.roles:  # every role with a post, in Role order
        roles = [r for r in Role if any(t.role == r for t in teams)]
    else:
        roles = None  # the category's, lead first
    table = coverage(engine, frame, teams, category=category, roles=roles)
    role_cols = [c[: -len("_eta_min")] for c in table.columns if c.endswith("_eta_min")]
    target = category.target_response_min if category is not None else None
    simple = simplified(frame.geometry.to_numpy(), level)
    features = []
    for i, u in enumerate(chosen):
        kel = _kelurahan_of(u, by_code)
        props = {"code": u.code, "name": u.name, "level": level.name.lower(),
                 "parent_code": u.parent_code,
                 "kelurahan_code": kel.code if kel else None,
                 "kelurahan_name": kel.name if kel else None}
        for r in role_cols:
            props[f"{r}_eta_min"] = _num(table[f"{r}_eta_min"].iat[i])
            props[f"{r}_post"] = table[f"{r}_post"].iat[i]
            if target is not None:
                props[f"{r}_beyond_target"] = bool(table[f"{r}_beyond_target"].iat[i])
        props["beyond_target"] = bool(table["beyond_target"].iat[i]) if target is not None \
            else None
        features.append({"type": "Feature", "properties": props,
                         "geometry": json.loads(shapely.to_geojson(simple[i]))})
    meta = {"level": level.name.lower(), "category": category.code if category else None,
            "category_name": category.name if category else None, "roles": role_cols,
            "lead_role": role_cols[0] if role_cols else None,
            "target_min": float(target) if target is not None else None,
            "n_units": len(features)}
    return {"type": "FeatureCollection", "features": features, "meta": meta}


def _kelurahan_of(unit, by_code: dict):
    """The kelurahan a unit lies in (itself for a kelurahan), following ``parent_code``."""
    seen = 0
    while unit is not None and unit.level > AdminLevel.KELURAHAN and seen < 4:
        unit = by_code.get(unit.parent_code)
        seen += 1
    return unit if unit is not None and unit.level == AdminLevel.KELURAHAN else None
