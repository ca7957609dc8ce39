"""Administrative boundaries from GeoJSON / Shapefile / GeoPackage (any CRS → EPSG:4326).

Attribute names are mapped by options or a small TOML mapping file, e.g. for the BIG
(Badan Informasi Geospasial) schema::

    [fields]
    code = "KDEPUM"
    name = "NAMOBJ"
    [parents]           # optional: names of the units one and two levels up
    kecamatan = "WADMKC"
    kabupaten_kota = "WADMKK"
    provinsi = "WADMPR"

Known schemas are recognised without a mapping: GeoSIGAP's own (code, name, level,
parent_code, population), BIG (KDEPUM, NAMOBJ, WADMKC…) and the cahyadsn/wilayah one
(kode, nama).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo_sigap.domain.admin import (
    AdminLevel,
    AdminUnit,
    level_of,
    normalize_kemendagri,
    parent_code,
    rt_code,
    rw_code,
)
from geo_sigap.errors import GeoSigapError, ImportFailed
from geo_sigap.importers.progress import Progress, null_progress
from geo_sigap.importers.quality import QualityIssue, QualityReport, sibling_checks

KNOWN_SCHEMAS: list[dict[str, str]] = [
    {"code": "code", "name": "name"},
    {"code": "KDEPUM", "name": "NAMOBJ"},
    {"code": "kode", "name": "nama"},
    {"code": "kode_wilayah", "name": "nama_wilayah"},
]
BIG_PARENTS = {"kecamatan": "WADMKC", "kabupaten_kota": "WADMKK", "provinsi": "WADMPR"}
OPTIONAL_FIELDS = ("level", "parent_code", "population", "kind", "rw", "rt", "kelurahan_code")


@dataclass
class FieldMapping:
    """Which source column holds which field (``None``: not present)."""

    code: str | None = None
    name: str | None = None
    level: str | None = None
    parent_code: str | None = None
    population: str | None = None
    kind: str | None = None
    rw: str | None = None  # RW number column (to derive RW/RT codes)
    rt: str | None = None
    kelurahan_code: str | None = None
    parents: dict[str, str] = field(default_factory=dict)  # level name → column of its name

    @classmethod
    def from_file(cls, path: str | Path) -> FieldMapping:
        try:
            raw = tomllib.loads(Path(path).read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ImportFailed(
                f"Berkas pemetaan kolom {path} tidak dapat dibaca: {exc}",
                f"Cannot read the field mapping file {path}: {exc}",
            ) from exc
        m = cls(**{k: v for k, v in raw.get("fields", {}).items()
                   if k in cls.__dataclass_fields__})
        m.parents = dict(raw.get("parents", {}))
        return m

    @classmethod
    def from_options(cls, pairs: list[str]) -> FieldMapping:
        """``["code=KDEPUM", "name=NAMOBJ", "parent.kecamatan=WADMKC"]``."""
        m = cls()
        for pair in pairs:
            key, sep, col = pair.partition("=")
            key, col = key.strip(), col.strip()
            if not sep or not col:
                raise ImportFailed(
                    f"Pemetaan kolom harus berbentuk bidang=KOLOM, bukan {pair!r}",
                    f"A field mapping must look like field=COLUMN, not {pair!r}",
                )
            if key.startswith("parent."):
                m.parents[key.split(".", 1)[1]] = col
            elif key in cls.__dataclass_fields__ and key != "parents":
                setattr(m, key, col)
            else:
                raise ImportFailed(
                    f"Bidang tidak dikenal dalam pemetaan: {key!r}",
                    f"Unknown field in mapping: {key!r}",
                )
        return m

    def complete(self, columns: list[str]) -> FieldMapping:
        """Fill unmapped fields from a recognised schema."""
        out = FieldMapping(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        if out.code is None or out.name is None:
            for schema in KNOWN_SCHEMAS:
                if all(c in columns for c in schema.values()):
                    out.code = out.code or schema["code"]
                    out.name = out.name or schema["name"]
                    break
        for f in OPTIONAL_FIELDS:
            if getattr(out, f) is None and f in columns:
                setattr(out, f, f)
        if not out.parents and all(c in columns for c in BIG_PARENTS.values()):
            out.parents = dict(BIG_PARENTS)
        return out


@dataclass
class BoundaryImport:
    """What a boundary file holds after validation (nothing written yet)."""

    units: list[AdminUnit]
    derived: list[AdminUnit]
    report: QualityReport
    source: str
    crs: str


def _read(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise ImportFailed(f"Berkas tidak ditemukan: {path}", f"File not found: {path}")
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several error types
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise ImportFailed(
            f"Berkas {path.name} tidak dapat dibaca sebagai data geospasial: {first}",
            f"{path.name} cannot be read as geospatial data: {first}",
            file=str(path),
        ) from exc


def _set_crs(gdf: gpd.GeoDataFrame, path: Path, source_crs: str | None) -> tuple[gpd.GeoDataFrame, str]:
    if source_crs:
        try:
            gdf = gdf.set_crs(source_crs, allow_override=True)
        except Exception as exc:  # noqa: BLE001
            raise ImportFailed(
                f"CRS tidak dikenal: {source_crs!r}", f"Unknown CRS: {source_crs!r}"
            ) from exc
    minx, miny, maxx, maxy = gdf.total_bounds
    degrees = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    if gdf.crs is not None and gdf.crs.is_geographic and not degrees and not source_crs:
        gdf = gdf.set_crs(None, allow_override=True)  # e.g. GeoJSON (always "4326") in metres
    if gdf.crs is None:
        if degrees:
            gdf = gdf.set_crs("EPSG:4326")
        else:
            raise ImportFailed(
                f"{path.name}: sistem koordinat (CRS) tidak diketahui dan koordinatnya bukan "
                "derajat lon/lat. Sebutkan dengan --crs (mis. EPSG:32748 untuk UTM 48S).",
                f"{path.name}: unknown coordinate system (CRS) and the coordinates are not "
                "lon/lat degrees. Give it with --crs (e.g. EPSG:32748 for UTM 48S).",
                file=str(path),
            )
    crs = gdf.crs.to_string()
    try:
        gdf = gdf.to_crs("EPSG:4326")
    except Exception as exc:  # noqa: BLE001
        raise ImportFailed(
            f"{path.name}: koordinat tidak dapat diubah dari {crs} ke EPSG:4326: {exc}",
            f"{path.name}: cannot transform coordinates from {crs} to EPSG:4326: {exc}",
        ) from exc
    return gdf, crs


def _polygonal(geom):
    """Repair a geometry; return (polygonal geometry or None, was_repaired)."""
    if geom is None or geom.is_empty:
        return None, False
    repaired = False
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        repaired = True
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts) if parts else None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, repaired
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return geom, repaired


def read_boundaries(
    path: str | Path,
    *,
    level: str | AdminLevel | None = None,
    mapping: FieldMapping | None = None,
    layer: str | None = None,
    source_crs: str | None = None,
    derive_parents: bool = True,
    progress: Progress = null_progress,
) -> BoundaryImport:
    """Read and validate a boundary file; raise :class:`ImportFailed` if it is broken.

    Parameters
    ----------
    level
        The level of every feature (kelurahan, rw, rt, …) when the file has no ``level``
        column; otherwise inferred from each code.
    derive_parents
        Build the units one level up (e.g. kecamatan from kelurahan) by dissolving, when
        the file's parents are not loaded otherwise; their names come from the mapped
        parent-name columns.
    """
    path = Path(path)
    progress("membaca berkas", 0, 1)
    raw = _read(path, layer)
    progress("membaca berkas", 1, 1)
    if raw.empty:
        raise ImportFailed(f"{path.name} tidak berisi fitur", f"{path.name} has no features")
    gdf, crs = _set_crs(raw, path, source_crs)
    m = (mapping or FieldMapping()).complete(list(gdf.columns))
    fixed_level = AdminLevel.parse(level) if level is not None else None
    need = ["name"] + ([] if (m.rw or m.rt) and m.kelurahan_code else ["code"])
    missing = [f for f in need if getattr(m, f) is None or getattr(m, f) not in gdf.columns]
    if missing:
        cols = ", ".join(c for c in gdf.columns if c != "geometry")
        raise ImportFailed(
            f"{path.name}: kolom wajib tidak ditemukan: {', '.join(missing)}. Kolom yang ada: "
            f"{cols}. Petakan dengan --map code=KOLOM --map name=KOLOM.",
            f"{path.name}: required column(s) missing: {', '.join(missing)}. Columns present: "
            f"{cols}. Map them with --map code=COLUMN --map name=COLUMN.",
            file=str(path), missing=missing,
        )
    report = QualityReport()
    units: dict[str, AdminUnit] = {}
    broken: list[str] = []
    n = len(gdf)
    for i, (idx, row) in enumerate(gdf.iterrows()):
        if i % 200 == 0:
            progress("memeriksa fitur", i, n)
        where = f"fitur #{i + 1}"
        name = _text(row.get(m.name)) if m.name else None
        try:
            code, lv = _code_and_level(row, m, fixed_level)
        except GeoSigapError as exc:
            if _text(row.get(m.code)) if m.code else None:
                broken.append(f"{where}: {exc.message_id}")
                continue
            report.add(QualityIssue("missing_code", (), f"{where} ({name or 'tanpa nama'}) "
                                    "tidak punya kode; dilewati"))
            continue
        geom, repaired = _polygonal(row.geometry)
        if geom is None:
            kind = "kosong" if row.geometry is None or row.geometry.is_empty else (
                f"{row.geometry.geom_type} tidak dapat diperbaiki menjadi poligon")
            broken.append(f"{where} (kode {code}): geometri {kind}")
            continue
        if repaired:
            report.add(QualityIssue("repaired_geometry", (code,),
                                    f"Geometri {code} tidak valid dan telah diperbaiki"))
        pop = _int(row.get(m.population)) if m.population else None
        parent = _text(row.get(m.parent_code)) if m.parent_code else None
        unit = AdminUnit(code=code, level=lv, name=name or code,
                         parent_code=parent or parent_code(code), geometry=geom,
                         population=pop, kind=_text(row.get(m.kind)) if m.kind else None,
                         attrs={f"parent_name.{k}": _text(row.get(c))
                                for k, c in m.parents.items() if c in gdf.columns})
        if code in units:
            report.add(QualityIssue("duplicate_code", (code,),
                                    f"Kode {code} muncul lebih dari sekali; bagian-bagiannya "
                                    "digabung"))
            prev = units[code]
            prev.geometry = _polygonal(shapely.union_all([prev.geometry, geom]))[0]
            if pop is not None:
                prev.population = (prev.population or 0) + pop
            continue
        units[code] = unit
    progress("memeriksa fitur", n, n)
    if broken:
        shown = "; ".join(broken[:10]) + (f"; dan {len(broken) - 10} lagi" if len(broken) > 10
                                          else "")
        raise ImportFailed(
            f"{path.name} ditolak, tidak ada yang diimpor: {shown}",
            f"{path.name} refused, nothing imported: {shown}",
            file=str(path), errors=broken,
        )
    if not units:
        raise ImportFailed(f"{path.name}: tidak ada unit berkode yang dapat diimpor",
                           f"{path.name}: no coded units to import")
    ulist = sorted(units.values(), key=lambda u: u.code)
    derived = _derive_parents(ulist) if derive_parents else []
    progress("memeriksa kualitas", 0, 1)
    frame = gpd.GeoDataFrame(
        {"code": [u.code for u in ulist], "parent_code": [u.parent_code for u in ulist]},
        geometry=[u.geometry for u in ulist], crs="EPSG:4326",
    )
    sibling_checks(frame, report)
    progress("memeriksa kualitas", 1, 1)
    return BoundaryImport(ulist, derived, report, str(path), crs)


def _code_and_level(row: pd.Series, m: FieldMapping, fixed: AdminLevel | None
                    ) -> tuple[str, AdminLevel]:
    lv = fixed
    if lv is None and m.level and _text(row.get(m.level)):
        lv = AdminLevel.parse(_text(row.get(m.level)))
    kel = _text(row.get(m.kelurahan_code)) if m.kelurahan_code else None
    rw = _text(row.get(m.rw)) if m.rw else None
    rt = _text(row.get(m.rt)) if m.rt else None
    raw = _text(row.get(m.code)) if m.code else None
    if raw and (".RW" in raw or ".RT" in raw):
        code = raw
        lv = lv or level_of(code)
    elif kel and (rw or rt) and lv in (None, AdminLevel.RW, AdminLevel.RT):
        if rt:
            code, lv = rt_code(kel, rw, rt), AdminLevel.RT
        else:
            code, lv = rw_code(kel, rw), AdminLevel.RW  # type: ignore[arg-type]
    elif raw:
        code = normalize_kemendagri(raw)
        lv = lv or level_of(code)
    else:
        from geo_sigap.errors import InvalidInput

        raise InvalidInput("tanpa kode", "no code")
    return code, lv


def _derive_parents(units: list[AdminUnit]) -> list[AdminUnit]:
    """Dissolve units into their parents up to the provinsi (names from parent-name attrs)."""
    have = {u.code for u in units}
    level_names = {AdminLevel.KECAMATAN: "kecamatan", AdminLevel.KABKOTA: "kabupaten_kota",
                   AdminLevel.PROVINSI: "provinsi"}
    out: list[AdminUnit] = []
    current = [u for u in units if u.level <= AdminLevel.KELURAHAN]
    while current:
        groups: dict[str, list[AdminUnit]] = {}
        for u in current:
            if u.parent_code and u.parent_code not in have:
                groups.setdefault(u.parent_code, []).append(u)
        nxt = []
        for pcode, children in sorted(groups.items()):
            plevel = level_of(pcode)
            key = f"parent_name.{level_names.get(plevel, '')}"
            names = [c.attrs.get(key) for c in children if c.attrs.get(key)]
            name = names[0] if names else f"{plevel.label} {pcode}"
            pops = [c.population for c in children]
            geom = _polygonal(shapely.union_all([c.geometry for c in children]))[0]
            parent = AdminUnit(code=pcode, level=plevel, name=name,
                               parent_code=parent_code(pcode), geometry=geom,
                               population=sum(pops) if all(p is not None for p in pops) else None,
                               attrs={k: v for k, v in children[0].attrs.items()
                                      if k.startswith("parent_name.")})
            have.add(pcode)
            nxt.append(parent)
        out += nxt
        current = nxt
    return out


def _text(value) -> str | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    s = str(value).strip()
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    return s or None


def _int(value) -> int | None:
    s = _text(value)
    if s is None:
        return None
    try:
        return int(float(s.replace(",", "")))
    except ValueError:
        return None


def import_boundaries(db, data: BoundaryImport, *, include_derived: bool = True) -> dict:
    """Write a validated import in one transaction. Returns a summary."""
    from geo_sigap.storage.units import upsert_units

    with db.session() as s:
        ins, upd = upsert_units(s, data.units, source=data.source)
        dins = dupd = 0
        if include_derived and data.derived:
            existing = set(_existing_codes(s, [u.code for u in data.derived]))
            new = [u for u in data.derived if u.code not in existing]
            dins, dupd = upsert_units(s, new, source=f"{data.source} (dilebur)")
    return {
        "file": data.source, "crs": data.crs, "inserted": ins, "updated": upd,
        "derived_parents": dins, "levels": _level_counts(data.units),
        "quality": data.report.summary(),
    }


def _existing_codes(session, codes: list[str]) -> list[str]:
    from sqlalchemy import select

    from geo_sigap.storage.tables import AdminUnitRow

    return list(session.scalars(select(AdminUnitRow.code).where(AdminUnitRow.code.in_(codes))))


def _level_counts(units: list[AdminUnit]) -> dict[str, int]:
    out: dict[str, int] = {}
    for u in units:
        out[u.level.name.lower()] = out.get(u.level.name.lower(), 0) + 1
    return out


def apply_code_names(data: BoundaryImport, csv_path: str | Path) -> int:
    """Name units (mostly derived parents) from a Kemendagri ``kode,nama`` CSV.

    Returns how many names were set. Unknown codes in the CSV are ignored.
    """
    from geo_sigap.importers._csv import read_csv

    df = read_csv(csv_path, ["kode", "nama"])
    names = {}
    for kode, nama in zip(df["kode"], df["nama"], strict=True):
        try:
            names[normalize_kemendagri(kode)] = nama.strip()
        except GeoSigapError:
            continue
    n = 0
    for u in [*data.units, *data.derived]:
        if u.code in names and (u.name == u.code or u.name.endswith(u.code)
                                or u in data.derived):
            u.name = names[u.code]
            n += 1
    return n
