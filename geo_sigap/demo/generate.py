"""Write the SYNTHETIC Paal Merah demo files, byte-identical on every run.

    python -m geo_sigap.demo.generate [--out-root DIR] [--seed N]

writes ``DIR/data/boundaries/paal_merah_demo/*.geojson`` (+ README.md) and
``DIR/data/demo/{roads.osm,poi.csv,teams.csv,incidents.csv,README.md}``. ``DIR``
defaults to the repository root. Nothing is read from outside the package.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
import shapely

from geo_sigap.demo.area import (
    DEFAULT_SEED, KEL_BY_CODE, KEL_WITHOUT_RT, SYNTHETIC_NOTE_EN, SYNTHETIC_NOTE_ID,
)
from geo_sigap.demo.boundaries import build_boundaries
from geo_sigap.demo.incidents import build_incidents
from geo_sigap.demo.places import SHARED_BHABIN, build_pois, build_teams, node_index
from geo_sigap.demo.roads import build_roads
from geo_sigap.demo.writers import write_csv, write_geojson, write_osm_xml
from geo_sigap.domain.categories import load_categories

BOUNDARY_DIR = Path("data/boundaries/paal_merah_demo")
DEMO_DIR = Path("data/demo")
LEVELS = ("provinsi", "kabupaten_kota", "kecamatan", "kelurahan", "rw", "rt")
_STREAMS = {"boundaries": 1, "roads": 2, "pois": 3, "teams": 4, "incidents": 5}


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS[stream]])


def generate(out_root: Path, seed: int = DEFAULT_SEED) -> dict:
    """Build and write every demo file under ``out_root``; return a summary dict.

    Parameters
    ----------
    out_root
        Folder that receives ``data/boundaries/paal_merah_demo`` and ``data/demo``.
    seed
        Master seed; each part (boundaries, roads, POIs, teams, incidents) draws from
        its own stream of it, so the output depends on nothing else.

    Returns
    -------
    dict
        Counts of units, road nodes/ways, POIs, teams, incidents per category and the
        planted patterns (codes), as written to the READMEs.
    """
    out_root = Path(out_root)
    bdir, ddir = out_root / BOUNDARY_DIR, out_root / DEMO_DIR
    bdir.mkdir(parents=True, exist_ok=True)
    ddir.mkdir(parents=True, exist_ok=True)

    bnd = build_boundaries(_rng(seed, "boundaries"))
    net = build_roads(bnd["kecamatan"].geometry.iloc[0], _rng(seed, "roads"))
    idx = node_index(net, bnd)
    pois = build_pois(net, bnd, idx, _rng(seed, "pois"))
    teams = build_teams(net, bnd, idx, pois, _rng(seed, "teams"))
    incidents, planted = build_incidents(net, bnd, idx, pois, teams, load_categories(),
                                         _rng(seed, "incidents"))

    for level in LEVELS:
        write_geojson(bnd[level], bdir / f"{level}.geojson", level)
    write_osm_xml(net, ddir / "roads.osm")
    write_csv(pois, ddir / "poi.csv")
    write_csv(teams, ddir / "teams.csv")
    write_csv(incidents, ddir / "incidents.csv")

    summary = _summary(bnd, net, pois, teams, incidents, planted, seed)
    (bdir / "README.md").write_text(_boundaries_readme(summary), encoding="utf-8")
    (ddir / "README.md").write_text(_demo_readme(summary), encoding="utf-8")
    return summary


def _summary(bnd, net, pois, teams, incidents, planted, seed) -> dict:
    def unit_of(level: str, lonlat) -> str:
        gdf = bnd[level]
        hit = gdf[gdf.contains(shapely.Point(lonlat))]
        return str(hit["code"].iloc[0]) if len(hit) else ""

    anchor = {k: net.nodes[v] for k, v in net.anchors.items()}
    highways = Counter(w.tags["highway"] for w in net.ways)
    n_edges = sum(len(w.node_ids) - 1 for w in net.ways)
    q = incidents["reported_at"].str[:7]
    pekat_rw = planted["pekat_rw"]
    in_rw = incidents["category"].eq("pekat") & incidents["ticket"].isin(
        _tickets_in(incidents, bnd, pekat_rw))
    return {
        "seed": seed,
        "units": {lvl: len(bnd[lvl]) for lvl in LEVELS},
        "roads": {"nodes": len(net.nodes), "ways": len(net.ways), "segments": n_edges,
                  "ways_by_highway": dict(sorted(highways.items())),
                  "oneway_ways": sum(w.tags.get("oneway") == "yes" for w in net.ways),
                  "island_node_ids": sorted(net.island_node_ids)},
        "pois": len(pois),
        "teams": dict(sorted(Counter(teams["role"]).items())),
        "incidents": {"total": len(incidents),
                      "by_category": dict(sorted(Counter(incidents["category"]).items())),
                      "by_status": dict(sorted(Counter(incidents["status"]).items())),
                      "first": incidents["reported_at"].min(), "last": incidents["reported_at"].max()},
        "planted": {
            "pkl_market": {"lonlat": anchor["pasar_parkir"], "kelurahan": unit_of("kelurahan", anchor["pasar_parkir"])},
            "gepeng_junction": {"lonlat": anchor["simpang_abunjani_sultan_agung"],
                                "kelurahan": unit_of("kelurahan", anchor["simpang_abunjani_sultan_agung"])},
            "pekat_rw": pekat_rw,
            "pekat_rw_by_year": {y: int((in_rw & q.str.startswith(y)).sum()) for y in ("2024", "2025", "2026")},
            "keributan_centre": {"lonlat": anchor["terminal_angkot"],
                                 "rw": unit_of("rw", anchor["terminal_angkot"])},
            "ternak_kelurahan": list(planted["ternak_kel"]),
            "pencurian_shift": list(planted["theft_kel"]),
            "banjir_kelurahan": KEL_WITHOUT_RT,
        },
    }


def _tickets_in(incidents, bnd, rw_code: str) -> set:
    geom = bnd["rw"].set_index("code").geometry[rw_code]
    inside = shapely.contains_xy(geom, incidents["lon"].values, incidents["lat"].values)
    return set(incidents["ticket"][inside])


def _kel(code: str) -> str:
    return f"{KEL_BY_CODE[code].name} ({code})"


def _boundaries_readme(s: dict) -> str:
    u = s["units"]
    return f"""# Batas wilayah demo Paal Merah — DATA SINTETIS / SYNTHETIC

