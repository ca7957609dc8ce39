"""The synthetic Paal Merah demo data: deterministic, valid, routable, with planted patterns.

The generator is run once into a temporary folder (about 5 s); the committed files under
data/ (written by an earlier run, in another process) must be byte-identical to what it
writes, which also proves two runs agree.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely

from geo_sigap.demo.area import KEL_WITHOUT_RT, KELURAHAN
from geo_sigap.demo.generate import BOUNDARY_DIR, DEMO_DIR, LEVELS, generate
from geo_sigap.domain.admin import AdminLevel, level_of, parent_code
from geo_sigap.domain.categories import load_categories
from geo_sigap.domain.teams import Role, Vehicle

REPO = Path(__file__).resolve().parents[1]
FILES = [BOUNDARY_DIR / f"{lvl}.geojson" for lvl in LEVELS] + [BOUNDARY_DIR / "README.md"] + [
    DEMO_DIR / n for n in ("roads.osm", "poi.csv", "teams.csv", "incidents.csv", "README.md")]
EKA_JAYA, TALANG_BAKUNG, LINGKAR_SELATAN = "15.71.11.1003", "15.71.11.1001", "15.71.11.1004"
UTM48S = 32748


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A run of the generator in this process: (root, summary)."""
    a = tmp_path_factory.mktemp("demo_a")
    return a, generate(a)


@pytest.fixture(scope="module")
def root(generated):
    return generated[0]


@pytest.fixture(scope="module")
def units(root):
    return {lvl: gpd.read_file(root / BOUNDARY_DIR / f"{lvl}.geojson") for lvl in LEVELS}


@pytest.fixture(scope="module")
def incidents(root):
    return pd.read_csv(root / DEMO_DIR / "incidents.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def teams(root):
    return pd.read_csv(root / DEMO_DIR / "teams.csv", dtype={"post_lon": float, "post_lat": float, "phone": str},
                       keep_default_na=False)


@pytest.fixture(scope="module")
def osm_graph(root):
    """osmnx MultiDiGraph of roads.osm (unsimplified, island kept)."""
    old = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(old) | {
        "motorcycle", "motorcar", "motor_vehicle", "access", "width", "oneway", "name", "highway"})
    try:
        return ox.graph_from_xml(root / DEMO_DIR / "roads.osm", retain_all=True, simplify=False)
    finally:
        ox.settings.useful_tags_way = old


# --- determinism ------------------------------------------------------------------

def test_two_runs_write_identical_bytes_and_match_the_committed_files(generated):
    a, _ = generated
    for rel in FILES:
        committed = REPO / rel
        assert committed.exists(), f"generated file not committed: {rel}"
        assert committed.read_bytes() == (a / rel).read_bytes(), (
            f"{rel} differs from the generator's output (not deterministic, or not "
            "regenerated: run python -m geo_sigap.demo.generate)")


def test_every_file_says_it_is_synthetic_and_data_is_modest(root):
    for rel in FILES:
        head = (root / rel).read_text("utf-8")[:4000]
        if rel.suffix in (".geojson", ".osm", ".md"):
            assert "SINTETIS" in head and "SYNTHETIC" in head, rel
    incidents = (root / DEMO_DIR / "incidents.csv").read_text("utf-8")
    assert all(line.startswith("DEMO-") for line in incidents.splitlines()[1:])
    total = sum((root / rel).stat().st_size for rel in FILES)
    assert total < 8 * 1024 * 1024


# --- boundaries -------------------------------------------------------------------

def test_codes_levels_and_parents_are_well_formed(units):
    for lvl, gdf in units.items():
        assert list(gdf.columns) == ["code", "name", "level", "parent_code", "population", "geometry"]
        assert gdf.crs.to_epsg() == 4326
        assert gdf["code"].is_unique
        for row in gdf.itertuples():
            assert row.level == lvl
            assert level_of(row.code) == AdminLevel.parse(lvl)
            if lvl != "provinsi":
                assert row.parent_code == parent_code(row.code)
    kel = units["kelurahan"].set_index("code")
    for k in KELURAHAN:
        assert kel.loc[k.code, "name"] == k.name
        assert kel.loc[k.code].geometry.contains(shapely.Point(k.point))
    assert re.fullmatch(r"RW \d{3}", units["rw"]["name"].iloc[0])
    assert re.fullmatch(r"RT \d{3}", units["rt"]["name"].iloc[0])


