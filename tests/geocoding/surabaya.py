"""Kota Surabaya kecamatan, kelurahan and RW from the JOSM boundary export
(``../shared/data/surabaya/Adm_Surabaya_All.osm``) as a unit table, for tests.

The file has no Kemendagri codes: codes are made up here (``35.78.KK``,
``35.78.KK.1NNN``, ``….RWNNN``), parents taken from the ``KEC_name``/``KEL_name`` tags
where they name one unit and from geometry (largest overlap) where they do not, as an
importer would. Relations are rebuilt with ``shapely.polygonize`` of their member ways.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tests.paths import SHARED_DATA

OSM = SHARED_DATA / "surabaya" / "Adm_Surabaya_All.osm"
UTM = 32749  # UTM 49S, for areas in the tests


def relations() -> gpd.GeoDataFrame:
    root = ET.parse(OSM).getroot()
    nodes, ways, rows = {}, {}, []
    for el in root:
        if el.tag == "node":
            nodes[el.get("id")] = (float(el.get("lon")), float(el.get("lat")))
        elif el.tag == "way":
            ways[el.get("id")] = [nd.get("ref") for nd in el.iter("nd")]
    for el in root.iter("relation"):
        tags = {t.get("k"): t.get("v") for t in el.iter("tag")}
        if tags.get("boundary") != "administrative":
            continue
        lines = [shapely.linestrings([nodes[n] for n in ways[m.get("ref")]])
                 for m in el.iter("member") if m.get("type") == "way" and m.get("ref") in ways]
        faces = shapely.get_parts(shapely.polygonize(lines))
        if not len(faces):
            continue
        rows.append({"osm_id": el.get("id"), "admin_level": tags.get("admin_level"),
                     "name": tags.get("name"), "kel": tags.get("KEL_name"),
                     "kec": tags.get("KEC_name"), "geometry": shapely.union_all(faces)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _by_overlap(child: gpd.GeoDataFrame, parent: gpd.GeoDataFrame) -> np.ndarray:
    """Index (into ``parent``) of the parent each child overlaps most."""
    c, p = child.to_crs(UTM).geometry.values, parent.to_crs(UTM).geometry.values
    ci, pi = shapely.STRtree(p).query(c, predicate="intersects")
    area = shapely.area(shapely.intersection(c[ci], p[pi]))
    best = pd.DataFrame({"c": ci, "p": pi, "a": area}).sort_values("a").groupby("c")["p"].last()
    return best.reindex(range(len(child))).fillna(-1).astype(int).to_numpy()


def units() -> gpd.GeoDataFrame:
    """Kecamatan, kelurahan and RW units (``code, name, level, parent_code, geometry``)."""
    rel = relations()
    kec = rel[rel["admin_level"] == "6"].sort_values("name").reset_index(drop=True)
    kel = rel[rel["admin_level"] == "7"].reset_index(drop=True)
    rw = rel[rel["admin_level"] == "9"].reset_index(drop=True)
    kec["code"] = [f"35.78.{i + 1:02d}" for i in range(len(kec))]
    kec_by_name = {n: c for n, c in zip(kec["name"].str.lower(), kec["code"])}
    geo_kec = kec["code"].to_numpy()[_by_overlap(kel, kec)]
    kel["parent_code"] = [kec_by_name.get(str(t).lower(), g) for t, g in zip(kel["kec"], geo_kec)]
    kel = kel.sort_values(["parent_code", "name"]).reset_index(drop=True)
    kel["code"] = kel["parent_code"] + "." + (
        1001 + kel.groupby("parent_code").cumcount()).astype(str)
    # an RW's kelurahan: by its tags when they name exactly one, else by geometry
    key = Counter(zip(kel["name"].str.lower(), kel["parent_code"]))
    by_tags = {}
    for code, name, parent in zip(kel["code"], kel["name"].str.lower(), kel["parent_code"]):
        if key[(name, parent)] == 1:
            by_tags[(name, parent)] = code
    geo_kel = kel["code"].to_numpy()[_by_overlap(rw, kel)]
    geo_kec_of = dict(zip(kel["code"], kel["parent_code"]))
    parent = []
    for t_kel, t_kec, g in zip(rw["kel"], rw["kec"], geo_kel):
        kc = kec_by_name.get(str(t_kec).lower(), geo_kec_of[g])
        parent.append(by_tags.get((str(t_kel).lower(), kc), g))
    rw["parent_code"] = parent
    rw = rw.sort_values(["parent_code", "osm_id"]).reset_index(drop=True)
    rw["code"] = rw["parent_code"] + ".RW" + (
        1 + rw.groupby("parent_code").cumcount()).map("{:03d}".format)
    rw["name"] = rw["name"].fillna("RW")
    kec["parent_code"] = "35.78"
    out = pd.concat([kec.assign(level="kecamatan"), kel.assign(level="kelurahan"),
                     rw.assign(level="rw")], ignore_index=True)
    return gpd.GeoDataFrame(out[["code", "name", "level", "parent_code", "geometry"]],
                            geometry="geometry", crs=4326)
