"""What ``routing build`` made of a road file: counts, classes, components, columns read.

:func:`network_summary` gives a JSON-ready dict (``--report FILE``);
:func:`summary_lines` the same as short lines of Bahasa Indonesia for the terminal.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo_sigap.domain.projection import describe
from geo_sigap.routing.graph import RoadGraph
from geo_sigap.routing.profiles import RoutingConfig


def network_summary(graph: RoadGraph, config: RoutingConfig | None = None) -> dict[str, Any]:
    """Counts of the built graph (directed edges: a two-way street counts twice).

    Keys: ``nodes``, ``edges``, ``oneway_edges`` (edges without a reverse twin),
    ``classes`` (highway class → edges), ``components`` (weakly connected, all
    profiles), ``largest_component_share`` (share of nodes), ``joined_ends``,
    ``source_columns`` (field → the file's column, ``null`` when absent), ``profiles``
    (per profile: ``usable_edges``, ``usable_share``, ``components``,
    ``largest_component_share``), ``metric_crs``, ``source``, ``format`` …
    """
    m, n = graph.n_edges, graph.n_nodes
    meta = graph.meta
    comps, largest = _components(graph, np.ones(m, bool))
    profiles = {}
    for p in graph.profiles:
        ok = np.isfinite(graph.edge_time[graph.profile_index(p)])
        pc, pl = _components(graph, ok)
        label = config.profiles[p].label if config and p in config.profiles else p
        profiles[p] = {"label": label, "usable_edges": int(ok.sum()),
                       "usable_share": round(float(ok.sum()) / m, 4) if m else 0.0,
                       "components": pc, "largest_component_share": pl}
    classes = Counter(str(c) or "(tanpa kelas)" for c in graph.edge_class.tolist())
    crs = meta.get("metric_crs")
    return {
        "source": meta.get("source"),
        "format": meta.get("format"),
        "nodes": n,
        "edges": m,
        "oneway_edges": int((graph.edge_twin < 0).sum()),
        "length_km": round(float(graph.edge_length[_canonical(graph)].sum()) / 1000, 3),
        "classes": dict(sorted(classes.items(), key=lambda kv: (-kv[1], kv[0]))),
        "components": comps,
        "largest_component_share": largest,
        "joined_ends": int(meta.get("joined_ends", 0)),
        "joined": meta.get("joined", {}),
        "dangling_ends": meta.get("dangling_ends"),
        "snap_tolerance_m": meta.get("snap_tolerance_m"),
        "source_columns": meta.get("source_columns", {}),
        "oneway_encoding": meta.get("oneway_encoding"),
        "dropped_lines": meta.get("dropped_lines", {}),
        "unread_classes": meta.get("unread_classes", {}),
        "profiles": profiles,
        "metric_crs": crs,
        "metric_crs_name": describe(crs) if crs else None,
    }


def summary_lines(s: dict[str, Any]) -> list[str]:
    """The summary as a few readable lines (Bahasa Indonesia, Indonesian numbers)."""
    def num(x: float) -> str:
        return f"{x:,}".replace(",", ".")

    def dec(x: float) -> str:
        return f"{x:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")

    def pct(x: float) -> str:
        return f"{x * 100:.1f}".replace(".", ",") + " %"

    cols = ", ".join(f"{k} ← {v}" for k, v in s["source_columns"].items() if v) or "-"
    lines = [
        f"Sumber: {s['source']} ({s['format']}); kolom dibaca: {cols}",
        f"{num(s['nodes'])} simpul, {num(s['edges'])} ruas berarah "
        f"({num(s['oneway_edges'])} satu arah), {dec(s['length_km'])} km jalan",
        "Kelas: " + ", ".join(f"{k} {num(v)}" for k, v in s["classes"].items()),
        f"{num(s['components'])} komponen terhubung; terbesar memuat "
        f"{pct(s['largest_component_share'])} simpul",
    ]
    if s.get("snap_tolerance_m") is not None:
        lines.append(f"{num(s['joined_ends'])} ujung jalan disambung (toleransi "
                     f"{str(s['snap_tolerance_m']).replace('.', ',')} m); "
                     f"{num(s.get('dangling_ends') or 0)} ujung buntu tersisa")
    for p, d in s["profiles"].items():
        lines.append(f"Profil {p} ({d['label']}): {pct(d['usable_share'])} ruas dapat dilalui")
    dropped = s.get("dropped_lines") or {}
    if dropped.get("unread_class"):
        shown = ", ".join(f"{v!r}" for v in list(s.get("unread_classes", {}))[:5])
        lines.append(f"{num(dropped['unread_class'])} garis tanpa kelas jalan yang terbaca "
                     f"dilewati: {shown}")
    if dropped.get("not_road"):
        lines.append(f"{num(dropped['not_road'])} garis bukan jalan (rel, sungai) dilewati")
    if dropped.get("unread_oneway_two_way"):
        lines.append(f"{num(dropped['unread_oneway_two_way'])} garis dengan arah tak terbaca "
                     "dianggap dua arah")
    if s.get("metric_crs_name"):
        lines.append(f"Proyeksi metrik: {s['metric_crs_name']}")
    return lines


def _canonical(graph: RoadGraph) -> np.ndarray:
    """One edge per road (a two-way street's twin pair counted once)."""
    e = np.arange(graph.n_edges)
    return (graph.edge_twin < 0) | (e < graph.edge_twin)


def _components(graph: RoadGraph, mask: np.ndarray) -> tuple[int, float]:
    """Weakly connected components of the edges in ``mask`` over the nodes they touch."""
    u, v = graph.edge_u[mask], graph.edge_v[mask]
    if len(u) == 0:
        return 0, 0.0
    nodes = np.unique(np.concatenate([u, v]))
    n = graph.n_nodes
    adj = csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, label = connected_components(adj, directed=True, connection="weak")
    sizes = np.bincount(label[nodes])
    sizes = sizes[sizes > 0]
    return int(len(sizes)), round(float(sizes.max()) / len(nodes), 4)
