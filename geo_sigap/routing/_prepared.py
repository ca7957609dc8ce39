"""What an engine derives from a road graph, kept on disk next to the graph cache.

A profile's adjacency (CSR both ways), components, snapping pieces and landmark tables
take seconds to derive for a city and are the same at every start. They are written
to the folder ``<cache_dir>/<profile>.<key>.<what>/`` (one ``.npy`` per array) where ``key`` is a hash of everything they depend
on: the graph's nodes, edges, geometry and this profile's travel times (so new speeds
or a new road file give a new key), and :data:`PREP_VERSION` with the derivation
parameters. A file that cannot be read is ignored (and rebuilt), never trusted.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from geo_sigap.routing.graph import RoadGraph

PREP_VERSION = "1"


def graph_digest(graph: RoadGraph) -> str:
    """Hex digest of the graph's topology, node positions, edge lengths and the edge
    geometry through its pointers (a changed shape changes a length): cheap (about 10 ms
    for a 50k-node city) and shared by the profiles."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{PREP_VERSION}|{graph.n_nodes}|{graph.n_edges}".encode())
    for arr in (graph.node_lon, graph.node_lat, graph.edge_u, graph.edge_v,
                graph.edge_length, graph.edge_twin, graph.geom_ptr):
        h.update(np.ascontiguousarray(arr).data)
    return h.hexdigest()


def profile_key(graph: RoadGraph, profile: str, params: str, base: str | None = None) -> str:
    """Key of ``profile``'s derived data: the graph (``base``, :func:`graph_digest` when
    not given), this profile's travel times and ``params`` (the derivation's own
    settings, e.g. the number of landmarks)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{base or graph_digest(graph)}|{profile}|{params}".encode())
    h.update(np.ascontiguousarray(graph.edge_time[graph.profile_index(profile)]).data)
    return h.hexdigest()


def load(path: Path | None, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` saved in the folder ``path`` (memory-mapped copy-on-write:
    read when touched, writable like any array), or ``None`` when a file is missing or
    unreadable."""
    if path is None or not path.is_dir():
        return None
    try:
        return {n: np.asarray(np.load(path / f"{n}.npy", mmap_mode="c", allow_pickle=False))
                for n in names}
    except (OSError, ValueError, EOFError):
        return None


def save(path: Path | None, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as ``.npy`` files into the folder ``path`` (made in a temporary
    folder, then renamed: never seen half written); a cache that cannot be written is
    skipped (the engine still works and derives again at the next start)."""
    if path is None:
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=path.name + ".", dir=path.parent))
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        if path.exists():  # unreadable leftovers (load refused them)
            shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
