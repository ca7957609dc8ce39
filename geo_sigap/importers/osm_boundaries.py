"""OSM XML boundary exports (JOSM, Overpass incl. ``out geom``, osmium cat …) read directly.

Relations tagged ``boundary=administrative`` (also closed ways with that tag) become
polygons: the member ways are noded and polygonised (shapely), and each face is kept
when an odd number of rings encloses it (even-odd rule), so outer/inner roles that are
missing or wrong do not matter and inner rings become holes. Negative ids (JOSM,
not uploaded) are ordinary ids here. ``admin_level`` maps to a level with the
Indonesian convention (:data:`ADMIN_LEVELS`), overridable per level.

A relation whose member ways are not all in the file (cut at the edge of an extract) is
skipped and reported; one whose ways are all present but do not close is refused.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.errors import GeoSigapError, ImportFailed

ADMIN_LEVELS: dict[int, AdminLevel] = {
    4: AdminLevel.PROVINSI, 5: AdminLevel.KABKOTA, 6: AdminLevel.KECAMATAN,
    7: AdminLevel.KELURAHAN, 8: AdminLevel.RW, 9: AdminLevel.RW, 10: AdminLevel.RT,
}
# custom tags of Indonesian exports naming a unit's parents, by level
PARENT_TAGS: dict[AdminLevel, tuple[str, ...]] = {
    AdminLevel.PROVINSI: ("PROV_name", "PROVINSI", "is_in:province", "addr:province"),
    AdminLevel.KABKOTA: ("KAB_name", "KOTA_name", "KABKOT", "is_in:city", "addr:city"),
    AdminLevel.KECAMATAN: ("KEC_name", "KECAMATAN", "is_in:district", "addr:district"),
    AdminLevel.KELURAHAN: ("KEL_name", "DESA_name", "KELURAHAN", "is_in:village",
                           "addr:subdistrict"),
}
MAX_LOOSE_SHARE = 0.05  # loose member lines beyond this share of the length: not a ring
CODE_TAGS = ("ref:id:kemendagri", "ref:kemendagri", "kemendagri:code", "kode_wilayah",
             "KODE")


def is_osm_xml(path: Path) -> bool:
    if path.suffix.lower() not in (".osm", ".xml"):
        return False
    try:
        with path.open("rb") as f:
            head = f.read(512).decode("utf-8", "replace")
    except OSError:
        return False
    return "<osm" in head


def parse_admin_levels(pairs: list[str]) -> dict[int, AdminLevel]:
    """``["9=rw", "8=kelurahan"]`` → overrides of :data:`ADMIN_LEVELS`."""
    out: dict[int, AdminLevel] = {}
    for pair in pairs:
        num, sep, lv = pair.partition("=")
        try:
            if not sep:
                raise ValueError(pair)
            out[int(num.strip())] = AdminLevel.parse(lv.strip())
        except (ValueError, GeoSigapError):
            raise ImportFailed(
                f"--admin-level harus berbentuk ANGKA=tingkat (mis. 9=rw), bukan {pair!r}",
                f"--admin-level must look like NUMBER=level (e.g. 9=rw), not {pair!r}",
            ) from None
    return out


@dataclass
class OsmBoundaries:
    frame: gpd.GeoDataFrame  # osm_id, admin_level, level, name, tags…; EPSG:4326
    skipped: list[str] = field(default_factory=list)  # incomplete relations, why
    open_rings: list[str] = field(default_factory=list)  # assembled, but with loose ends


def read_osm_boundaries(path: str | Path, *, admin_levels: dict[int, AdminLevel] | None = None
                        ) -> OsmBoundaries:
    """Administrative boundaries of an OSM XML file as polygons (EPSG:4326)."""
    path = Path(path)
    levels = dict(ADMIN_LEVELS)
    levels.update(admin_levels or {})
    nodes: dict[str, tuple[float, float]] = {}
    ways: dict[str, list[str]] = {}
    way_tags: dict[str, dict[str, str]] = {}
    relations: list[tuple[str, dict[str, str], list[tuple[str, str, str]]]] = []
    try:
        for _, el in ET.iterparse(path, events=("end",)):
            if el.tag == "node":
                nodes[el.get("id")] = (float(el.get("lon")), float(el.get("lat")))
                el.clear()
            elif el.tag == "way":
                for nd in el.findall("nd"):  # Overpass "out geom": coordinates inline
                    if nd.get("lat") is not None and nd.get("ref") is not None:
                        nodes[nd.get("ref")] = (float(nd.get("lon")), float(nd.get("lat")))
                ways[el.get("id")] = [nd.get("ref") for nd in el.findall("nd")]
                tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
                if tags.get("boundary") == "administrative" and "admin_level" in tags:
                    way_tags[el.get("id")] = tags
                el.clear()
            elif el.tag == "relation":
                tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
                if tags.get("boundary") == "administrative" or (
                        tags.get("type") == "boundary" and "admin_level" in tags):
                    members = []
                    for i, m in enumerate(el.findall("member")):
                        pts = [(float(nd.get("lon")), float(nd.get("lat")))
                               for nd in m.findall("nd") if nd.get("lat") is not None]
                        ref = m.get("ref")
                        if pts and m.get("type") == "way":  # Overpass "out geom"
                            ref = f"{el.get('id')}/{i}"
                            ways[ref] = []
                            for j, pt in enumerate(pts):
                                nodes[f"{ref}/{j}"] = pt
                                ways[ref].append(f"{ref}/{j}")
                        members.append((m.get("type"), ref, m.get("role") or ""))
                    relations.append((el.get("id"), tags, members))
                el.clear()
    except (ET.ParseError, TypeError, ValueError) as exc:
        raise ImportFailed(f"{path.name} bukan OSM XML yang dapat dibaca: {exc}",
                           f"{path.name} is not readable OSM XML: {exc}", file=str(path)
                           ) from exc
    rows: list[dict] = []
    geoms: list = []
    skipped: list[str] = []
    open_rings: list[str] = []
    broken: list[str] = []
    present = set()
    for rid, tags, members in relations:
        label = f"relasi {rid} ({tags.get('name') or 'tanpa nama'})"
        lines, missing = [], 0
        for mtype, ref, _role in members:
            if mtype != "way":
                continue
            nds = ways.get(ref)
            if nds is None or any(n not in nodes for n in nds):
                missing += 1
                continue
            coords = [nodes[n] for n in nds]
            if len(coords) >= 2:
                lines.append(LineString(coords))
        if missing:
            skipped.append(f"{label}: {missing} garis anggotanya tidak ada dalam berkas")
            continue
        if not lines:
            skipped.append(f"{label}: tanpa garis anggota")
            continue
        geom, loose = _assemble(lines)
        if geom is None:
            broken.append(f"{label}: garis batasnya tidak membentuk poligon tertutup")
            continue
        if loose:
            open_rings.append(f"{label}: {loose} ujung garis lepas diabaikan")
        level_no = _int(tags.get("admin_level"))
        rows.append({**tags, "osm_id": rid, "osm_type": "relation", "admin_level": level_no})
        geoms.append(geom)
        present.add(level_no)
    for wid, tags in way_tags.items():
        nds = ways[wid]
        if len(nds) < 4 or nds[0] != nds[-1] or any(n not in nodes for n in nds):
            continue  # a boundary line (part of a relation), not an area
        rows.append({**tags, "osm_id": wid, "osm_type": "way",
                     "admin_level": _int(tags.get("admin_level"))})
        geoms.append(MultiPolygon([Polygon([nodes[n] for n in nds])]))
        present.add(_int(tags.get("admin_level")))
    if broken:
        shown = "; ".join(broken[:10]) + (f"; dan {len(broken) - 10} lagi"
                                          if len(broken) > 10 else "")
        raise ImportFailed(f"{path.name} ditolak, tidak ada yang diimpor: {shown}",
                           f"{path.name} refused, nothing imported: {shown}",
                           file=str(path), errors=broken)
    if not rows:
        raise ImportFailed(
            f"{path.name}: tidak ada relasi boundary=administrative yang lengkap",
            f"{path.name}: no complete boundary=administrative relation", file=str(path))
    if 8 in present and 9 in present and not ({8, 9} & set(admin_levels or {})):
        raise ImportFailed(
            f"{path.name} memuat admin_level 8 dan 9; keduanya biasanya RW. Sebutkan "
            "artinya, mis. --admin-level 8=rw --admin-level 9=rt",
            f"{path.name} holds admin_level 8 and 9, both usually RW. Say what they "
            "are, e.g. --admin-level 8=rw --admin-level 9=rt", file=str(path))
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    frame["level"] = [levels[n].name.lower() if n in levels else None
                      for n in frame["admin_level"]]
    return OsmBoundaries(frame, skipped, open_rings)


def _int(v) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def _assemble(lines: list[LineString]) -> tuple[MultiPolygon | None, int]:
    """Polygon of a relation's ways (even-odd over the faces); and loose ends counted."""
    noded = shapely.union_all(lines)
    polys, cuts, dangles, _invalid = shapely.polygonize_full([noded])
    faces = [f for f in polys.geoms if f.area > 0]
    loose = len(getattr(dangles, "geoms", [])) + len(getattr(cuts, "geoms", []))
    total = sum(ln.length for ln in lines) or 1.0
    if not faces or (dangles.length + cuts.length) / total > MAX_LOOSE_SHARE:
        return None, loose
    shells = [Polygon(f.exterior) for f in faces]
    keep = []
    for f in faces:
        p = f.representative_point()
        depth = sum(1 for s in shells if s.contains(p))
        if depth % 2 == 1:
            keep.append(f)
    if not keep:
        return None, loose
    geom = shapely.union_all(keep)
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon):
        return None, loose
    return geom, loose
