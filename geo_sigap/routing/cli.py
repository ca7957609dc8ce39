"""Plain functions for the CLI to wire (``geo-sigap routing build`` / ``coverage``).

They parse nothing and print only through ``echo``; the typer layer owns arguments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from geo_sigap.domain.categories import Category
from geo_sigap.domain.teams import Team
from geo_sigap.routing.coverage import coverage, write_coverage
from geo_sigap.routing.engine import RoutingEngine
from geo_sigap.routing.graph import cache_path, default_cache_dir, load_or_build
from geo_sigap.routing.lines import RoadOptions
from geo_sigap.routing.profiles import load_routing_config
from geo_sigap.routing.summary import network_summary, summary_lines


def build_network(path: str | Path, *, speeds_file: str | Path | None = None,
                  cache_dir: str | Path | None = None, options: RoadOptions | None = None,
                  report: str | Path | None = None,
                  echo: Callable[[str], None] = print) -> Path:
    """Build (or reuse) the cached road graph for ``path``; return the cache file.

    Prints a summary (:func:`~geo_sigap.routing.summary.summary_lines`); with
    ``report`` also writes it as JSON (:func:`~geo_sigap.routing.summary.network_summary`).
    """
    config = load_routing_config(speeds_file)
    cache_dir = cache_dir or default_cache_dir()
    t0 = time.perf_counter()
    graph = load_or_build(path, config, cache_dir, progress=echo, options=options)
    target = cache_path(path, config, cache_dir, options)
    t1 = time.perf_counter()
    RoutingEngine(graph, config, cache_dir=cache_dir).prepare()  # saved for the service
    summary = network_summary(graph, config)
    for line in summary_lines(summary):
        echo(line)
    if report is not None:
        out = Path(report)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", "utf-8")
        echo(f"Laporan jaringan jalan: {out}")
    build_s, load_s = f"{t1 - t0:.1f}", f"{time.perf_counter() - t1:.2f}"
    echo(f"Siap: {graph.n_nodes:,} simpul, {graph.n_edges:,} ruas berarah ".replace(",", ".")
         + f"({', '.join(graph.profiles)}); {build_s.replace('.', ',')} s, mesin rute "
         f"dimuat dalam {load_s.replace('.', ',')} s")
    return target


def export_coverage(engine: RoutingEngine, units_file: str | Path, teams: Sequence[Team],
                    out: str | Path, *, category: Category | None = None,
                    echo: Callable[[str], None] = print) -> Path:
    """Coverage of every unit in ``units_file`` (GeoJSON/GPKG/SHP) → ``out`` (.geojson/.csv)."""
    import geopandas as gpd

    units = gpd.read_file(units_file)
    table = coverage(engine, units, teams, category=category)
    path = write_coverage(table, out)
    if "beyond_target" in table.columns:
        n = int(table["beyond_target"].sum())
        echo(f"{n} dari {len(table)} wilayah melebihi target {table['target_min'].iloc[0]:g} "
             f"menit; ditulis ke {path}")
    else:
        echo(f"{len(table)} wilayah ditulis ke {path}")
    return path
