"""Write the small road-line fixtures of ``tests/data/routing/roads_*`` (deterministic).

Each imitates a real schema with its defect, drawn in metres around a real place far
from one another (so that the metric projection matters too):

- ``roads_arcgis_surabaya.geojson``: TYPE/NAME/ONEWAY (FT, TF, N)/MAXSPEED, a toll road.
- ``roads_geofabrik_aceh.shp``: Geofabrik ``gis_osm_roads_free_1`` columns (fclass,
  oneway F/T/B, maxspeed 0 = unknown, layer, bridge T/F), a toll road.
- ``roads_rbi_jayapura.gpkg``: BIG RBI ``JALAN_LN_25K`` (NAMRJL, REMARK "Jalan Arteri" …),
  with a second, polygon layer before it.
- ``roads_lokal_makassar.geojson``: NAMA/JENIS/KELAS/ARAH ("1 arah"), "Gang", "Jalan Tol".
- ``roads_unreadable.geojson``: OBJECTID/KETERANGAN/PANJANG — no road class.
- ``roads_gaps_jambi.geojson``: ends drawn 1 m short of other roads (end to end and
  T-junction undershoots), a flyover crossing two streets without a junction, and a
  street ending 1 m from the flyover's side.

Run ``python tests/data/routing/make_road_fixtures.py`` to rewrite them.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, Polygon

HERE = Path(__file__).resolve().parent
M_PER_DEG = 111_320.0


def _lonlat(origin: tuple[float, float], pts):
    lon0, lat0 = origin
    kx = M_PER_DEG * math.cos(math.radians(lat0))
    return [(round(lon0 + x / kx, 8), round(lat0 + y / M_PER_DEG, 8)) for x, y in pts]


def _frame(origin, rows, geom_key="xy"):
    geoms = [LineString(_lonlat(origin, r.pop(geom_key))) for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def arcgis_surabaya() -> gpd.GeoDataFrame:
    o = (112.7400, -7.2600)
    rows = [
        dict(TYPE="Primary", NAME="Jl. Raya Darmo", ONEWAY="N", MAXSPEED=None,
             xy=[(0, 0), (200, 0), (400, 0)]),
        dict(TYPE="Secondary", NAME="Jl. Diponegoro", ONEWAY="TF", MAXSPEED=None,
             xy=[(0, 200), (200, 200), (400, 200)]),
        dict(TYPE="Residential", NAME="Jl. Kutai", ONEWAY="FT", MAXSPEED=None,
             xy=[(200, 0), (200, 200)]),
        dict(TYPE="Motorway", NAME="Tol Waru-Juanda", ONEWAY="N", MAXSPEED=80,
             xy=[(-600, -100), (0, 0)]),
        dict(TYPE="Tertiary", NAME="Jl. Dr. Soetomo", ONEWAY=None, MAXSPEED=30,
             xy=[(400, 0), (400, 200)]),
    ]
    return _frame(o, rows)


def geofabrik_aceh() -> gpd.GeoDataFrame:
    o = (95.3200, 5.5500)
    rows = [
        dict(osm_id="101", code=5112, fclass="primary", name="Jalan Teuku Umar", ref="",
             oneway="B", maxspeed=0, layer=0, bridge="F", tunnel="F",
             xy=[(0, 0), (250, 0), (500, 0)]),
        dict(osm_id="102", code=5122, fclass="residential", name="Jalan Mesjid Raya",
             ref="", oneway="F", maxspeed=0, layer=0, bridge="F", tunnel="F",
             xy=[(250, 0), (250, 250)]),
        dict(osm_id="103", code=5122, fclass="residential", name="Lorong Bahagia", ref="",
             oneway="T", maxspeed=0, layer=0, bridge="F", tunnel="F",
             xy=[(500, 0), (500, 250)]),
        dict(osm_id="104", code=5111, fclass="motorway", name="Jalan Tol Sigli-Banda Aceh",
             ref="", oneway="B", maxspeed=80, layer=1, bridge="T", tunnel="F",
             xy=[(0, 0), (-400, -300)]),
        dict(osm_id="105", code=5152, fclass="footway", name="", ref="", oneway="B",
             maxspeed=0, layer=0, bridge="F", tunnel="F", xy=[(250, 250), (500, 250)]),
        dict(osm_id="106", code=5143, fclass="track_grade2", name="", ref="", oneway="B",
             maxspeed=0, layer=0, bridge="F", tunnel="F", xy=[(0, 0), (0, 250), (250, 250)]),
    ]
    return _frame(o, rows)


def rbi_jayapura() -> gpd.GeoDataFrame:
    o = (140.7000, -2.5400)
    rows = [
        dict(NAMRJL="Jalan Ahmad Yani", REMARK="Jalan Arteri", FCODE="AP010", SRS_ID=1,
             xy=[(0, 0), (300, 0), (600, 0)]),
        dict(NAMRJL="Jalan Percetakan", REMARK="Jalan Kolektor", FCODE="AP020", SRS_ID=1,
             xy=[(300, 0), (300, 300)]),
        dict(NAMRJL="Jalan Irian", REMARK="Jalan Lokal", FCODE="AP030", SRS_ID=1,
             xy=[(600, 0), (600, 300), (300, 300)]),
        dict(NAMRJL=None, REMARK="Jalan Lain", FCODE="AP050", SRS_ID=1,
             xy=[(300, 300), (150, 450)]),
        dict(NAMRJL=None, REMARK="Jalan Setapak", FCODE="AP060", SRS_ID=1,
             xy=[(150, 450), (0, 600)]),
    ]
    return _frame(o, rows)


def lokal_makassar() -> gpd.GeoDataFrame:
    o = (119.4200, -5.1400)
    rows = [
        dict(NAMA="Jl. Urip Sumoharjo", JENIS="Jalan Kolektor", KELAS="II", ARAH="2 arah",
             xy=[(0, 0), (300, 0)]),
        dict(NAMA="Jl. Sungai Saddang", JENIS="Jalan Lingkungan", KELAS="IIIC", ARAH="1 arah",
             xy=[(300, 0), (300, 300)]),
        dict(NAMA="Gang Mawar", JENIS="Gang", KELAS="IIIC", ARAH="2 arah",
             xy=[(300, 300), (0, 300), (0, 0)]),
        dict(NAMA="Tol Reformasi", JENIS="Jalan Tol", KELAS="I", ARAH="2 arah",
             xy=[(0, 0), (-500, -200)]),
    ]
    return _frame(o, rows)


def unreadable() -> gpd.GeoDataFrame:
    o = (106.8200, -6.2000)
    rows = [dict(OBJECTID=i, KETERANGAN=f"ruas {i}", PANJANG=100.0,
                 xy=[(100 * i, 0), (100 * i + 100, 0)]) for i in range(4)]
    return _frame(o, rows)


def gaps_jambi() -> gpd.GeoDataFrame:
    o = (103.6300, -1.6300)
    res = dict(highway="residential", layer=0, bridge="no")

    def row(name, xy, **kw):
        return dict(res, name=name, xy=xy, **kw)

    rows = [
        row("Jalan H1", [(0, 0), (150, 0), (300, 0)]),
        row("Jalan H2", [(0, 200), (150, 200), (300, 200)]),
        row("Jalan V1", [(0, 1), (0, 199)]),  # both ends 1 m short of H1's/H2's ends
        row("Jalan V2", [(150, 1), (150, 199)]),  # 1 m short of H1/H2 middle vertices
        row("Jalan V3", [(300, 0), (300, 100), (300, 200)]),
        row("Jalan V4", [(75, -1), (75, -100)]),  # 1 m short of H1, no vertex there
        row("Jalan H3", [(-100, 100), (-1, 100)]),  # 1 m short of V1's side
        row("Jalan S", [(-100, -100), (75, -100), (225, -100), (400, -100)]),
        row("Jalan N", [(-100, 300), (225, 300), (400, 300)]),
        row("Jalan V5", [(300, 200), (300, 299)]),  # 1 m short of N's side
        dict(highway="secondary", name="Flyover", layer=1, bridge="yes",
             xy=[(225, -100), (225, 300)]),  # crosses H1 and H2 without a junction
        row("Jalan G1", [(300, 100), (226, 100)]),  # ends 1 m beside the flyover
    ]
    return _frame(o, rows)


def main() -> None:
    arcgis_surabaya().to_file(HERE / "roads_arcgis_surabaya.geojson", driver="GeoJSON")
    shp = HERE / "roads_geofabrik_aceh"
    shp.mkdir(exist_ok=True)
    geofabrik_aceh().to_file(shp / "gis_osm_roads_free_1.shp")
    gpkg = HERE / "roads_rbi_jayapura.gpkg"
    gpkg.unlink(missing_ok=True)
    area = gpd.GeoDataFrame({"NAMOBJ": ["Jayapura Utara"]}, crs="EPSG:4326", geometry=[
        Polygon(_lonlat((140.7, -2.54), [(-100, -100), (700, -100), (700, 700), (-100, 700)]))])
    area.to_file(gpkg, layer="ADMINISTRASI_AR", driver="GPKG")
    rbi_jayapura().to_file(gpkg, layer="JALAN_LN_25K", driver="GPKG")
    lokal_makassar().to_file(HERE / "roads_lokal_makassar.geojson", driver="GeoJSON")
    unreadable().to_file(HERE / "roads_unreadable.geojson", driver="GeoJSON")
    gaps_jambi().to_file(HERE / "roads_gaps_jambi.geojson", driver="GeoJSON")


if __name__ == "__main__":
    main()