def test_polygons_valid_nested_without_gaps_or_overlaps(units):
    metric = {lvl: gdf.to_crs(UTM48S) for lvl, gdf in units.items()}
    for lvl, gdf in metric.items():
        assert gdf.is_valid.all(), lvl
        assert (gdf.geom_type == "Polygon").all(), lvl
    kec_area = metric["kecamatan"].area.iloc[0]
    assert 20e6 < kec_area < 28e6  # ~24 km²
    for child, parent in (("kelurahan", "kecamatan"), ("rw", "kelurahan"), ("rt", "rw")):
        parents = metric[parent].set_index("code").geometry
        for pcode, kids in metric[child].groupby("parent_code"):
            outer = parents[pcode]
            union = shapely.union_all(kids.geometry.values)
            # no overlap between siblings: areas add up to the union's area
            assert abs(kids.area.sum() - union.area) < 1.0, (child, pcode)
            # nested: nothing of the children lies outside the parent
            assert union.difference(outer).area < 1.0, (child, pcode)
            # no gaps: children cover the parent (except the deliberately missing RT level)
            assert outer.difference(union).area < 1.0, (child, pcode)


def test_numbering_counts_and_the_kelurahan_without_rt(units):
    rw, rt = units["rw"], units["rt"]
    for k in KELURAHAN:
        rws = rw[rw["parent_code"] == k.code]
        assert 6 <= len(rws) <= 10
        assert sorted(int(c[-3:]) for c in rws["code"]) == list(range(1, len(rws) + 1))
        rts = rt[rt["code"].str.startswith(k.code + ".")]
        if k.code == KEL_WITHOUT_RT:
            assert len(rts) == 0
            continue
        numbers = sorted(int(c[-3:]) for c in rts["code"])
        assert numbers == list(range(1, len(rts) + 1))  # unique across the kelurahan
        per_rw = rts.groupby("parent_code").size()
        assert per_rw.between(3, 7).all() and len(per_rw) == len(rws)
    kel = units["kelurahan"]
    assert kel["population"].between(8_000, 25_000).all()
    assert (rw.groupby("parent_code")["population"].sum() == kel.set_index("code")["population"]).all()


# --- roads ------------------------------------------------------------------------

def test_osm_xml_ids_are_positive_and_every_node_is_referenced(root):
    tree = ET.parse(root / DEMO_DIR / "roads.osm")
    nodes = {int(n.get("id")) for n in tree.iter("node")}
    refs = {int(nd.get("ref")) for nd in tree.iter("nd")}
    ways = [int(w.get("id")) for w in tree.iter("way")]
    assert min(nodes) > 0 and min(ways) > 0 and len(set(ways)) == len(ways)
    assert nodes == refs
    assert 3000 <= len(nodes) <= 6000


def test_osmnx_reads_it_motor_network_strongly_connected_except_the_island(osm_graph):
    g = osm_graph
    comps = sorted(nx.strongly_connected_components(g), key=len, reverse=True)
    assert len(comps) == 2
    island = comps[1]
    assert {g.edges[e]["name"] for e in g.subgraph(island).edges} == {"Jalan Setapak Rawa Payo"}
    car = g.edge_subgraph([e for e, d in ((e, g.edges[e]) for e in g.edges(keys=True))
                           if d.get("motorcar") != "no"])
    car_main = car.subgraph(set(car) - island)
    assert nx.is_strongly_connected(car_main)


