"""A small synthetic area and incident history for tests and benchmarks (seeded).

Not the demo data (``geo_sigap.demo`` makes that): a lattice of square kelurahan, RW
and RT near Kota Jambi, and incidents with known planted patterns, so that tests can
assert that analytics finds exactly what was planted.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_sigap.analytics.frames import WIB, normalise_incidents

ORIGIN = (103.60, -1.64)  # lon, lat of the south-west corner
KEL_DEG = 0.02  # ~2.2 km
CATS = ("pkl", "gepeng", "ternak", "pekat", "odgj", "keributan", "pencurian", "bencana",
        "lainnya")
ROLES = {"pkl": "satpol_pp", "gepeng": "satpol_pp", "ternak": "satpol_pp",
         "pekat": "bhabinkamtibmas", "odgj": "satpol_pp", "keributan": "bhabinkamtibmas",
         "pencurian": "bhabinkamtibmas", "bencana": "babinsa", "lainnya": "linmas"}


def lattice_units(nx: int = 3, ny: int = 2, rw_side: int = 3, rt_side: int = 2,
                  kecamatan: str = "15.71.11") -> gpd.GeoDataFrame:
    """Square kelurahan (nx × ny), each split into rw_side² RW and each RW into rt_side² RT."""
    rows = []
    rng = np.random.default_rng(5)
    for kj in range(ny):
        for ki in range(nx):
            kcode = f"{kecamatan}.{1001 + kj * nx + ki}"
            x0, y0 = ORIGIN[0] + ki * KEL_DEG, ORIGIN[1] + kj * KEL_DEG
            kpop = 0
            rw_d = KEL_DEG / rw_side
            for rj in range(rw_side):
                for ri in range(rw_side):
                    rw_no = rj * rw_side + ri + 1
                    rwcode = f"{kcode}.RW{rw_no:03d}"
                    rx, ry = x0 + ri * rw_d, y0 + rj * rw_d
                    rw_pop = 0
                    rt_d = rw_d / rt_side
                    for tj in range(rt_side):
                        for ti in range(rt_side):
                            rt_no = tj * rt_side + ti + 1
                            pop = int(rng.integers(200, 700))
                            rw_pop += pop
                            tx, ty = rx + ti * rt_d, ry + tj * rt_d
                            rows.append((f"{rwcode}.RT{rt_no:03d}", f"RT {rt_no:03d}", "rt",
                                         rwcode, pop, shapely.box(tx, ty, tx + rt_d, ty + rt_d)))
                    kpop += rw_pop
                    rows.append((rwcode, f"RW {rw_no:03d}", "rw", kcode, rw_pop,
                                 shapely.box(rx, ry, rx + rw_d, ry + rw_d)))
            rows.append((kcode, f"Kelurahan {kj * nx + ki + 1}", "kelurahan", kecamatan, kpop,
                         shapely.box(x0, y0, x0 + KEL_DEG, y0 + KEL_DEG)))
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["code", "name", "level",
                                                        "parent_code", "population",
                                                        "geometry"]),
                            geometry="geometry", crs="EPSG:4326")


def square_grid(n_side: int, cell_deg: float = 0.002) -> gpd.GeoDataFrame:
    """``n_side²`` square polygons (level 'rt') — a large lattice for benchmarks."""
    i, j = np.meshgrid(np.arange(n_side), np.arange(n_side))
    x0 = ORIGIN[0] + i.ravel() * cell_deg
    y0 = ORIGIN[1] + j.ravel() * cell_deg
    geoms = shapely.box(x0, y0, x0 + cell_deg, y0 + cell_deg)
    codes = [f"G{k:06d}" for k in range(n_side * n_side)]
    return gpd.GeoDataFrame({"code": codes, "name": codes, "level": "rt", "parent_code": None,
                             "population": 400}, geometry=geoms, crs="EPSG:4326")


def _points_in(units: gpd.GeoDataFrame, code: str, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = units.loc[units["code"] == code].geometry.iloc[0].bounds
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)


def incidents_history(units: gpd.GeoDataFrame, *, seed: int = 7,
                      start: str = "2024-10-01", end: str = "2026-10-01",
                      background_per_month: int = 60, hot_rw: str | None = None,
                      new_rw: str | None = None) -> pd.DataFrame:
    """Incidents with planted patterns (raw schema; place them with ``place_incidents``).

    - background: uniform over the area, random categories, any hour;
    - ``hot_rw``: PKL concentrated there every month (persistent hotspot);
    - ``new_rw``: pekat at night there from 2026-01, growing each month (new/
      intensifying).
    Lifecycle timestamps follow exponential step durations; 5 % are rejected.
    """
    rng = np.random.default_rng(seed)
    kel = units.loc[units["level"] == "kelurahan"]
    minx, miny, maxx, maxy = kel.total_bounds
    months = pd.date_range(pd.Timestamp(start, tz=WIB), pd.Timestamp(end, tz=WIB), freq="MS")[:-1]
    parts = []

    def block(n, lon, lat, cat, month, hours=None):
        day = rng.uniform(0, month.days_in_month, n)
        if hours is not None:
            hr = rng.choice(hours, n)
            day = np.floor(day) + (hr + rng.uniform(0, 1, n)) / 24
        t = month + pd.to_timedelta(day, unit="D")
        return pd.DataFrame({"category": cat, "lon": lon, "lat": lat, "reported_at": t})

    for k, m in enumerate(months):
        n = rng.poisson(background_per_month)
        parts.append(block(n, rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n),
                           rng.choice(CATS, n), m))
        if hot_rw:
            n = rng.poisson(25)
            parts.append(block(n, *_points_in(units, hot_rw, n, rng), "pkl", m))
        if new_rw and m >= pd.Timestamp("2026-01-01", tz=WIB):
            n = rng.poisson(6 + 3 * (m.month + 12 * (m.year - 2026)))
            parts.append(block(n, *_points_in(units, new_rw, n, rng), "pekat", m,
                               hours=np.array([21, 22, 23, 0, 1, 2])))
    df = pd.concat(parts, ignore_index=True).sort_values("reported_at", ignore_index=True)
    n = len(df)
    df["ticket"] = [f"SIN-{i:06d}" for i in range(n)]
    df["priority"] = rng.choice([1, 2, 3, 4], n, p=[0.1, 0.3, 0.4, 0.2])
    t = df["reported_at"]
    steps = (("verified_at", 5), ("dispatched_at", 8), ("en_route_at", 4), ("on_scene_at", 14),
             ("handled_at", 35), ("resolved_at", 240))
    for col, mean in steps:
        t = t + pd.to_timedelta(rng.exponential(mean, n), unit="min")
        df[col] = t
    rejected = rng.random(n) < 0.05
    df["rejected_at"] = df["verified_at"].where(rejected)
    for col, _ in steps[1:]:
        df[col] = df[col].where(~rejected)
    df["status"] = np.where(rejected, "ditolak", "selesai")
    teams = {role: f"T-{role[:4].upper()}" for role in set(ROLES.values())}
    df["lead_role"] = df["category"].map(ROLES).where(~rejected)
    df["lead_team"] = df["lead_role"].map(teams)
    return normalise_incidents(df)


def teams_frame() -> pd.DataFrame:
    roles = sorted(set(ROLES.values()))
    return pd.DataFrame({"code": [f"T-{r[:4].upper()}" for r in roles],
                         "name": [f"Tim {r}" for r in roles], "role": roles})
