"""Digitising gaps: line ends that stop a few metres short of another road, joined.

Only *dangling* ends (touching no other line) move, so roads that cross at different
levels without a nearby end stay apart, and lines at different levels (``layer``,
bridge, tunnel) are never joined. Distances are metres in a metric CRS (the area's UTM
zone, :mod:`geo_sigap.domain.projection`); coordinates are lon/lat, EPSG:4326.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class JoinStats:
    end_to_end: int = 0
    end_to_line: int = 0
    dangling_before: int = 0

    @property
    def total(self) -> int:
        return self.end_to_end + self.end_to_line


def join_gaps(tags: Sequence[Mapping[str, Any]], coords: list[np.ndarray], tolerance_m: float,
              crs: str) -> JoinStats:
    """Move dangling line ends onto a nearby line end or line (in place).

    An end is *dangling* when no other line (nor the line itself) shares its vertex.
    Dangling ends within ``tolerance_m`` of each other meet at the first one; a
    dangling end within ``tolerance_m`` of another line moves onto it (onto a vertex
    of that line within 1 m of the nearest point, else onto a vertex inserted there).
    Lines at different levels (``layer``, bridge, tunnel) are not joined.
    ``crs`` is the metric CRS distances are measured in.
    """
    import shapely
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    stats = JoinStats()
    if tolerance_m <= 0 or not coords:
        return stats
    count: Counter = Counter()
    for c in coords:
        keys = vertex_keys(c)
        for i, k in enumerate(keys):
            count[k] += 2 if i in (0, len(keys) - 1) else 1
    ends = []  # (line, position 0/-1)
    for li, c in enumerate(coords):
        if len(c) < 2:
            continue
        k0, k1 = _key(c[0]), _key(c[-1])
        if k0 == k1:
            continue
        if count[k0] == 2:
            ends.append((li, 0))
        if count[k1] == 2:
            ends.append((li, -1))
    stats.dangling_before = len(ends)
    if not ends:
        return stats
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    metric = [np.column_stack(fwd.transform(c[:, 0], c[:, 1])) for c in coords]
    pts = np.array([metric[li][pos] for li, pos in ends])
    level = [tags[li].get("_level", (0, False, False)) for li, _ in ends]

    # 1. end to end
    joined: set[int] = set()
    parent = list(range(len(ends)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in sorted(cKDTree(pts).query_pairs(tolerance_m)):
        if ends[a][0] == ends[b][0] or level[a] != level[b]:
            continue
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(len(ends)):
        groups.setdefault(find(i), []).append(i)
    for root, members in groups.items():
        if len(members) < 2:
            continue
        target_line, target_pos = ends[root]
        target = coords[target_line][target_pos].copy()
        moved = 0
        for m in members:
            if m != root and np.hypot(*(pts[m] - pts[root])) > tolerance_m:
                continue
            li, pos = ends[m]
            coords[li][pos] = target
            joined.add(m)
            moved += 1
        if moved < 2:
            joined.discard(root)
        else:
            stats.end_to_end += moved

    # 2. end to another line (T-junction undershoot)
    lines_m = [shapely.LineString(c) if len(c) >= 2 else shapely.Point(c[0]) for c in metric]
    tree = shapely.STRtree(lines_m)
    inserts: dict[int, list[tuple[int, float, np.ndarray]]] = {}
    for i, (li, pos) in enumerate(ends):
        if i in joined:
            continue
        p = pts[i]
        hits = tree.query(shapely.points(p), predicate="dwithin", distance=tolerance_m)
        best = None
        for j in hits.tolist():
            if j == li or tags[j].get("_level", (0, False, False)) != level[i]:
                continue
            seg, t, foot, d = _nearest_on(metric[j], p)
            if d <= tolerance_m and (best is None or d < best[4]):
                best = (j, seg, t, foot, d)
        if best is None:
            continue
        j, seg, t, foot, _ = best
        vd = np.hypot(*(metric[j] - foot).T)
        k = int(np.argmin(vd))
        if vd[k] <= 1.0 and np.hypot(*(metric[j][k] - p)) <= tolerance_m:
            target = coords[j][k].copy()
        else:
            lon, lat = inv.transform(foot[0], foot[1])
            target = np.array([lon, lat])
            inserts.setdefault(j, []).append((seg, t, target))
        coords[li][pos] = target
        stats.end_to_line += 1
    for j, items in inserts.items():
        for seg, _t, target in sorted(items, key=lambda x: (x[0], x[1]), reverse=True):
            coords[j] = np.insert(coords[j], seg + 1, target, axis=0)
    return stats


def _nearest_on(line: np.ndarray, p: np.ndarray) -> tuple[int, float, np.ndarray, float]:
    """Segment index, position on it (0..1), foot point and distance of ``p`` to ``line``."""
    a, b = line[:-1], line[1:]
    ab = b - a
    den = np.maximum((ab * ab).sum(axis=1), 1e-18)
    t = np.clip(((p - a) * ab).sum(axis=1) / den, 0.0, 1.0)
    foot = a + t[:, None] * ab
    d = np.hypot(*(foot - p).T)
    s = int(np.argmin(d))
    return s, float(t[s]), foot[s], float(d[s])


def _key(pt: np.ndarray) -> tuple[int, int]:
    return int(round(pt[0] * 1e7)), int(round(pt[1] * 1e7))


def vertex_keys(c: np.ndarray) -> list[tuple[int, int]]:
    """Vertices as integer keys (1e-7 degree, ≈ 1 cm): equal keys are one junction."""
    return list(map(tuple, np.round(c * 1e7).astype(np.int64).tolist()))
