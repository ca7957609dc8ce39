"""Benchmark: boundary import from names and from an OSM export, and the layer checks.

Run from the repository root::

    python -m benchmarks.boundaries            # readable table
    python -m benchmarks.boundaries --json     # one JSON object

On the real files of ``../shared/data`` (skipped when absent) it times and scores:

* loading the bundled national Kemendagri list (91,599 rows);
* Kota Jambi's 68 BIG kelurahan with ``KDEPUM`` dropped, coded from names + parent
  names — share of codes equal to the original;
* Sarolangun's 158 desa from names alone (no parent column) — same score;
* Surabaya's JOSM export (1,527 relations): assembling the polygons, coding by names and
  geometry, and the whole-layer quality checks;
* the whole-layer overlap check (STRtree) against the naive pairwise loop on Surabaya's RW
  layer, with the same answer required.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import shapely

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO.parent / "shared" / "data").resolve()


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t, 3)


def run() -> dict:
    from geo_sigap.domain.admin import AdminLevel
    from geo_sigap.importers import wilayah
    from geo_sigap.importers.boundaries import read_boundaries
    from geo_sigap.importers.osm_boundaries import read_osm_boundaries
    from geo_sigap.importers.quality import QualityReport, _overlaps

    out: dict = {}
    wilayah._load.cache_clear()
    codes, out["load_code_list_s"] = _timed(wilayah.load_code_list)
    out["code_list_rows"] = len(codes.places)
    if not (SHARED / "jambi").exists():
        out["skipped"] = f"{SHARED} absent"
        return out
    tmp = Path(tempfile.mkdtemp())
    src = gpd.read_file(SHARED / "jambi" / "kelurahan_kota_jambi.geojson")
    gpd.GeoDataFrame({"NAMA_KEL": src["NAMOBJ"].str.upper(), "NAMA_KEC": "KEC. " + src["WADMKC"],
                      "NAMA_KOTA": "KOTA JAMBI"}, geometry=src.geometry,
                     crs="EPSG:4326").to_file(tmp / "kel.shp")
    data, t = _timed(lambda: read_boundaries(tmp / "kel.shp", level="kelurahan"))
    truth = dict(zip(src["NAMOBJ"].str.upper(), src["KDEPUM"], strict=True))
    right = sum(1 for m in data.report.matches if truth.get(m["name"]) == m["code"])
    out["jambi"] = {"features": len(src), "seconds": t, "correct_codes": right,
                    "share_correct": round(right / len(src), 4)}
    sar = gpd.read_file(SHARED / "jambi" / "desa_kelurahan_sarolangun.geojson")
    sar[["nama", "geometry"]].to_file(tmp / "desa.gpkg")
    data, t = _timed(lambda: read_boundaries(tmp / "desa.gpkg", level="desa"))
    right = sum(1 for m in data.report.matches if sar["kode"].iloc[m["feature"] - 1] == m["code"])
    out["sarolangun"] = {"features": len(sar), "seconds": t, "correct_codes": right,
                         "share_correct": round(right / len(sar), 4)}
    osm_path = SHARED / "surabaya" / "Adm_Surabaya_All.osm"
    osm, t_parse = _timed(lambda: read_osm_boundaries(osm_path))
    data, t_all = _timed(lambda: read_boundaries(osm_path))
    levels: dict[str, int] = {}
    for u in data.units:
        levels[u.level.name.lower()] = levels.get(u.level.name.lower(), 0) + 1
    kel_matches = [m for m in data.report.matches if m["level"] == "kelurahan"]
    out["surabaya_osm"] = {
        "relations": len(osm.frame), "assemble_s": t_parse, "import_read_s": t_all,
        "units": levels, "kelurahan_coded_share": round(
            sum(1 for m in kel_matches if m["code"]) / len(kel_matches), 4),
        "issues": data.report.summary()}
    rw = [u for u in data.units if u.level == AdminLevel.RW]
    frame = gpd.GeoDataFrame({"code": [u.code for u in rw]}, geometry=[u.geometry for u in rw],
                             crs="EPSG:4326")
    metric = frame.to_crs(frame.estimate_utm_crs())
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(metric.crs, "EPSG:4326", always_xy=True)
    rep = QualityReport()
    _, t_tree = _timed(lambda: _overlaps(metric, rep, to_wgs))
    geoms, codes_ = list(metric.geometry), list(metric["code"])

    def naive():
        found = set()
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                if shapely.intersection(geoms[i], geoms[j]).area > 1.0:
                    found.add((codes_[i], codes_[j]))
        return found

    pairs, t_naive = _timed(naive)
    assert pairs == {tuple(i.codes) for i in rep.issues}, "STRtree and naive loop disagree"
    out["overlap_check_rw"] = {"units": len(rw), "strtree_s": t_tree, "naive_pairwise_s": t_naive,
                               "overlaps": len(pairs)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    res = run()
    if ap.parse_args().json:
        print(json.dumps(res, ensure_ascii=False))
        return
    for k, v in res.items():
        print(f"{k:22} {json.dumps(v, ensure_ascii=False)}")


if __name__ == "__main__":
    main()
