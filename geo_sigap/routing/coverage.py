"""Coverage for planners: travel time from the nearest post to every RT/RW, per role.

One multi-source search per role and travel profile, forward from all posts of that
role at once, gives every node its time from the nearest post; each unit is then
reached at its representative point (a point inside the polygon, snapped to the
nearest usable road with its access leg). Units beyond the category's target response
time are flagged. Output: a GeoDataFrame (EPSG:4326) → GeoJSON / CSV / a folium layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from geo_sigap.domain.categories import Category
from geo_sigap.domain.teams import Role, Team
from geo_sigap.errors import InvalidInput
from geo_sigap.routing import _kernel
from geo_sigap.routing.profiles import profile_for

_EMPTY_I = np.zeros(0, np.int64)
_EMPTY_F = np.zeros(0)


def coverage(
    engine: Any,
    units: Any,
    teams: Sequence[Team],
    *,
    category: Category | None = None,
    roles: Sequence[Role] | None = None,
    target_min: float | None = None,
) -> Any:
    """Minutes from the nearest post of each role to each unit.

    Parameters
    ----------
    engine
        A :class:`~geo_sigap.routing.engine.RoutingEngine`.
    units
        GeoDataFrame with ``code``, ``name``, ``level``, ``geometry`` (RT/RW/kelurahan
        polygons; reprojected to EPSG:4326 when needed).
    teams
        Their posts and vehicles are used (status does not matter for planning).
    category
        Gives the roles (lead first) and the target response time (minutes).
    roles, target_min
        Override the category's.

    Returns
    -------
    GeoDataFrame
        The units with, per role ``r``: ``r_eta_min`` (NaN: no road path),
        ``r_post`` (team code of the nearest post) and, with a target,
        ``r_beyond_target``; plus ``beyond_target`` (any role beyond or unreachable),
        ``point_lon``/``point_lat`` (where the unit is reached) and ``target_min``.
    """
    import geopandas as gpd

    missing = {"code", "geometry"} - set(units.columns)
    if missing:
        raise InvalidInput(
            f"Data wilayah tidak memiliki kolom: {', '.join(sorted(missing))}",
            f"Unit data lacks columns: {', '.join(sorted(missing))}",
        )
    gdf = units if units.crs is None or units.crs.equals("EPSG:4326") else units.to_crs(4326)
    wanted = list(roles) if roles is not None else list(category.roles) if category else []
    if not wanted:
        wanted = sorted({t.role for t in teams}, key=lambda r: r.value)
    target = target_min if target_min is not None else (
        category.target_response_min if category is not None else None)
    pts = gdf.geometry.representative_point()
    lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    out = gpd.GeoDataFrame(
        gdf[[c for c in ("code", "name", "level") if c in gdf.columns]].copy(),
        geometry=gdf.geometry.to_numpy(), crs="EPSG:4326")
    out["point_lon"], out["point_lat"] = lon, lat
    beyond = np.zeros(len(out), bool)
    for role in wanted:
        eta = np.full(len(out), np.inf)
        post = np.full(len(out), None, dtype=object)
        members = [t for t in teams if t.role == role]
        for profile in sorted({profile_for(t.vehicle) for t in members}):
            group = [t for t in members if profile_for(t.vehicle) == profile]
            t_prof, idx = _from_posts(engine, group, profile, lon, lat)
            better = t_prof < eta
            eta[better] = t_prof[better]
            post[better] = [group[i].code for i in idx[better]]
        minutes = np.where(np.isfinite(eta), eta / 60.0, np.nan)
        out[f"{role.value}_eta_min"] = np.round(minutes, 2)
        out[f"{role.value}_post"] = post
        if target is not None:
            flag = ~(minutes <= target)
            out[f"{role.value}_beyond_target"] = flag
            beyond |= flag
    if target is not None:
        out["target_min"] = float(target)
        out["beyond_target"] = beyond
    return out


def _from_posts(engine, teams: Sequence[Team], profile: str, lon, lat):
    """Seconds from the nearest post (forward search) to each point, and that post."""
    net = engine.network(profile)
    cfg = engine.config
    posts = np.array([t.post for t in teams], dtype=np.float64).reshape(-1, 2)
    snaps = net.snap(posts[:, 0], posts[:, 1])
    seeds = net.attach(snaps, cfg.access_speed_ms, leaving=True,
                       keep=snaps.access_m <= cfg.max_snap_m)
    fwd = net.forward
    dist, _, _, label, *_ = _kernel.search(
        fwd.indptr, fwd.nbr, fwd.wt, fwd.ln, fwd.eid, engine.graph.n_nodes,
        seeds.node, seeds.time, seeds.length,
        _EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_F, _EMPTY_F, _EMPTY_F,
        _EMPTY_I, np.zeros(0, bool), _EMPTY_I, np.inf)
    target = net.snap(lon, lat)
    arrive = net.attach(target, cfg.access_speed_ms, leaving=False,
                        keep=target.access_m <= cfg.max_snap_m)
    total = dist[arrive.node] + arrive.time
    best = np.full(len(lon), np.inf)
    np.minimum.at(best, arrive.owner, total)
    owner_post = np.full(len(lon), -1, np.int64)
    win = np.isfinite(total) & (total == best[arrive.owner])
    src = label[arrive.node[win]]
    owner_post[arrive.owner[win]] = np.where(src >= 0, seeds.owner[np.maximum(src, 0)], -1)
    return best, owner_post


def write_coverage(table: Any, path: str | Path) -> Path:
    """Write the coverage table as GeoJSON (``.geojson``/``.json``) or CSV (no geometry)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        table.drop(columns="geometry").to_csv(path, index=False)
    elif path.suffix.lower() in (".geojson", ".json"):
        table.to_file(path, driver="GeoJSON")
    else:
        raise InvalidInput(
            f"Format keluaran tidak dikenal: {path.suffix} (gunakan .geojson atau .csv)",
            f"Unknown output format: {path.suffix} (use .geojson or .csv)",
        )
    return path


def coverage_layer(table: Any, role: Role | str, *, name: str | None = None) -> Any:
    """A folium GeoJson layer coloured by minutes from the nearest post of ``role``."""
    import folium

    role = Role.parse(role)
    col = f"{role.value}_eta_min"
    target = float(table["target_min"].iloc[0]) if "target_min" in table.columns else 30.0

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        minutes = feature["properties"].get(col)
        if minutes is None or minutes != minutes:
            color = "#7f7f7f"
        elif minutes <= target / 2:
            color = "#1a9850"
        elif minutes <= target:
            color = "#fee08b"
        else:
            color = "#d73027"
        return {"fillColor": color, "color": "#333333", "weight": 0.5, "fillOpacity": 0.55}

    fields = [c for c in ("code", "name", col, f"{role.value}_post") if c in table.columns]
    return folium.GeoJson(
        table[fields + ["geometry"]].to_json(), name=name or f"Jangkauan {role.label}",
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=fields),
    )
