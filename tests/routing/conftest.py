from pathlib import Path

import numpy as np
import pytest

from geo_sigap.routing.engine import RoutingEngine
from geo_sigap.routing.graph import build_graph, haversine_m
from geo_sigap.routing.profiles import load_routing_config

from tests.paths import DEMO_DATA, SHARED_DATA

DATA = Path(__file__).resolve().parents[1] / "data" / "routing"
SHARED = SHARED_DATA
DEMO = DEMO_DATA / "demo"

# node coordinates of tests/data/routing/tiny.osm (lon, lat)
NODES = {
    "A": (103.6000, -1.6200), "B": (103.6009, -1.6200), "C": (103.6018, -1.6200),
    "D": (103.6000, -1.6191), "E": (103.6009, -1.6191), "F": (103.6018, -1.6191),
    "G": (103.6200, -1.6200), "H": (103.6209, -1.6200),
}
MOTOR_RES = 25 / 3.6  # m/s on residential streets (bundled speeds)
MOBIL_RES = 20 / 3.6
GANG = 15 / 3.6


def leg(a: str, b: str) -> float:
    """Great-circle metres between two named nodes of the tiny network."""
    (x1, y1), (x2, y2) = NODES[a], NODES[b]
    return float(haversine_m(x1, y1, x2, y2))


@pytest.fixture(scope="session")
def config():
    return load_routing_config()


@pytest.fixture(scope="session")
def tiny_engine(config):
    return RoutingEngine(build_graph(DATA / "tiny.osm", config), config)


def nx_graph(graph, profile: str):
    """The same directed graph in networkx (cheapest parallel edge kept)."""
    import networkx as nx

    p = graph.profile_index(profile)
    G = nx.DiGraph()
    for e in np.flatnonzero(np.isfinite(graph.edge_time[p])):
        u, v, w = int(graph.edge_u[e]), int(graph.edge_v[e]), float(graph.edge_time[p, e])
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(u, v, weight=w)
    return G