def test_roads_have_named_arterials_one_ways_alleys_and_services(osm_graph):
    g = osm_graph
    names = {d.get("name") for _, _, d in g.edges(data=True)}
    for n in ("Jalan Lingkar Selatan", "Jalan Kolonel Abunjani", "Jalan Pangeran Hidayat",
              "Jalan Sultan Agung", "Jalan Marsda Surya Darma", "Gang Mawar", "Lorong Keluarga"):
        assert n in names
    highways = {d["highway"] for _, _, d in g.edges(data=True)}
    assert {"primary", "secondary", "tertiary", "residential", "path", "service"} <= highways
    paths = [d for _, _, d in g.edges(data=True) if d["highway"] == "path"]
    assert all(d["motorcycle"] == "yes" and d["motorcar"] == "no" and d["width"] == "1.5"
               for d in paths)
    oneway_names = {d["name"] for _, _, d in g.edges(data=True) if d["oneway"]}
    assert {"Jalan Pasar Lama I", "Jalan Pasar Lama II"} <= oneway_names


def test_alleys_are_shortcuts_a_car_cannot_take(root, osm_graph):
    g = nx.DiGraph(osm_graph)
    car = g.edge_subgraph([(u, v) for u, v, d in g.edges(data=True) if d.get("motorcar") != "no"])
    ratios = []
    for way in ET.parse(root / DEMO_DIR / "roads.osm").iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        refs = [int(nd.get("ref")) for nd in way.iter("nd")]
        u, v = refs[0], refs[-1]
        if tags["highway"] == "path" and u in car and v in car and len(ratios) < 150:
            motor = nx.shortest_path_length(g, u, v, weight="length")
            by_car = nx.shortest_path_length(car, u, v, weight="length")
            ratios.append(by_car / motor)
    assert len(ratios) > 50
    assert min(ratios) >= 1.0
    assert np.mean(np.array(ratios) > 1.5) > 0.3


# --- POIs and teams ---------------------------------------------------------------

def test_landmarks_sit_in_their_kelurahan(root, units):
    poi = pd.read_csv(root / DEMO_DIR / "poi.csv")
    assert list(poi.columns) == ["name", "kind", "lon", "lat"]
    assert 60 <= len(poi) <= 120 and poi["name"].is_unique
    kel = units["kelurahan"].set_index("name").geometry
    where = poi.set_index("name")
    def inside(name, kel_name):
        return kel[kel_name].contains(shapely.Point(where.loc[name, "lon"], where.loc[name, "lat"]))
    assert inside("Masjid Al-Ikhlas", "Eka Jaya")
    assert inside("Pasar Talang Bakung", "Talang Bakung")
    for k in KELURAHAN:
        assert inside(f"Kantor Lurah {k.name}", k.name)
    for required in ("Kantor Camat Paal Merah", "Posko SIGAP KETIMUN", "Masjid Nurul Iman"):
        assert required in where.index
    for kind in ("masjid", "musala", "gereja", "sekolah", "pasar", "kantor_lurah", "kantor_camat",
                 "puskesmas", "posko", "polsek", "koramil", "spbu", "minimarket"):
        assert kind in set(poi["kind"])


def test_teams_roles_areas_phones_and_posts_on_roads(teams, units, osm_graph):
    codes = set().union(*(set(g["code"]) for g in units.values()))
    road_xy = {(round(d["x"], 6), round(d["y"], 6)) for _, d in osm_graph.nodes(data=True)}
    assert teams["code"].is_unique and teams["phone"].is_unique
    for t in teams.itertuples():
        Role.parse(t.role)
        Vehicle.parse(t.vehicle)
        assert re.fullmatch(r"\+628\d{9,11}", t.phone)
        assert all(a in codes for a in t.area_codes.split(";"))
        assert (round(t.post_lon, 6), round(t.post_lat, 6)) in road_xy, t.code
    areas = lambda role: [a for s in teams[teams["role"] == role]["area_codes"] for a in s.split(";")]  # noqa: E731
    kel_codes = sorted(units["kelurahan"]["code"])
    assert sorted(areas("bhabinkamtibmas")) == kel_codes  # one officer covers two
    assert (teams["role"] == "bhabinkamtibmas").sum() == len(kel_codes) - 1
    assert sorted(areas("babinsa")) == kel_codes
    assert sorted(areas("linmas")) == sorted(units["rw"]["code"])
    trc = teams[teams["role"] == "satpol_pp"]
    assert set(trc["vehicle"]) == {"motor", "mobil"} and set(trc["area_codes"]) == {"15.71.11"}
    for role in ("dinas_sosial", "puskesmas", "damkar", "bpbd", "dinas_peternakan"):
        assert (teams["role"] == role).sum() == 1
    assert areas("dinas_peternakan") == ["15.71"]


