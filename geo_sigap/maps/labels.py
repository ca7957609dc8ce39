"""Map labels that never overprint: greedy placement with box checks (printed maps).

Every label comes with a few candidate positions (around a point, inside an area, along a
road); labels are taken in priority order and each gets the first candidate whose box
stays inside the map frame and touches no box already placed and no obstacle (markers,
hotspot cells). A label with no free candidate is dropped, never squeezed in.

Coordinates are **points on the page** (1/72 inch) with the origin at the map frame's
lower-left corner, so that text sizes are true; :class:`PageTransform` converts
EPSG:4326 lon/lat to those points (equal metres in x and y).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString, Polygon

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (points)


@dataclass(frozen=True)
class PageTransform:
    """lon/lat (EPSG:4326) → points on the page, one scale for metres east and north."""

    west: float
    south: float
    scale: float  # points per degree of latitude
    coslat: float

    @classmethod
    def fit(cls, bounds, width_pt: float, height_pt: float) -> PageTransform:
        w, s, e, n = bounds
        coslat = math.cos(math.radians((s + n) / 2))
        scale = min(width_pt / max((e - w) * coslat, 1e-12), height_pt / max(n - s, 1e-12))
        return cls(w, s, scale, coslat)

    def size(self, bounds) -> tuple[float, float]:
        w, s, e, n = bounds
        return (e - w) * self.coslat * self.scale, (n - s) * self.scale

    def __call__(self, lon, lat):
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        return (lon - self.west) * self.coslat * self.scale, (lat - self.south) * self.scale

    def inverse(self, x, y):
        x, y = np.asarray(x, float), np.asarray(y, float)
        return self.west + x / (self.coslat * self.scale), self.south + y / self.scale

    def metres_per_point(self) -> float:
        return 111_320.0 / self.scale


DPI = 140  # the resolution the printed figures are saved at (text is hinted to it)


@lru_cache(maxsize=1)
def _renderer():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(8, 8, float(DPI))


@lru_cache(maxsize=64)
def _font(size: float, bold: bool):
    from matplotlib.font_manager import FontProperties

    return FontProperties(family="DejaVu Sans", size=size,
                          weight="bold" if bold else "normal")


@lru_cache(maxsize=4096)
def text_size(text: str, size: float, bold: bool = False) -> tuple[float, float]:
    """Width and height in points of ``text`` in DejaVu Sans at ``size`` pt, as
    matplotlib's Agg renderer lays it out at :data:`DPI` (how the figures are saved)."""
    text = " ".join(text.split())
    w, h, _d = _renderer().get_text_width_height_descent(text, _font(size, bold),
                                                         ismath=False)
    k = 72.0 / DPI
    return float(w) * k, float(max(h * k, size * 1.17))


class Lazy(Sequence):
    """Candidates made on first use (``make(*args, **kw)``): a label whose turn never
    comes (its kind's limit reached) is never measured."""

    def __init__(self, make, *args, **kw):
        self._make, self._args, self._kw = make, args, kw
        self._items = None

    def _get(self) -> list:
        if self._items is None:
            self._items = list(self._make(*self._args, **self._kw))
        return self._items

    def __getitem__(self, i):
        return self._get()[i]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self):
        return iter(self._get())


@dataclass
class Candidate:
    x: float  # centre of the text (points)
    y: float
    angle: float = 0.0  # degrees, counter-clockwise
    leader: tuple[float, float] | None = None  # draw a line from the box to this point


@dataclass
class Label:
    text: str
    size: float
    priority: float  # lower is placed first
    candidates: list[Candidate]
    kind: str = ""
    bold: bool = False
    pad: float = 1.2  # points of halo around the text
    avoid: frozenset = frozenset({"data", "marker"})  # kinds of obstacle kept clear
    extra: Box | None = None  # a marker that belongs to this label (placed with it)
    group: str | None = None  # of the labels sharing a group, only the first that fits
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        self.text = " ".join(str(self.text).split())  # one line: no stray newlines


@dataclass
class Placed:
    label: Label
    candidate: Candidate
    polygon: Polygon  # the text box on the page (rotated with the text)

    @property
    def box(self) -> Box:
        return tuple(self.polygon.bounds)


def text_polygon(label: Label, c: Candidate) -> Polygon:
    w, h = text_size(label.text, label.size, label.bold)
    hw, hh = w / 2 + label.pad, h / 2 + label.pad * 0.6
    a = math.radians(c.angle)
    ca, sa = math.cos(a), math.sin(a)
    pts = [(c.x + dx * ca - dy * sa, c.y + dx * sa + dy * ca)
           for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))]
    return Polygon(pts)