**{SYNTHETIC_NOTE_ID}**

**{SYNTHETIC_NOTE_EN}**

Only the names and Kemendagri codes of the six kelurahan of Kecamatan Paal Merah
(15.71.11, Kota Jambi) are real, placed near their real positions. Every polygon here
is invented (unions of cells of one seeded Voronoi diagram). Do not use these files as
official boundaries. `provinsi.geojson` and `kabupaten_kota.geojson` are rectangles
around the kecamatan (demo extent only), named "(wilayah demo)".

Produced by `python -m geo_sigap.demo.generate` (seed {s['seed']}); do not edit by hand.

| file | level | units |
|---|---|---|
""" + "".join(f"| `{lvl}.geojson` | {lvl} | {u[lvl]} |\n" for lvl in LEVELS) + f"""
Columns (normalised schema, EPSG:4326): `code`, `name`, `level`, `parent_code`,
`population` (synthetic figures; kelurahan totals split down by area).

- Siblings share edges exactly (no gaps, no overlaps); every RT lies in its RW, every
  RW in its kelurahan, every kelurahan in the kecamatan.
- RW are numbered 1..n inside a kelurahan (`15.71.11.1003.RW002`, name `RW 002`).
- RT are numbered 1..m across the whole kelurahan (unique there) and grouped under
  their RW, so "RT 05 Eka Jaya" and "RT 05 RW 02 Eka Jaya" both identify one RT:
  `15.71.11.1003.RW002.RT005`, name `RT 005`.
- **Incomplete local data on purpose:** {_kel(KEL_WITHOUT_RT)} has RW polygons but
  **no RT polygons**.
"""


def _demo_readme(s: dict) -> str:
    r, inc, p = s["roads"], s["incidents"], s["planted"]
    cats = "".join(f"| {c} | {n} |\n" for c, n in inc["by_category"].items())
    teams = "".join(f"| {role} | {n} |\n" for role, n in s["teams"].items())
    hw = ", ".join(f"{k} {v}" for k, v in r["ways_by_highway"].items())
    return f"""# Data demo Paal Merah — DATA SINTETIS / SYNTHETIC

**{SYNTHETIC_NOTE_ID}**

**{SYNTHETIC_NOTE_EN}**

Nothing in this folder describes real roads, real landmarks' positions, real officers,
real phone numbers or real incidents. Produced by `python -m geo_sigap.demo.generate`
(seed {s['seed']}, byte-identical on every run); do not edit by hand.

## Files

| file | content |
|---|---|
| `roads.osm` | OSM XML road network: {r['nodes']} nodes, {r['ways']} ways ({hw}); {r['oneway_ways']} one-way ways |
| `poi.csv` | gazetteer `name,kind,lon,lat`: {s['pois']} landmarks |
| `teams.csv` | `code,name,role,phone,vehicle,post_lon,post_lat,area_codes,status`: {sum(s['teams'].values())} teams |
| `incidents.csv` | incident history {inc['first'][:10]} … {inc['last'][:10]} (WIB): {inc['total']} incidents |

## Road network

