"""Matplotlib figures of the rakor report (no web tiles: boundaries drawn from local data).

Every function returns a ``matplotlib.figure.Figure``; :func:`png_data_url` embeds one
in HTML, and the PDF writer saves the same figure objects.
"""

from __future__ import annotations

import base64
import io

import sys

import matplotlib

if "matplotlib.pyplot" not in sys.modules:  # (another thread may be importing it now)
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

_ID_FMT = FuncFormatter(lambda v, _pos: f"{v:,.0f}".replace(",", "."))

GI_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", 0: "#f7f7f7", -1: "#d1e5f0",
              -2: "#67a9cf", -3: "#2166ac", -9: "#bdbdbd"}
EHSA_COLOURS = {
    "new hotspot": "#fdae61", "consecutive hotspot": "#f46d43", "intensifying hotspot": "#a50026",
    "persistent hotspot": "#d73027", "diminishing hotspot": "#fee090",
    "sporadic hotspot": "#fdd49e", "oscillating hotspot": "#fc8d59",
    "historical hotspot": "#d9d9d9", "new coldspot": "#abd9e9",
    "consecutive coldspot": "#74add1", "intensifying coldspot": "#313695",
    "persistent coldspot": "#4575b4", "diminishing coldspot": "#e0f3f8",
    "sporadic coldspot": "#c6dbef", "oscillating coldspot": "#9ecae1",
    "historical coldspot": "#d9d9d9",
}


def png_data_url(fig, dpi: int = 140) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)  # constrained layout: no second "tight" pass
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _outline(kel):
    """Kecamatan outlines of a city-wide map (kelurahan dissolved by code prefix)."""
    kec = kel.assign(_k=[str(c)[:8] for c in kel["code"]])
    if kec["_k"].nunique() < 2:
        return None
    return kec.dissolve("_k").reset_index()


def heat_map(grid, kel, title: str, base=None):
    """Incident density over the area's streets and landmarks; colour bar beside the map."""
    from geo_sigap.maps.printed import PrintMap

    m = PrintMap(kel, base, title, outline=_outline(kel))
    w, s, e, n = grid.bounds
    d = np.ma.masked_less_equal(grid.density, grid.density.max() * 0.02)
    im = m.ax.imshow(d, extent=(w, e, s, n), origin="lower", cmap="YlOrRd", alpha=0.8,
                     zorder=4, interpolation="bilinear", aspect="auto")
    m.clip_to_area(im)
    m.ax.set_xlim(m.bounds[0], m.bounds[2])
    m.ax.set_ylim(m.bounds[1], m.bounds[3])
    m.finish(colorbar=im, colorbar_label="Kejadian per km²")
    return m.fig


def class_map(cells, kel, column: str, colours: dict, labels: dict, title: str,
              legend_title: str = "", base=None, callouts=(), marked=(), hidden=(0,)):
    """Hex cells coloured by class over the area's streets and landmarks; the legend
    beside the map; ``callouts`` ``[(place, geometry)]`` named beside their cells;
    labels keep off the cells of the ``marked`` classes; ``hidden`` classes (no
    hotspot) are not drawn, so the streets under them stay readable."""
    from geo_sigap.maps.printed import PrintMap

    m = PrintMap(kel, base, title, outline=_outline(kel))
    present = [k for k in colours if k not in hidden and (cells[column] == k).any()]
    shown = cells.loc[cells[column].isin(present)]
    # one collection for every cell (a plot call per class is several times slower)
    geoms = shown.geometry if kel.crs is None or shown.crs == kel.crs else \
        shown.geometry.to_crs(kel.crs)
    keep = [g is not None and g.geom_type == "Polygon" for g in geoms]
    polys = [np.asarray(g.exterior.coords) for g, k in zip(geoms, keep) if k]
    face = [colours[c] for c, k in zip(shown[column], keep) if k]
    if polys:
        m.ax.add_collection(PolyCollection(polys, facecolors=face, edgecolors="white",
                                           linewidths=0.2, alpha=0.85, zorder=4))
    m.add_obstacles_lonlat([g for g, c in zip(geoms, shown[column]) if c in set(marked)])
    m.add_callouts(list(callouts))
    m.finish(legend=[("patch", labels.get(k, str(k)), colours[k]) for k in present],
             legend_title=legend_title)
    m.fig.print_map = m  # the placed labels, for tests
    return m.fig


def moves_map(kel, base, moves, title: str):
    """The posts of every role and each proposed move as an arrow from the post to the RW
    it would move to; the target named once at its end, the post (with its gain) at the
    arrow's start. ``moves``: ``[(post words, target words, line)]``, EPSG:4326 lines
    from post to target."""
    from geo_sigap.maps.printed import PrintMap

    m = PrintMap(kel, base, title, outline=_outline(kel))
    targets, starts = {}, []
    for post, target, line in moves:
        (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
        m.ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=12,
                      arrowprops=dict(arrowstyle="-|>", color="#b2182b", lw=1.6,
                                      shrinkA=3, shrinkB=2, mutation_scale=10))
        m.ax.plot([x1], [y1], marker="o", ms=6, mfc="white", mec="#b2182b", mew=1.5, zorder=12)
        targets.setdefault(target, shapely.Point(x1, y1).buffer(0.0008))
        starts.append((post, shapely.Point(x0, y0).buffer(0.0008)))
        m.add_obstacles_lonlat([line.interpolate(f, normalized=True).buffer(0.0002)
                                for f in np.linspace(0.1, 0.9, 9)])
    m.add_callouts([(f"ke {t}", g) for t, g in targets.items()] + starts)
    m.finish(legend=[("line", "Usulan pindah pos", "#b2182b", 1.6),
                     ("marker", "Tempat usulan", "#b2182b", "o")], legend_title="Usulan")
    m.fig.print_map = m
    return m.fig


def day_hour(matrix, title: str):
    fig, ax = plt.subplots(figsize=(7.0, 2.6), layout="constrained")
    im = ax.imshow(matrix.to_numpy(), aspect="auto", cmap="Blues")
    ax.set_yticks(range(7), matrix.index)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel("jam (WIB)")
    fig.colorbar(im, ax=ax, shrink=0.9).set_label("kejadian")
    ax.set_title(title, fontsize=10)
    return fig


_BULAN3 = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def _month_id(ym: str) -> str:
    """``"2026-08"`` → ``"Agu 2026"``."""
    y, m = str(ym).split("-")[:2]
    return f"{_BULAN3[int(m) - 1]} {y}"


def monthly_lines(monthly, title: str, highlight=()):
    fig, ax = plt.subplots(figsize=(7.0, 3.2), layout="constrained")
    for c in monthly.columns:
        lw = 2.0 if c in highlight else 0.9
        ax.plot(range(len(monthly)), monthly[c].to_numpy(), label=c, linewidth=lw)
    step = max(1, len(monthly) // 12)
    ax.set_xticks(range(0, len(monthly), step),
                  [_month_id(m) for m in list(monthly.index)[::step]], rotation=45, fontsize=7)
    ax.set_ylabel("kejadian per bulan")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    return fig


__all__ = ["ListedColormap", "png_data_url", "heat_map", "class_map", "day_hour",
           "monthly_lines"]
