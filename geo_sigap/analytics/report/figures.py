"""Matplotlib figures of the rakor report (no web tiles: boundaries drawn from local data).

Every function returns a ``matplotlib.figure.Figure``; :func:`png_data_url` embeds one
in HTML, and the PDF writer saves the same figure objects.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

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


def png_data_url(fig, dpi: int = 110) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _base(kel, ax, labels: bool = True):
    kel.boundary.plot(ax=ax, color="#333333", linewidth=0.8)
    if labels:
        for _, r in kel.iterrows():
            p = r.geometry.representative_point()
            ax.annotate(r["name"], (p.x, p.y), ha="center", fontsize=7, color="#222222",
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.6))
    ax.set_axis_off()
    ax.set_aspect(1 / np.cos(np.deg2rad(kel.total_bounds[[1, 3]].mean())))


def heat_map(grid, kel, title: str):
    fig, ax = plt.subplots(figsize=(7.2, 6.0))
    w, s, e, n = grid.bounds
    d = np.ma.masked_less_equal(grid.density, grid.density.max() * 0.02)
    im = ax.imshow(d, extent=(w, e, s, n), origin="lower", cmap="YlOrRd", alpha=0.85)
    _base(kel, ax)
    ax.set_xlim(kel.total_bounds[0], kel.total_bounds[2])
    ax.set_ylim(kel.total_bounds[1], kel.total_bounds[3])
    cb = fig.colorbar(im, ax=ax, shrink=0.7)
    cb.set_label("kejadian per km²")
    ax.set_title(title, fontsize=10)
    ax.text(0.0, -0.03, f"Kernel {grid.kernel}, bandwidth {grid.bandwidth_m:.0f} m, "
            f"{grid.n_points} kejadian", transform=ax.transAxes, fontsize=7, va="top")
    return fig


def class_map(cells, kel, column: str, colours: dict, labels: dict, title: str, note: str = ""):
    fig, ax = plt.subplots(figsize=(7.2, 6.0))
    present = [k for k in colours if (cells[column] == k).any()]
    for k in present:
        cells.loc[cells[column] == k].plot(ax=ax, color=colours[k], edgecolor="white",
                                           linewidth=0.2)
    _base(kel, ax)
    handles = [Patch(color=colours[k], label=labels.get(k, str(k))) for k in present]
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_title(title, fontsize=10)
    if note:
        ax.text(0.0, -0.03, note, transform=ax.transAxes, fontsize=7, va="top", wrap=True)
    return fig


def day_hour(matrix, title: str):
    fig, ax = plt.subplots(figsize=(8.0, 2.8))
    im = ax.imshow(matrix.to_numpy(), aspect="auto", cmap="Blues")
    ax.set_yticks(range(7), matrix.index)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel("jam (WIB)")
    fig.colorbar(im, ax=ax, shrink=0.8).set_label("kejadian")
    ax.set_title(title, fontsize=10)
    return fig


def monthly_lines(monthly, title: str, highlight=()):
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    for c in monthly.columns:
        lw = 2.0 if c in highlight else 0.9
        ax.plot(range(len(monthly)), monthly[c].to_numpy(), label=c, linewidth=lw)
    step = max(1, len(monthly) // 12)
    ax.set_xticks(range(0, len(monthly), step), list(monthly.index)[::step], rotation=45,
                  fontsize=7)
    ax.set_ylabel("kejadian per bulan")
    ax.legend(fontsize=7, ncol=3)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    return fig


def table_figure(df, title: str, max_rows: int = 28):
    """A table as a figure (for the PDF)."""
    shown = df.head(max_rows)
    h = 0.9 + 0.24 * (len(shown) + 1)
    fig, ax = plt.subplots(figsize=(8.3, min(h, 11.0)))
    ax.set_axis_off()
    ax.set_title(title, fontsize=10, loc="left")
    if len(shown):
        t = ax.table(cellText=shown.astype(str).to_numpy(), colLabels=list(shown.columns),
                     loc="upper center", cellLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(6.5)
        t.scale(1, 1.15)
    else:
        ax.text(0.5, 0.5, "(tidak ada data)", ha="center")
    return fig


def text_figure(title: str, lines: list[str]):
    fig, ax = plt.subplots(figsize=(8.3, 11.0))
    ax.set_axis_off()
    ax.text(0.02, 0.98, title, fontsize=15, weight="bold", va="top")
    y = 0.93
    for line in lines:
        ax.text(0.02, y, line, fontsize=9, va="top", wrap=True)
        y -= 0.03
    return fig


__all__ = ["ListedColormap", "png_data_url", "heat_map", "class_map", "day_hour",
           "monthly_lines", "table_figure", "text_figure"]
