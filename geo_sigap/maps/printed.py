"""Printed maps (the rakor pack): the area's streets, landmarks and posts under the data,
labels that never overprint (:mod:`geo_sigap.maps.labels`), and the legend, colour bar,
scale bar and north arrow in a panel beside the map, never on the data.

:class:`BaseLayers` holds what the area already has (road lines with names from the
routing network, the gazetteer's landmarks, the teams' posts), all EPSG:4326;
:class:`PrintMap` draws one figure. Sizes are in points so that text prints true: the
figure is laid out for an A4 landscape page (the pack's CSS prints it at its own size).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, Point

from geo_sigap.maps import labels as L

PT = 1 / 72  # inch
MAP_MAX = (7.7 * 72, 5.2 * 72)  # points: the map frame fits this box
PANEL_W = 2.55 * 72
TITLE_H = 0.38 * 72
MARGIN = 0.08 * 72
GAP = 0.15 * 72

ROAD_STYLES = {"minor": (0.35, "#cfcfcf", 1), "other": (0.3, "#dddddd", 1),
               "middle": (0.9, "#e3b97f", 2), "major": (1.6, "#d8904a", 3)}
MAJOR = {"motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link",
         "primary_link", "secondary_link"}
MIDDLE = {"tertiary", "tertiary_link"}
MINOR = {"residential", "unclassified", "living_street", "service", "road"}

# landmark kinds (demo gazetteer and OSM POI categories) → group
KIND_GROUP = {
    "kantor_camat": "kantor", "kantor_lurah": "kantor", "kantor": "kantor",
    "polsek": "keamanan", "koramil": "keamanan", "posko": "keamanan",
    "pasar": "pasar", "terminal": "pasar", "economic": "pasar", "minimarket": "pasar",
    "bank": "pasar", "spbu": "pasar",
    "puskesmas": "kesehatan", "klinik": "kesehatan", "apotek": "kesehatan",
    "rumah_sakit": "kesehatan", "health": "kesehatan",
    "masjid": "ibadah", "musala": "ibadah", "gereja": "ibadah",
    "sekolah": "sekolah", "education": "sekolah",
}
# group: (marker, colour, legend words, priority: lower is labelled first)
GROUPS = {
    "kantor": ("s", "#1f4e79", "Kantor lurah/camat", 0),
    "keamanan": ("p", "#1f4e79", "Polsek, Koramil, posko", 1),
    "pasar": ("D", "#7b3294", "Pasar, terminal, niaga", 2),
    "kesehatan": ("P", "#c51b7d", "Puskesmas, klinik", 3),
    "ibadah": ("^", "#1b7837", "Masjid, musala, gereja", 4),
    "sekolah": ("v", "#8c510a", "Sekolah", 5),
    "lain": ("o", "#555555", "Tempat lain", 6),
}
KIND_ORDER = {"kantor_camat": 0, "polsek": 0, "pasar": 0, "terminal": 0, "puskesmas": 0,
              "koramil": 1, "kantor_lurah": 1, "rumah_sakit": 0}
ROLE_STYLE = {  # posts, by the team's role
    "bhabinkamtibmas": ("#08519c", "Pos Bhabinkamtibmas"), "babinsa": ("#006d2c", "Pos Babinsa"),
    "linmas": ("#e6550d", "Pos Linmas"), "satpol_pp": ("#54278f", "Pos Satpol PP"),
}
OTHER_POST = ("#333333", "Pos lain (Damkar, BPBD, …)")
# a light box behind each label (its collision box, a little smaller): as legible as a
# stroked halo and many times cheaper to draw
HALO = dict(boxstyle="round,pad=0.12,rounding_size=0.2", fc="white", ec="none", alpha=0.72)
MAX_LANDMARKS = 22  # labelled landmarks per map: more is clutter on paper
MAX_POSTS = 8


@dataclass
class BaseLayers:
    """Streets (``name, highway, geometry``), landmarks (``name, kind, lon, lat``) and
    posts (``name, role, lon, lat``) of the area, EPSG:4326; any may be empty."""

    roads: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["name", "highway", "geometry"]))
    landmarks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["name", "kind", "lon", "lat"]))
    posts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["name", "role", "lon", "lat"]))

    @classmethod
    def from_files(cls, roads_geojson: bytes | None = None, gazetteer=None,
                   posts: pd.DataFrame | None = None) -> BaseLayers:
        """From the base map's road GeoJSON (:func:`geo_sigap.maps.roads.roads_geojson`),
        a gazetteer frame (:func:`geo_sigap.geocoding.sources.load_gazetteer`) and posts."""
        out = cls()
        if roads_geojson:
            feats = json.loads(roads_geojson).get("features", [])
            out.roads = pd.DataFrame({
                "name": [f["properties"].get("name") for f in feats],
                "highway": [f["properties"].get("highway") for f in feats],
                "geometry": [shapely.geometry.shape(f["geometry"]) for f in feats]})
        if gazetteer is not None and len(gazetteer):
            out.landmarks = pd.DataFrame({
                "name": [" ".join(str(n).split()) for n in gazetteer["name"]],
                "kind": gazetteer["kind"].astype(str).to_numpy(),
                "lon": gazetteer.geometry.x.to_numpy(), "lat": gazetteer.geometry.y.to_numpy()})
        if posts is not None and len(posts):
            out.posts = posts[["name", "role", "lon", "lat"]].reset_index(drop=True)
        return out


def _named(value) -> str | None:
    """A usable name: not empty, not an OSM placeholder ("Unnamed Road")."""
    if not isinstance(value, str):
        return None
    v = value.strip()
    if not v or v.lower() in ("nan", "none", "null") or v.lower().startswith("unnamed"):
        return None
    return v


def _road_class(hw) -> str:
    h = str(hw or "")
    return "major" if h in MAJOR else "middle" if h in MIDDLE else \
        "minor" if h in MINOR else "other"


def _nice_length(metres: float) -> float:
    for v in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000):
        if v >= metres:
            return v
    return 50000


class PrintMap:
    """One printed map: ``PrintMap(area, base, title)``, draw the data on ``.ax`` in
    lon/lat, then :meth:`finish` with the legend entries; ``.placed``/``.dropped`` are
    the labels placed and left out (for tests)."""

    def __init__(self, area, base: BaseLayers | None, title: str, *,
                 outline=None, pad: float = 0.02):
        import matplotlib.pyplot as plt

        self.area = area  # GeoDataFrame of the units shown (kelurahan), EPSG:4326
        self.base = base or BaseLayers()
        self.outline = outline  # optional thicker outline (kecamatan on a city-wide map)
        w, s, e, n = area.total_bounds
        dx, dy = (e - w) * pad, (n - s) * pad
        self.bounds = (w - dx, s - dy, e + dx, n + dy)
        self.tf = L.PageTransform.fit(self.bounds, *MAP_MAX)
        fw, fh = self.tf.size(self.bounds)
        self.frame = (fw, fh)
        width = MARGIN + fw + GAP + PANEL_W + MARGIN
        height = TITLE_H + max(fh, 4.2 * 72) + MARGIN
        self.size_pt = (width, height)
        self.fig = plt.figure(figsize=(width * PT, height * PT))
        top = height - TITLE_H
        self.ax = self.fig.add_axes([MARGIN / width, (top - fh) / height, fw / width,
                                     fh / height])
        self.ax.set_xlim(self.bounds[0], self.bounds[2])
        self.ax.set_ylim(self.bounds[1], self.bounds[3])
        self.ax.set_axis_off()
        self.panel = self.fig.add_axes([(MARGIN + fw + GAP) / width, MARGIN / height,
                                        PANEL_W / width, (top - MARGIN) / height])
        self.panel.set_xlim(0, PANEL_W)
        self.panel.set_ylim(0, top - MARGIN)
        self.panel.set_axis_off()
        self.panel_top = top - MARGIN  # points, from the panel's bottom
        self.fig.text(MARGIN / width, (height - TITLE_H * 0.45) / height, title,
                      fontsize=10.5, fontweight="bold", va="center", ha="left")
        self.labels: list[L.Label] = []
        self.obstacles: list[L.Box] = []
        self.placed: list[L.Placed] = []
        self.dropped: list[L.Label] = []
        self._legend_base: list[tuple] = []
        self._draw_roads()

    # -- base layers -----------------------------------------------------------------------

    def _to_page(self, geom):
        return shapely.transform(geom, lambda c: np.column_stack(self.tf(c[:, 0], c[:, 1])))

    def _in_view(self, geom) -> bool:
        return geom.intersects(shapely.box(*self.bounds))

    def _memo(self, what: str, make):
        """What a map of these bounds builds from the base layers (road pieces, names and
        their candidate spots), built once for all the maps of one pack."""
        key = (what, tuple(round(float(v), 9) for v in self.bounds), len(self.area))
        cache = self.base.__dict__.setdefault("_print_cache", {})
        if key not in cache:
            cache[key] = make()
        return cache[key]

    def _draw_roads(self) -> None:
        from matplotlib.collections import LineCollection

        roads = self.base.roads
        if roads is None or not len(roads):
            return
        segs, legend, labels = self._memo("roads", self._road_layers)
        for cls, (lw, colour, z) in ROAD_STYLES.items():
            if segs[cls]:
                self.ax.add_collection(LineCollection(segs[cls], linewidths=lw, colors=colour,
                                                      zorder=z, capstyle="round"))
        self._legend_base += legend
        self.labels += labels

    def _road_layers(self):
        roads = self.base.roads
        view = shapely.box(*self.bounds)
        styles = ROAD_STYLES
        segs: dict[str, list] = {k: [] for k in styles}
        by_name: dict[tuple[str, str], list] = {}
        for name, hw, geom in zip(roads["name"], roads["highway"], roads["geometry"]):
            if geom is None or not geom.intersects(view):
                continue
            cls = _road_class(hw)
            parts = geom.geoms if isinstance(geom, MultiLineString) else [geom]
            for p in parts:
                segs[cls].append(np.asarray(p.coords)[:, :2])
            if _named(name):
                key = (_named(name), cls)
                by_name.setdefault(key, []).append(geom.intersection(view))
        legend, labels = [], []
        if segs["major"] or segs["middle"]:
            legend.append(("line", "Jalan utama", "#d8904a", 1.6))
        if segs["minor"]:
            legend.append(("line", "Jalan lingkungan, gang", "#cfcfcf", 0.8))
        # street names: the longest straight-enough stretch of each named road
        rank = {"major": 20, "middle": 40, "minor": 60, "other": 70}
        size = {"major": 6.0, "middle": 5.6, "minor": 5.0, "other": 5.0}
        items = []
        for (name, cls), geoms in by_name.items():
            merged = shapely.line_merge(shapely.union_all(geoms))
            pieces = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
            pieces = L.chains([self._to_page(p) for p in pieces if isinstance(p, LineString)
                               and not p.is_empty])
            if pieces:
                items.append((cls, -pieces[0].length, name, pieces[:2]))
        items.sort()
        for i, (cls, _neg, name, pieces) in enumerate(items):
            cands = [c for p in pieces for c in L.along_line(p, name, size[cls])]
            if cands:
                labels.append(L.Label(name, size[cls], rank[cls] + i / 1000, cands,
                                      kind="jalan", data={"colour": "#4d4d4d",
                                                          "style": "italic"}))
        return segs, legend, labels

    def _draw_boundaries(self) -> None:
        from matplotlib.collections import LineCollection

        segs = []
        for g in self.area.geometry:
            for poly in getattr(g, "geoms", [g]):
                segs.append(np.asarray(poly.exterior.coords)[:, :2])
        city = self.outline is not None and len(self.outline)
        lw = 0.5 if city else 0.8
        self.ax.add_collection(LineCollection(segs, linewidths=lw, colors="#444444", zorder=6,
                                              linestyles=(0, (3, 1.5)) if city else "solid"))
        self._legend_base.append(("line", "Batas kelurahan", "#444444", lw))
        if city:
            segs = []
            for g in self.outline.geometry:
                for poly in getattr(g, "geoms", [g]):
                    segs.append(np.asarray(poly.exterior.coords)[:, :2])
            self.ax.add_collection(LineCollection(segs, linewidths=1.6, colors="#111111",
                                                  zorder=6))
            self._legend_base.append(("line", "Batas kecamatan", "#111111", 1.6))

    def _area_labels(self) -> None:
        self.labels += self._memo("areas", self._make_area_labels)

    def _make_area_labels(self) -> list:
        labels = []
        many = len(self.area) > 20
        size = 5.6 if many else 8.0
        order = self.area.assign(_a=[g.area for g in self.area.geometry]).sort_values(
            "_a", ascending=False)
        for i, (name, geom) in enumerate(zip(order["name"], order.geometry)):
            pg = self._to_page(geom)
            pts = [pg.representative_point()]
            minx, miny, maxx, maxy = pg.bounds
            step = 9.0
            xs, ys = np.arange(minx, maxx, step), np.arange(miny, maxy, step)
            if len(xs) and len(ys):
                gx, gy = np.meshgrid(xs, ys)
                inner = shapely.points(gx.ravel(), gy.ravel())
                inside = inner[shapely.contains(pg, inner)]
                c = pts[0]
                inside = sorted(inside, key=lambda p: p.distance(c))[:40]
                pts += inside
            cands = [L.Candidate(p.x, p.y) for p in pts
                     if pg.contains(Point(p.x, p.y))] or [L.Candidate(pts[0].x, pts[0].y)]
            labels.append(L.Label(str(name), size, 10 + i / 1000, cands, kind="kelurahan",
                                       bold=not many, avoid=frozenset({"data"}),
                                       group=f"kel{i}", data={"colour": "#222222"}))
            # where the name does not fit: smaller, then beside the area with a leader
            small = size * 0.82
            c0 = pts[0]
            labels.append(L.Label(str(name), small, 19 + i / 1000, cands,
                                       kind="kelurahan", avoid=frozenset({"data"}),
                                       group=f"kel{i}", data={"colour": "#222222"}))
            labels.append(L.Label(str(name), small, 19.5 + i / 1000,
                                       L.beside_box(pg.bounds, (c0.x, c0.y), str(name), small,
                                                    gap=2.0),
                                       kind="kelurahan", avoid=frozenset({"data"}),
                                       group=f"kel{i}", data={"colour": "#222222",
                                                              "leader_lw": 0.4}))
        return labels

    def _draw_points(self) -> None:
        posts = self.base.posts
        if posts is not None and len(posts):
            by_colour, obstacles, labels, roles_drawn = self._memo("posts", self._post_layers)
            self.obstacles += obstacles
            self.labels += labels
            for colour, (xs, ys) in by_colour.items():  # one artist per colour, not per post
                self.ax.plot(xs, ys, marker="*", ms=5.5, color=colour, mec="white",
                             mew=0.4, zorder=9, ls="none")
            for role, (colour, words) in [*ROLE_STYLE.items(), ("lain", OTHER_POST)]:
                if role in roles_drawn:
                    self._legend_base.append(("marker", words, colour, "*"))
        lm = self.base.landmarks
        if lm is not None and len(lm):
            self.labels += self._memo("landmarks", self._landmark_labels)

    def _post_layers(self):
        """The posts in view (one per place and role): markers by colour, their boxes
        (obstacles) and name labels (candidates measured only when the label's turn
        comes: at most :data:`MAX_POSTS` are placed of thousands at city scale)."""
        posts = self.base.posts
        w, s, e, n = self.bounds
        lon, lat = posts["lon"].to_numpy(float), posts["lat"].to_numpy(float)
        inside = (lon > w) & (lon < e) & (lat > s) & (lat < n)  # view.contains, vectorised
        seen = set()
        roles_drawn = set()
        by_colour: dict[str, tuple[list[float], list[float]]] = {}
        obstacles, labels = [], []
        for name, role, x_, y_, ok in zip(posts["name"], posts["role"], lon, lat, inside):
            if not ok:
                continue
            key = (round(x_, 4), round(y_, 4), role)
            if key in seen:
                continue
            seen.add(key)
            colour, words = ROLE_STYLE.get(str(role), OTHER_POST)
            roles_drawn.add(str(role) if str(role) in ROLE_STYLE else "lain")
            xs, ys = by_colour.setdefault(colour, ([], []))
            xs.append(x_)
            ys.append(y_)
            x, y = self.tf(x_, y_)
            x, y = float(x), float(y)
            obstacles.append(((x - 2.6, y - 2.6, x + 2.6, y + 2.6), "marker"))
            labels.append(L.Label(str(name), 5.4, 80 + len(seen) / 1000,
                                  L.Lazy(L.around_point, x, y, str(name), 5.4, r=4.0),
                                  kind="pos", data={"colour": colour}))
        return by_colour, obstacles, labels, roles_drawn

    def _landmark_labels(self) -> list:
        view = shapely.box(*self.bounds)
        lm = self.base.landmarks
        labels = []
        inside = [view.contains(Point(x, y)) and _named(n) is not None
                  for x, y, n in zip(lm["lon"], lm["lat"], lm["name"])]
        lm = lm.loc[inside]
        groups = [KIND_GROUP.get(str(k).lower(), "lain") for k in lm["kind"]]
        lm = lm.assign(group=groups, rank=[GROUPS[g][3] * 10 + KIND_ORDER.get(str(k), 5)
                                           for g, k in zip(groups, lm["kind"])])
        lm = lm.sort_values(["rank", "name"])
        for i, r in enumerate(lm.itertuples()):
            x, y = self.tf(r.lon, r.lat)
            x, y = float(x), float(y)
            labels.append(L.Label(
                str(r.name), 5.6, (30 if r.rank < 30 else 45) + r.rank / 100 + i / 1e5,
                L.around_point(x, y, str(r.name), 5.6, r=3.5), kind="tempat",
                extra=(x - 2.4, y - 2.4, x + 2.4, y + 2.4),
                data={"colour": "#333333", "group": r.group, "lonlat": (r.lon, r.lat)}))
        return labels

    # -- data helpers for callers ------------------------------------------------------------

    def clip_to_area(self, artist) -> None:
        """Clip a raster (the density grid) to the area's outline."""
        from matplotlib.patches import PathPatch
        from matplotlib.path import Path as MPath

        verts, codes = [], []
        for g in self.area.geometry:
            for poly in getattr(g, "geoms", [g]):
                ring = np.asarray(poly.exterior.coords)[:, :2]
                verts.append(ring)
                codes += [MPath.MOVETO] + [MPath.LINETO] * (len(ring) - 2) + [MPath.CLOSEPOLY]
        patch = PathPatch(MPath(np.concatenate(verts), codes), transform=self.ax.transData,
                          facecolor="none", edgecolor="none")
        artist.set_clip_path(patch)

    def add_obstacles_lonlat(self, geoms) -> None:
        """Cells of the data that lower labels must not cover (e.g. hotspot cells)."""
        for g in geoms:
            if g is None or g.is_empty:
                continue
            x0, y0, x1, y1 = self._to_page(g).bounds
            self.obstacles.append(((x0, y0, x1, y1), "data"))

    def add_callouts(self, items) -> None:
        """``[(text, geometry)]`` in priority order: names beside the data they belong to
        (a hotspot's RW), each with a leader line to it."""
        for i, (text, geom) in enumerate(items):
            pg = self._to_page(geom)
            c = pg.centroid
            cands = L.beside_box(pg.bounds, (c.x, c.y), text, 7.0, bold=True)
            self.labels.append(L.Label(text, 7.0, i / 1000, cands, kind="titik",
                                       bold=True, avoid=frozenset({"data"}),
                                       data={"colour": "#67001f"}))

    # -- finishing -----------------------------------------------------------------------------

    def finish(self, legend: list[tuple] | None = None, legend_title: str = "",
               colorbar=None, colorbar_label: str = "") -> None:
        """Boundaries, labels, and the panel: ``legend`` entries ``("patch", words,
        colour)`` / ``("line", words, colour, width)`` / ``("marker", words, colour,
        marker)``; or ``colorbar`` (a mappable) with its label."""
        self._draw_boundaries()
        self._area_labels()
        self._draw_points()
        keep, dropped = L.place_labels(self.labels, self.frame, self.obstacles,
                                       limits={"tempat": MAX_LANDMARKS, "pos": MAX_POSTS})
        self.placed, self.dropped = keep, dropped
        groups_drawn = set()
        for p in keep:
            lab, c = p.label, p.candidate
            lon, lat = self.tf.inverse(c.x, c.y)
            colour = lab.data.get("colour", "#222222")
            if lab.kind == "tempat":
                g = lab.data["group"]
                marker, mcol, _w, _p = GROUPS[g]
                groups_drawn.add(g)
                self.ax.plot([lab.data["lonlat"][0]], [lab.data["lonlat"][1]], marker=marker,
                             ms=4.2, color=mcol, mec="white", mew=0.4, ls="none", zorder=9)
            if c.leader is not None:
                ex, ey = L.edge_point(p.polygon, c.leader)
                llon, llat = self.tf.inverse([ex, c.leader[0]], [ey, c.leader[1]])
                lw = lab.data.get("leader_lw", 0.7)
                self.ax.plot(llon, llat, color=colour, lw=lw, zorder=10)
                self.ax.plot([llon[1]], [llat[1]], marker="o", ms=2.2 * lw / 0.7, color=colour,
                             zorder=10)
            self.ax.text(float(lon), float(lat), lab.text, fontsize=lab.size, color=colour,
                         fontweight="bold" if lab.bold else "normal",
                         fontstyle=lab.data.get("style", "normal"), rotation=c.angle,
                         rotation_mode="anchor", ha="center", va="center", zorder=11,
                         bbox=HALO)
        for g, (marker, mcol, words, _p) in GROUPS.items():
            if g in groups_drawn:
                self._legend_base.append(("marker", words, mcol, marker))
        self._panel(legend or [], legend_title, colorbar, colorbar_label)

    def _panel(self, legend, legend_title, colorbar, colorbar_label) -> None:
        from matplotlib.patches import Rectangle

        ax = self.panel
        y = self.panel_top - 6
        fs = 7.0
        row = 11.0

        def heading(text):
            nonlocal y
            ax.text(0, y, text, fontsize=7.6, fontweight="bold", va="center")
            y -= row + 1

        def entry(kind, words, colour, extra=None):
            nonlocal y
            if kind == "patch":
                ax.add_patch(Rectangle((0, y - 3.8), 14, 7.6, facecolor=colour,
                                       edgecolor="#999999", linewidth=0.3))
            elif kind == "line":
                ax.plot([0, 14], [y, y], color=colour, lw=extra or 1.0)
            else:
                ax.plot([7], [y], marker=extra, ms=5.5 if extra == "*" else 4.2, color=colour,
                        mec="white", mew=0.4, ls="none")
            ax.text(19, y, words, fontsize=fs, va="center")
            y -= row

        if colorbar is not None:
            heading(colorbar_label or legend_title)
            h = 95.0
            cax = self.fig.add_axes(self._panel_rect(0, y - h, 10, h))
            cb = self.fig.colorbar(colorbar, cax=cax)
            cb.ax.tick_params(labelsize=6.5)
            cb.ax.yaxis.set_major_formatter(
                __import__("matplotlib.ticker", fromlist=["FuncFormatter"]).FuncFormatter(
                    lambda v, _p: f"{v:,.0f}".replace(",", ".")))
            y -= h + 12
        if legend:
            if legend_title:
                heading(legend_title)
            for e in legend:
                entry(*e)
            y -= 6
        if self._legend_base:
            heading("Peta dasar")
            for e in self._legend_base:
                entry(*e)
            y -= 6
        # scale bar and north arrow
        mpp = self.tf.metres_per_point()
        length = _nice_length(mpp * 60)
        wpt = length / mpp
        y -= 4
        ax.plot([0, wpt], [y, y], color="#222222", lw=2.2, solid_capstyle="butt")
        ax.plot([0, wpt / 2], [y, y], color="white", lw=1.0, solid_capstyle="butt")
        ax.text(wpt + 5, y, f"{length / 1000:g} km".replace(".", ",") if length >= 1000
                else f"{length:g} m", fontsize=fs, va="center")
        ax.annotate("U", xy=(PANEL_W - 14, y + 8), xytext=(PANEL_W - 14, y - 8),
                    ha="center", va="top", fontsize=7, fontweight="bold",
                    arrowprops=dict(arrowstyle="-|>", color="#222222", lw=1.0))
        self.panel_bottom = y - 10

    def _panel_rect(self, x, y, w, h):
        width, height = self.size_pt
        px0 = MARGIN + self.frame[0] + GAP
        return [(px0 + x) / width, (MARGIN + y) / height, w / width, h / height]


def hot_callouts(cells, column: str, classes, place_col: str = "place", limit: int = 8):
    """The places (RW, kelurahan) of the cells in ``classes``, largest first, with the
    union of their cells: the names a hotspot map writes beside its clusters."""
    shown = cells.loc[cells[column].isin(list(classes)) & cells[place_col].notna()]
    if not len(shown):
        return []
    agg = (shown.assign(_n=shown.get("count", 1))
           .groupby(place_col, sort=False).agg(n=("_n", "sum"), k=("_n", "size")))
    order = agg.sort_values(["n", "k"], ascending=False).index[:limit]
    return [(p, shapely.union_all(list(shown.loc[shown[place_col] == p].geometry)))
            for p in order]


__all__ = ["BaseLayers", "PrintMap", "hot_callouts"]