- Arterials: Jalan Kolonel Abunjani and Jalan Lingkar Selatan (primary), Jalan Sultan
  Agung and Jalan Pangeran Hidayat (secondary), Jalan Marsda Surya Darma (tertiary).
- Residential streets, some `oneway=yes`, including the one-way pair Jalan Pasar Lama I /
  II beside the market; a few `highway=service` spurs (market yard, kantor camat, …).
- Motorcycle-only alleys (gang/lorong) in dense kampung blocks: `highway=path`,
  `motorcycle=yes`, `motorcar=no`, `width=1.5` — shortcuts a car cannot take.
- The motor network (all ways, one-ways respected) is strongly connected, and so is the
  car network (without paths), **except one deliberate island**: the track "Jalan
  Setapak Rawa Payo" across the swamp of Payo Selincah (node ids
  {r['island_node_ids'][0]}–{r['island_node_ids'][-1]}), connected to nothing, to test
  "unreachable". Load with `osmnx.graph_from_xml(path, retain_all=True)` to keep it.

## Teams

| role | teams |
|---|---|
{teams}
One Bhabinkamtibmas (`BHB-1001`) covers two kelurahan, {_kel(SHARED_BHABIN[0])} and
{_kel(SHARED_BHABIN[1])}, as often happens in reality. Linmas: one per RW (area = RW
code), two of them `lepas` (off duty). Satpol PP TRC: `TRC-01` (mobil) and `TRC-02`
(motor) at the kantor camat, area = kecamatan 15.71.11. Dinas Sosial, Damkar, BPBD and
Dinas Peternakan answer for the whole kota (15.71), with posts just outside the
kecamatan; the Puskesmas ambulance for the kecamatan. Phones `+62812000000NN` are fake.

## Incidents

Columns as in docs/architecture.md. Tickets `DEMO-yymmdd-XXXX`. No reporter names or
phones. About 5 % are rejected (`ditolak`: hoaks / duplikat / di luar kewenangan) with
no later timestamps and no team. SOP steps: verification 1–30 min (lognormal),
dispatch 1–20 min, en route 0.5–6 min later, on scene after the straight-line distance
from the lead team's post × 1.3 at 20 km/h (mobil 17 km/h) with noise, handled
10–120 min later, resolved 0.5 h–5 days later; steps after 2026-09-30 23:59 WIB are
left empty (a few incidents are still open). Response targets are often exceeded.

| category | incidents |
|---|---|
{cats}
### Planted patterns (for the analytics to find)

| pattern | where | when |
|---|---|---|
| PKL persistent hotspot | market "Pasar Talang Bakung" {p['pkl_market']['lonlat']} in {_kel(p['pkl_market']['kelurahan'])}, σ ≈ 110 m | every quarter, daytime, weekdays |
| gepeng hotspot | traffic light "Simpang Lampu Merah Abunjani" (Jl. Kolonel Abunjani × Jl. Sultan Agung) {p['gepeng_junction']['lonlat']}, σ ≈ 70 m | every quarter, daytime |
| pekat NEW and intensifying | RW `{p['pekat_rw']}` (Eka Jaya): {p['pekat_rw_by_year']} incidents by year | from 2026Q1 only (≈45, 85, 140 per quarter), 20:00–03:00, Fri–Sun |
| keributan DIMINISHING | around "Terminal Angkot Paal Merah" {p['keributan_centre']['lonlat']} (RW `{p['keributan_centre']['rw']}`), σ ≈ 170 m | ≈150 → 20 per quarter over the 8 quarters, evenings, weekends |
| ternak | rural edge (≤ 350 m from the kecamatan outline) of {', '.join(_kel(c) for c in p['ternak_kelurahan'])} | daytime |
| bencana (banjir) | low-lying {_kel(p['banjir_kelurahan'])} around the swamp, σ ≈ 380 m | rainy season Nov–Mar |
| pencurian moving concentration | extra theft shifting linearly from {_kel(p['pencurian_shift'][0])} (2024Q4) to {_kel(p['pencurian_shift'][1])} (2026Q3) | nights and afternoons |
| background | everywhere, in proportion to RW population | all categories |
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Tulis data demo SINTETIS Paal Merah / write the SYNTHETIC demo data")
    parser.add_argument("--out-root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    s = generate(args.out_root, args.seed)
    print(f"Data demo SINTETIS ditulis ke {args.out_root} (seed {s['seed']})")
    print("Unit wilayah: " + ", ".join(f"{k} {v}" for k, v in s["units"].items()))
    print(f"Jalan: {s['roads']['nodes']} simpul, {s['roads']['ways']} ruas (way), "
          f"{s['roads']['segments']} segmen")
    print(f"Landmark: {s['pois']}; tim: {sum(s['teams'].values())} {s['teams']}")
    print(f"Kejadian: {s['incidents']['total']} {s['incidents']['by_category']}")


if __name__ == "__main__":
    main()