# --- incidents --------------------------------------------------------------------

def test_incidents_schema_period_and_places(incidents, units):
    cats = load_categories()
    assert list(incidents.columns) == [
        "ticket", "category", "description", "channel", "lon", "lat", "address_text", "priority",
        "status", "reported_at", "verified_at", "dispatched_at", "en_route_at", "on_scene_at",
        "handled_at", "resolved_at", "rejected_at", "rejection_reason", "lead_team", "support_teams"]
    assert 10_000 <= len(incidents) <= 14_000 and incidents["ticket"].is_unique
    assert set(incidents["category"]) == {c.code for c in cats}
    assert set(incidents["channel"]) == {"wa_group", "hotline", "langsung", "web", "officer"}
    kec = units["kecamatan"].geometry.iloc[0]
    lon, lat = incidents["lon"].astype(float).values, incidents["lat"].astype(float).values
    assert shapely.contains_xy(kec, lon, lat).all()
    rep = pd.to_datetime(incidents["reported_at"])
    assert rep.min() >= pd.Timestamp("2024-10-01T00:00+07:00")
    assert rep.max() <= pd.Timestamp("2026-09-30T23:59:59+07:00")
    assert incidents["reported_at"].str.endswith("+07:00").all()
    assert incidents["address_text"].str.len().gt(5).all()


def test_sop_timestamps_are_ordered_and_rejections_stop_the_flow(incidents, teams):
    steps = ["reported_at", "verified_at", "dispatched_at", "en_route_at", "on_scene_at",
             "handled_at", "resolved_at"]
    rejected = incidents[incidents["status"] == "ditolak"]
    assert 0.03 < len(rejected) / len(incidents) < 0.07
    assert (rejected[steps[1:]] == "").all().all() and (rejected["lead_team"] == "").all()
    assert rejected["rejection_reason"].str.len().gt(0).all()
    assert rejected["rejected_at"].str.len().gt(0).all()
    done = incidents[incidents["status"] == "selesai"]
    t = {s: pd.to_datetime(done[s]) for s in steps}
    for a, b in zip(steps[:-1], steps[1:], strict=True):
        assert (t[b] >= t[a]).all(), (a, b)
    verify_min = (t["verified_at"] - t["reported_at"]).dt.total_seconds() / 60
    assert verify_min.between(1, 30).all()
    dispatch_min = (t["dispatched_at"] - t["verified_at"]).dt.total_seconds() / 60
    assert dispatch_min.between(1, 20).all()
    # some responses exceed the category target
    cats = load_categories()
    target = done["category"].map(lambda c: cats.get(c).target_response_min)
    response = (t["on_scene_at"] - t["reported_at"]).dt.total_seconds() / 60
    assert 0.02 < (response > target).mean() < 0.8


