"""A plain, slow reverse geocoder written straight from the documented rules with
shapely, one point at a time: the reference every fast path is compared with."""

from __future__ import annotations

import math

import numpy as np
import shapely

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.geocoding.units import LEVEL_KEYS, unit_table

_M_PER_DEG = 6_371_008.8 * math.pi / 180.0


class Reference:
    def __init__(self, units, gap_tolerance_m: float = 50.0) -> None:
        self.table = unit_table(units)
        self.gap = gap_tolerance_m
        f = self.table.frame[self.table.frame["polygonal"]]
        b = shapely.total_bounds(f.geometry.values)
        self.lon0, self.lat0 = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        self.kx = _M_PER_DEG * math.cos(math.radians(self.lat0))
        self.layers = []
        for level in LEVEL_KEYS:
            sub = f[f["level"] == int(level)].sort_values("code")
            if len(sub):
                geoms = list(sub.geometry.values)
                self.layers.append((level, list(sub["code"]), geoms,
                                    [self._metric(g) for g in geoms]))

    def _metric(self, g):
        return shapely.transform(g, lambda c: np.column_stack(
            ((c[:, 0] - self.lon0) * self.kx, (c[:, 1] - self.lat0) * _M_PER_DEG)))

    def units_of(self, code: str) -> dict:
        out = {}
        for c in [code, *self.table.ancestors(code)]:
            lvl = self.table.level(c)
            if lvl in LEVEL_KEYS:
                out.setdefault(lvl, c)
        return out

    @staticmethod
    def agrees(taken: dict, units: dict) -> bool:
        return all(taken[lvl] == c for lvl, c in units.items() if lvl in taken)

    def _duel(self, metric, a: int, b: int, mpt) -> int:
        ga, gb = metric[a], metric[b]
        small = min(ga.area, gb.area)
        if shapely.intersection(ga, gb).area >= 0.8 * small:
            return b if gb.area < ga.area - 1e-3 else a
        da, db = mpt.distance(ga.boundary), mpt.distance(gb.boundary)
        return b if db > da + 1e-3 else a

    def locate(self, lon: float, lat: float) -> tuple[dict, set, float]:
        """(level → code, flag names, gap distance) for a valid point."""
        pt = shapely.Point(lon, lat)
        mpt = shapely.Point((lon - self.lon0) * self.kx, (lat - self.lat0) * _M_PER_DEG)
        taken: dict = {}
        flags: set = set()
        uncovered = []
        for level, codes, geoms, metric in self.layers:
            cover = [(i, g.contains(pt)) for i, g in enumerate(geoms) if g.intersects(pt)]
            n_in = sum(1 for _, inside in cover if inside)
            if n_in >= 2:
                flags.add("overlap")
            elif len(cover) >= 2:
                flags.add("border")
            if not cover:
                uncovered.append((level, codes, metric))
                continue
            fit = [c for c in cover if self.agrees(taken, self.units_of(codes[c[0]]))] or cover
            inner = [c for c in fit if c[1]] or fit
            win = inner[0][0]
            if len(inner) >= 2 and all(c[1] for c in inner):
                for i, _ in inner[1:]:
                    win = self._duel(metric, win, i, mpt)
            units = self.units_of(codes[win])
            if self.agrees(taken, units):
                for lvl, c in units.items():
                    taken.setdefault(lvl, c)
            else:
                flags.add("hierarchy_conflict")
        gap_m = 0.0
        for level, codes, metric in uncovered if self.gap > 0 else ():
            d = [g.distance(mpt) for g in metric]
            best = min(range(len(d)), key=lambda i: (d[i], codes[i]))
            if d[best] > self.gap or level in taken:
                continue
            units = self.units_of(codes[best])
            if self.agrees(taken, units):
                for lvl, c in units.items():
                    taken.setdefault(lvl, c)
                flags.add("gap_nearest")
                gap_m = max(gap_m, d[best])
        present = {level for level, *_ in self.layers}
        if taken:
            if AdminLevel.RT in present and AdminLevel.RT not in taken:
                flags.add("rt_missing")
            if AdminLevel.RW in present and AdminLevel.RW not in taken:
                flags.add("rw_missing")
        else:
            flags.add("outside_coverage")
        return {LEVEL_KEYS[lvl]: c for lvl, c in taken.items()}, flags, gap_m


def compare(geocoder, reference: Reference, xs, ys) -> list:
    """Differences between ``geocoder`` (batch and one point) and the reference."""
    df = geocoder.locate_many(xs, ys)
    bad = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        want, flags, gap_m = reference.locate(float(x), float(y))
        one = geocoder.locate(float(x), float(y))
        for key in LEVEL_KEYS.values():
            got_b = df[f"{key}_code"].iloc[i]
            got_b = None if not isinstance(got_b, str) else got_b
            if got_b != want.get(key) or getattr(one.placement, f"{key}_code") != want.get(key):
                bad.append((i, key, want.get(key), got_b, getattr(one.placement, f"{key}_code")))
        got_flags = {f for f in str(df["quality_flags"].iloc[i]).split(";") if f}
        if got_flags != flags or set(one.flags) != flags:
            bad.append((i, "flags", flags, got_flags, set(one.flags)))
        if "gap_nearest" in flags and abs(df["gap_distance_m"].iloc[i] - gap_m) > 1e-6:
            bad.append((i, "gap_m", gap_m, df["gap_distance_m"].iloc[i]))
    return bad