def _box_poly(b: Box) -> Polygon:
    return shapely.box(*b)


class _Index:
    """Boxes placed so far: an axis-aligned pre-check (numpy), then the exact shapes."""

    def __init__(self):
        self.boxes = np.empty((0, 4))
        self.shapes: list[Polygon] = []

    def add(self, poly: Polygon) -> None:
        self.boxes = np.vstack([self.boxes, np.asarray(poly.bounds)[None, :]])
        self.shapes.append(poly)

    def hits(self, poly: Polygon) -> bool:
        if not len(self.shapes):
            return False
        x0, y0, x1, y1 = poly.bounds
        b = self.boxes
        near = np.nonzero((b[:, 0] < x1) & (b[:, 2] > x0) & (b[:, 1] < y1) & (b[:, 3] > y0))[0]
        return any(self.shapes[i].intersects(poly) and
                   self.shapes[i].intersection(poly).area > 1e-6 for i in near)


def place_labels(labels: list[Label], frame: tuple[float, float],
                 obstacles: list[tuple[Box, str]] | None = None,
                 limits: dict[str, int] | None = None) -> tuple[list[Placed], list[Label]]:
    """Place ``labels`` (lowest ``priority`` first) inside the frame ``(width, height)``
    (points); returns ``(placed, dropped)``. No two placed text boxes (nor a box and the
    marker or leader line of another label) overlap, no box leaves the frame, and a label
    touches no obstacle ``(box, kind)`` whose kind is in its ``avoid``; at most
    ``limits[kind]`` labels of a kind are placed."""
    fw, fh = frame
    taken = _Index()
    blocked: dict[str, _Index] = {}
    for b, kind in obstacles or ():
        blocked.setdefault(kind, _Index()).add(_box_poly(b))
    placed, dropped = [], []
    count: dict[str, int] = {}
    limits = limits or {}
    done_groups: set[str] = set()
    pending: dict[str, int] = {}
    for lab in labels:
        if lab.group is not None:
            pending[lab.group] = pending.get(lab.group, 0) + 1
    for lab in sorted(labels, key=lambda lb: lb.priority):
        if lab.group is not None:
            pending[lab.group] -= 1
            if lab.group in done_groups:
                continue
        if count.get(lab.kind, 0) >= limits.get(lab.kind, 1 << 30):
            dropped.append(lab)
            continue
        extra = _box_poly(lab.extra) if lab.extra else None
        if extra is not None and taken.hits(extra):
            dropped.append(lab)
            continue
        for c in lab.candidates:
            poly = text_polygon(lab, c)
            x0, y0, x1, y1 = poly.bounds
            if x0 < 0 or y0 < 0 or x1 > fw or y1 > fh:
                continue
            if taken.hits(poly) or any(blocked[k].hits(poly) for k in lab.avoid
                                       if k in blocked):
                continue
            lead = None
            if c.leader is not None:
                lead = _leader(poly, c.leader)
                if lead is not None and taken.hits(lead.buffer(0.8)):
                    continue
            placed.append(Placed(lab, c, poly))
            if lab.group is not None:
                done_groups.add(lab.group)
            count[lab.kind] = count.get(lab.kind, 0) + 1
            taken.add(poly)
            if lead is not None:
                taken.add(lead.buffer(0.8))
            if extra is not None:
                taken.add(extra)
            break
        else:
            if lab.group is None or pending[lab.group] == 0:  # its last chance
                dropped.append(lab)
    return placed, dropped


# -- candidate makers ----------------------------------------------------------------------

def around_point(x: float, y: float, text: str, size: float, r: float = 3.5,
                 bold: bool = False) -> list[Candidate]:
    """Right, left, above, below and the four corners of a marker at ``(x, y)``."""
    w, h = text_size(text, size, bold)
    dx, dy = w / 2 + r, h / 2 + r * 0.5
    return [Candidate(x + dx, y), Candidate(x - dx, y), Candidate(x, y + dy),
            Candidate(x, y - dy), Candidate(x + dx, y + dy), Candidate(x - dx, y + dy),
            Candidate(x + dx, y - dy), Candidate(x - dx, y - dy)]


def in_area(points: list[tuple[float, float]], step: float) -> list[Candidate]:
    """At each inner point, then nudged by ``step`` up, down, left and right."""
    out = []
    for x, y in points:
        out.append(Candidate(x, y))
    for x, y in points:
        out += [Candidate(x, y + step), Candidate(x, y - step), Candidate(x + 2 * step, y),
                Candidate(x - 2 * step, y)]
    return out


