"""An engine's prepared data (adjacency, components, snapping, landmarks) on disk."""

from pathlib import Path

import numpy as np

import geo_sigap.config

from geo_sigap.routing.engine import RoutingEngine
from geo_sigap.routing.graph import build_graph
from geo_sigap.routing.profiles import load_routing_config

from .conftest import DATA, NODES
from .test_fast_paths import _grid


def _answers(engine, g):
    rng = np.random.default_rng(4)
    nodes = rng.choice(g.n_nodes, 30)
    pts = np.column_stack([g.node_lon[nodes], g.node_lat[nodes]]) + 1e-5
    out = []
    for p in g.profiles:
        for target in rng.choice(g.n_nodes, 4):
            inc = (g.node_lon[target] - 2e-5, g.node_lat[target])
            r = engine.eta_from_teams(inc, pts, p, groups=nodes % 3, k=2)
            out.append((r.status.tolist(), np.nan_to_num(r.eta_s, nan=-1).tolist(),
                        r.lower_bound_s))
    return out


def test_saved_and_loaded_engine_answers_the_same(config, tmp_path):
    g = _grid(config, 16, 9)
    fresh = RoutingEngine(g, config)
    first = RoutingEngine(g, config, cache_dir=tmp_path)
    first.prepare()
    files = sorted(f.name for f in tmp_path.iterdir())
    assert len(files) == 4  # network + landmarks for motor and mobil
    loaded = RoutingEngine(g, config, cache_dir=tmp_path)
    for p in g.profiles:
        a, b = loaded.network(p), fresh.network(p)
        assert a._landmarks is None  # read when first needed
        for x, y in zip(a.landmarks(), b.landmarks(), strict=True):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(a.component, b.component)
        np.testing.assert_array_equal(a.reverse.nbr, b.reverse.nbr)
    assert _answers(loaded, g) == _answers(fresh, g)
    # the guided search reads the loaded tables: same answers as without them
    few = RoutingEngine(g, config, cache_dir=tmp_path, guide_max_teams=10_000,
                        guide_min_nodes=0)
    fresh_few = RoutingEngine(g, config, guide_max_teams=10_000, guide_min_nodes=0)
    assert _answers(few, g) == _answers(fresh_few, g)
    assert sorted(f.name for f in tmp_path.iterdir()) == files  # nothing new written


def test_new_speeds_or_roads_are_not_served_old_data(config, tmp_path):
    tiny = build_graph(DATA / "tiny.osm", config)
    RoutingEngine(tiny, config, cache_dir=tmp_path).prepare()
    before = set(tmp_path.iterdir())
    # other speeds for the car only: the motor files are reused, the car's are new
    bundled = (Path(geo_sigap.config.__file__).parent / "speeds.toml").read_text("utf-8")
    head, car = bundled.split("[profile.mobil.speeds]", 1)
    assert "\nresidential = 20.0\n" in car
    speeds = tmp_path / "speeds.toml"
    speeds.write_text(head + "[profile.mobil.speeds]"
                      + car.replace("\nresidential = 20.0\n", "\nresidential = 7.0\n"), "utf-8")
    slow = load_routing_config(speeds)
    g2 = build_graph(DATA / "tiny.osm", slow)
    e2 = RoutingEngine(g2, slow, cache_dir=tmp_path)
    e2.prepare()
    after = set(tmp_path.iterdir()) - {speeds}
    new = {f.name.split(".")[0] for f in after - before}
    assert new == {"mobil"}
    res = e2.eta_from_teams(NODES["B"], [NODES["E"]], "mobil")
    ref = RoutingEngine(g2, slow).eta_from_teams(NODES["B"], [NODES["E"]], "mobil")
    assert res.eta_s[0] == ref.eta_s[0]
    base = RoutingEngine(tiny, config).eta_from_teams(NODES["B"], [NODES["E"]], "mobil")
    assert res.eta_s[0] > base.eta_s[0]


def test_unreadable_cache_is_rebuilt(config, tmp_path):
    tiny = build_graph(DATA / "tiny.osm", config)
    RoutingEngine(tiny, config, cache_dir=tmp_path).prepare()
    for d in tmp_path.iterdir():
        for f in d.iterdir():
            f.write_bytes(b"not a cache")
    e = RoutingEngine(tiny, config, cache_dir=tmp_path)
    e.prepare()
    res = e.eta_from_teams(NODES["B"], [NODES["D"]], "motor")
    ref = RoutingEngine(tiny, config).eta_from_teams(NODES["B"], [NODES["D"]], "motor")
    assert res.eta_s[0] == ref.eta_s[0]
    assert all(f.stat().st_size > 100 for d in tmp_path.iterdir()
               for f in d.iterdir())  # written again