def test_lead_and_support_teams_have_the_category_roles(incidents, teams):
    role = dict(zip(teams["code"], teams["role"], strict=True))
    area = dict(zip(teams["code"], teams["area_codes"], strict=True))
    cats = load_categories()
    assigned = incidents[incidents["lead_team"] != ""]
    for r in assigned.itertuples():
        cat = cats.get(r.category)
        if cat.lead is not None:
            assert role[r.lead_team] == cat.lead.value, r.ticket
        for s in filter(None, r.support_teams.split(";")):
            assert Role(role[s]) in cat.support or r.category == "bencana", r.ticket
    # the lead Bhabinkamtibmas is the one responsible for the incident's kelurahan
    pekat = assigned[assigned["category"] == "pekat"]
    kel = pekat["address_text"].str.extract(r"(Eka Jaya)")[0].notna()
    assert all(EKA_JAYA in area[c] for c in pekat[kel]["lead_team"])


# --- planted patterns -------------------------------------------------------------

def _inside(df: pd.DataFrame, geom) -> np.ndarray:
    return shapely.contains_xy(geom, df["lon"].astype(float).values, df["lat"].astype(float).values)


def test_planted_pekat_is_new_in_2026_in_one_eka_jaya_rw(incidents, units, generated):
    rw_code = generated[1]["planted"]["pekat_rw"]
    assert rw_code.startswith(EKA_JAYA + ".RW")
    geom = units["rw"].set_index("code").geometry[rw_code]
    pekat = incidents[(incidents["category"] == "pekat") & _inside(incidents, geom)]
    year = pekat["reported_at"].str[:4]
    assert (year == "2026").sum() >= 10 * max(1, (year == "2025").sum())
    q = pekat["reported_at"].str[:7]
    assert q.between("2026-07", "2026-09").sum() > q.between("2026-01", "2026-03").sum()
    hours = pd.to_datetime(pekat["reported_at"].str[:19]).dt.hour
    assert ((hours >= 20) | (hours <= 3)).mean() > 0.9


def test_planted_keributan_diminishes_pkl_persists_at_the_market(incidents, generated):
    p = generated[1]["planted"]
    def near(df, lonlat, metres):
        dx = (df["lon"].astype(float) - lonlat[0]) * 111_300
        dy = (df["lat"].astype(float) - lonlat[1]) * 110_600
        return df[np.hypot(dx, dy) < metres]
    keributan = near(incidents[incidents["category"] == "keributan"], p["keributan_centre"]["lonlat"], 300)
    first = keributan["reported_at"].between("2024-10", "2025-01")
    last = keributan["reported_at"].between("2026-07", "2026-10")
    assert first.sum() > 3 * last.sum()
    pkl = incidents[incidents["category"] == "pkl"]
    at_market = near(pkl, p["pkl_market"]["lonlat"], 250)
    assert len(at_market) > 0.4 * len(pkl)
    per_year = at_market["reported_at"].str[:4].value_counts()
    assert per_year["2025"] > 500 and per_year["2026"] > 300
    assert pd.to_datetime(at_market["reported_at"].str[:19]).dt.dayofweek.lt(5).mean() > 0.8


def test_planted_banjir_ternak_and_moving_theft(incidents, units):
    kel = units["kelurahan"].set_index("code").geometry
    bencana = incidents[incidents["category"] == "bencana"]
    banjir = bencana[bencana["description"].str.contains("anjir|enangan|rawa", regex=True)]
    month = banjir["reported_at"].str[5:7].astype(int)
    assert month.isin([11, 12, 1, 2, 3]).mean() > 0.85
    assert _inside(banjir, kel[KEL_WITHOUT_RT]).mean() > 0.7
    ternak = incidents[incidents["category"] == "ternak"]
    edge = _inside(ternak, kel["15.71.11.1006"]) | _inside(ternak, kel[KEL_WITHOUT_RT])
    assert edge.mean() > 0.6
    theft = incidents[incidents["category"] == "pencurian"]
    early = theft[theft["reported_at"] < "2025-07"]
    late = theft[theft["reported_at"] >= "2026-01"]
    share = lambda df, code: _inside(df, kel[code]).mean()  # noqa: E731
    assert share(early, TALANG_BAKUNG) > share(late, TALANG_BAKUNG) + 0.03
    assert share(late, LINGKAR_SELATAN) > share(early, LINGKAR_SELATAN) + 0.03