def beside_box(box: Box, anchor: tuple[float, float], text: str, size: float,
               bold: bool = False, gap: float = 4.0) -> list[Candidate]:
    """Outside ``box`` (a hotspot cluster): above, below, right, left, corners; each with
    a leader to ``anchor``."""
    x0, y0, x1, y1 = box
    w, h = text_size(text, size, bold)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    spots = [(cx, y1 + gap + h / 2), (cx, y0 - gap - h / 2), (x1 + gap + w / 2, cy),
             (x0 - gap - w / 2, cy), (x1 + w / 2, y1 + gap + h / 2),
             (x0 - w / 2, y1 + gap + h / 2), (x1 + w / 2, y0 - gap - h / 2),
             (x0 - w / 2, y0 - gap - h / 2)]
    far = [(sx + (sx - cx) * 0.8, sy + (sy - cy) * 0.8) for sx, sy in spots]
    return [Candidate(sx, sy, leader=anchor) for sx, sy in spots + far]


def along_line(line: LineString, text: str, size: float,
               fractions=(0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9)) -> list[Candidate]:
    """Centred at ``fractions`` of the line's length, rotated to the road and kept
    upright; only where the road is straight enough under the text (it bends less than
    0,8 × the text height from the chord)."""
    w, h = text_size(text, size)
    length = line.length
    if length < w * 1.1:
        return []
    out = []
    for f in fractions:
        mid = f * length
        a, b = mid - w / 2, mid + w / 2
        if a < 0 or b > length:
            continue
        pa, pb = line.interpolate(a), line.interpolate(b)
        chord = LineString([pa, pb])
        part = shapely.ops.substring(line, a, b)
        if part.hausdorff_distance(chord) > h * 0.8:
            continue
        ang = math.degrees(math.atan2(pb.y - pa.y, pb.x - pa.x))
        if ang > 90:
            ang -= 180
        elif ang < -90:
            ang += 180
        pm = line.interpolate(mid)
        out.append(Candidate(pm.x, pm.y, ang))
    return out


def edge_point(poly: Polygon, target) -> tuple[float, float]:
    """Where the line from the box's centre to ``target`` leaves the box."""
    line = LineString([poly.centroid, target])
    cut = line.intersection(poly.exterior)
    if cut.is_empty:
        return poly.centroid.x, poly.centroid.y
    pts = list(getattr(cut, "geoms", [cut]))
    p = min(pts, key=lambda q: q.distance(shapely.Point(target)))
    return p.x, p.y


def _leader(poly: Polygon, target) -> LineString | None:
    x, y = edge_point(poly, target)
    if math.hypot(target[0] - x, target[1] - y) < 1.0:
        return None
    return LineString([(x, y), target])


def chains(lines: list[LineString], tol: float = 1.5, max_turn: float = 40.0
           ) -> list[LineString]:
    """Join the pieces of one street end to end, through junctions, where the street runs
    on with a turn under ``max_turn`` degrees (the straightest continuation first), so
    that a name fits on the joined stretch; longest first."""
    segs = [list(ln.coords) for ln in lines if len(ln.coords) >= 2]

    def heading(a, b):
        return math.atan2(b[1] - a[1], b[0] - a[0])

    while True:
        best = None
        for i in range(len(segs)):
            for j in range(len(segs)):
                if i == j:
                    continue
                a, b = segs[i], segs[j]
                for rev_a, rev_b in ((False, False), (False, True), (True, False), (True, True)):
                    aa = a[::-1] if rev_a else a
                    bb = b[::-1] if rev_b else b
                    if math.dist(aa[-1], bb[0]) > tol:
                        continue
                    turn = abs((heading(aa[-2], aa[-1]) - heading(bb[0], bb[1]) + math.pi)
                               % (2 * math.pi) - math.pi)
                    if math.degrees(turn) <= max_turn and (best is None or turn < best[0]):
                        best = (turn, i, j, aa, bb)
        if best is None:
            break
        _t, i, j, aa, bb = best
        joined = aa + bb[1:]
        segs = [s for k, s in enumerate(segs) if k not in (i, j)] + [joined]
    out = [LineString(s) for s in segs]
    return sorted(out, key=lambda ln: -ln.length)


def overlaps(placed: list[Placed]) -> list[tuple[int, int]]:
    """Pairs of placed labels whose text boxes overlap (empty when placement is right)."""
    out = []
    for i in range(len(placed)):
        for j in range(i + 1, len(placed)):
            if placed[i].polygon.intersection(placed[j].polygon).area > 1e-6:
                out.append((i, j))
    return out

