"""Administrative boundaries from GeoJSON / Shapefile / GeoPackage / OSM XML (any CRS →
EPSG:4326), with Kemendagri codes from the file or from names.

Attribute names are mapped by options or a small TOML mapping file, e.g. for the BIG
(Badan Informasi Geospasial) schema::

    [fields]
    code = "KDEPUM"
    name = "NAMOBJ"
    [parents]           # optional: names of the units above
    kecamatan = "WADMKC"
    kabupaten_kota = "WADMKK"
    provinsi = "WADMPR"

Unmapped fields are found among the usual column names, case-insensitively (see
:mod:`geo_sigap.importers._columns`). A unit without a valid Kemendagri code (most city
files hold only names and local ids such as ``112``) gets its code by matching its name,
scoped by its parents' names or polygons, to the bundled national list or a ``--names``
CSV (:mod:`geo_sigap.importers.coding`). RW/RT numbers are read from labels as files
hold them ("RW 01", "RW.005", "RT 03/RW 05", 5.0). OSM XML boundary exports are read
directly (:mod:`geo_sigap.importers.osm_boundaries`). Every match, ambiguity, miss and
unreadable label is listed in the quality report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo_sigap.domain.admin import (
    AdminLevel,
    AdminUnit,
    level_of,
    normalize_kemendagri,
    parent_code,
    parse_rw_rt_label,
)
from geo_sigap.errors import GeoSigapError, ImportFailed
from geo_sigap.importers._columns import FieldMapping, guess_level, parent_levels
from geo_sigap.importers._geofiles import _polygonal, _read, _set_crs
from geo_sigap.importers.coding import Item, Resolver
from geo_sigap.importers.progress import Progress, null_progress
from geo_sigap.importers.quality import QualityIssue, QualityReport, layer_checks
from geo_sigap.importers.wilayah import DEFAULT_THRESHOLD, CodeList, load_code_list

__all__ = ["BoundaryImport", "FieldMapping", "apply_code_names", "existing_units",
           "import_boundaries", "read_boundaries"]

MIN_MATCHED_SHARE = 0.5  # below this share of names matched, the mapping must be wrong


@dataclass
class BoundaryImport:
    """What a boundary file holds after validation (nothing written yet)."""

    units: list[AdminUnit]
    derived: list[AdminUnit]
    report: QualityReport
    source: str
    crs: str
    source_columns: dict[str, str] = field(default_factory=dict)
    codes_source: str | None = None  # the code list names were matched to


def existing_units(db) -> list[AdminUnit]:
    """Units already imported (provinsi … kelurahan and RW), to match parents against."""
    from geo_sigap.storage.units import load_units

    with db.session() as s:
        return load_units(s, [AdminLevel.PROVINSI, AdminLevel.KABKOTA, AdminLevel.KECAMATAN,
                              AdminLevel.KELURAHAN, AdminLevel.RW])


def read_boundaries(
    path: str | Path,
    *,
    level: str | AdminLevel | None = None,
    mapping: FieldMapping | None = None,
    layer: str | None = None,
    source_crs: str | None = None,
    derive_parents: bool = True,
    codes: CodeList | str | Path | None = None,
    context: list[AdminUnit] | None = None,
    admin_levels: dict[int, AdminLevel] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Progress = null_progress,
) -> BoundaryImport:
    """Read and validate a boundary file; raise :class:`ImportFailed` if it is broken.

    Parameters
    ----------
    level
        The level of every feature (kelurahan, rw, rt, …) when the file has no ``level``
        column; otherwise inferred from each code (or from ``admin_level`` in OSM XML).
    codes
        The Kemendagri list that names are matched to (a :class:`CodeList` or a
        ``kode,nama`` CSV); default the bundled national list, loaded only when needed.
    context
        Units already imported: parents are matched to them first, and their polygons
        give parents by geometry and are checked against.
    admin_levels
        OSM ``admin_level`` → level overrides (e.g. ``{9: AdminLevel.RW}``).
    derive_parents
        Build the units one level up (e.g. kecamatan from kelurahan) by dissolving, when
        the file's parents are not loaded otherwise; their names come from the code list
        or the mapped parent-name columns.
    """
    from geo_sigap.importers.osm_boundaries import is_osm_xml, read_osm_boundaries

    path = Path(path)
    report = QualityReport()
    progress("membaca berkas", 0, 1)
    if not path.exists():
        raise ImportFailed(f"Berkas tidak ditemukan: {path}", f"File not found: {path}")
    if is_osm_xml(path):
        osm = read_osm_boundaries(path, admin_levels=admin_levels)
        gdf, crs = osm.frame, "EPSG:4326"
        for why in osm.skipped:
            report.add(QualityIssue("incomplete_relation", (), why + "; dilewati"))
        for why in osm.open_rings:
            report.add(QualityIssue("repaired_geometry", (), why))
    else:
        raw = _read(path, layer)
        if raw.empty:
            raise ImportFailed(f"{path.name} tidak berisi fitur", f"{path.name} has no features")
        gdf, crs = _set_crs(raw, path, source_crs)
        if "admin_level" in gdf.columns and "level" not in gdf.columns:  # OSM as GeoJSON/GPKG
            from geo_sigap.importers.osm_boundaries import ADMIN_LEVELS

            lv_map = {**ADMIN_LEVELS, **(admin_levels or {})}
            gdf = gdf.assign(level=[lv_map[n].name.lower() if (n := _int(v)) in lv_map else None
                                    for v in gdf["admin_level"]])
    progress("membaca berkas", 1, 1)
    fixed_level = AdminLevel.parse(level) if level is not None else None
    given = mapping or FieldMapping()
    guessed = None
    if fixed_level is None and not given.level and "level" not in gdf.columns:
        guessed = guess_level(list(gdf.columns), given)
    m = given.complete(list(gdf.columns), fixed_level or guessed, file=path.name)
    cols = ", ".join(c for c in gdf.columns if c != "geometry")
    if m.name is None and m.code is None and m.rw is None and m.rt is None:
        raise ImportFailed(
            f"{path.name}: kolom wajib tidak ditemukan: nama atau kode. Kolom yang ada: "
            f"{cols}. Petakan dengan --map name=KOLOM (dan --map code=KOLOM bila ada kode), "
            "dan sebutkan --level.",
            f"{path.name}: required column missing: a name or a code. Columns present: {cols}. "
            "Map them with --map name=COLUMN (and --map code=COLUMN if there are codes).",
            file=str(path), missing=["name"])
    items, broken = _items(gdf, m, fixed_level, report, path, progress, guessed)
    if broken:
        shown = "; ".join(broken[:10]) + (f"; dan {len(broken) - 10} lagi" if len(broken) > 10
                                          else "")
        raise ImportFailed(
            f"{path.name} ditolak, tidak ada yang diimpor: {shown}",
            f"{path.name} refused, nothing imported: {shown}",
            file=str(path), errors=broken,
        )
    code_list = None
    if any(it.code is None for it in items):
        progress("mencocokkan nama dengan kode Kemendagri", 0, 1)
        code_list = _code_list(codes, context)
        Resolver(code_list, report, context=context, threshold=threshold).resolve(items)
        progress("mencocokkan nama dengan kode Kemendagri", 1, 1)
        _refuse_if_mostly_unmatched(items, path, m)
    if codes is not None or code_list is not None:
        code_list = code_list or _code_list(codes, context)
        _check_file_codes(items, code_list, report)
    units = _units(items, report)
    if not units:
        bad = ", ".join(repr(it.name) for it in items if it.name)[:200] or "-"
        raise ImportFailed(
            f"{path.name}: tidak ada unit yang dapat diimpor: tidak ada kode Kemendagri yang "
            f"sah dan tidak ada nama yang cocok dengan daftar kode (nama: {bad}); kolom wajib: "
            "kode (--map code=KOLOM) atau nama unit (--map name=KOLOM) dengan --level. "
            f"Kolom yang ada: {cols}.",
            f"{path.name}: nothing to import: no valid Kemendagri code and no name that "
            f"matches the code list (names: {bad}). Required: a code column (--map "
            "code=COLUMN) or a unit name column (--map name=COLUMN) with --level. Columns "
            f"present: {cols}.", file=str(path))
    ulist = sorted(units.values(), key=lambda u: u.code)
    derived = _derive_parents(ulist) if derive_parents else []
    if derived:
        if code_list is None and any(u.name.endswith(u.code) for u in derived):
            code_list = _code_list(codes, None)
        if code_list is not None:
            for u in derived:
                official = code_list.name(u.code)
                if official:
                    u.name = official
    progress("memeriksa kualitas", 0, 1)
    _quality(ulist, context or [], report)
    progress("memeriksa kualitas", 1, 1)
    return BoundaryImport(ulist, derived, report, str(path), crs, m.columns(),
                          code_list.source if code_list else None)


def _code_list(codes, context) -> CodeList:
    from geo_sigap.importers.wilayah import with_units

    base = codes if isinstance(codes, CodeList) else load_code_list(codes)
    return with_units(base, context) if context else base


def _items(gdf: gpd.GeoDataFrame, m: FieldMapping, fixed: AdminLevel | None,
           report: QualityReport, path: Path, progress: Progress,
           guessed: AdminLevel | None = None) -> tuple[list[Item], list[str]]:
    """One :class:`Item` per feature; broken geometries collected (the file is refused)."""
    parents = parent_levels(m)
    items: list[Item] = []
    broken: list[str] = []
    local_ids: list[str] = []
    no_level = used_guess = 0
    n = len(gdf)
    for i, (_, row) in enumerate(gdf.iterrows()):
        if i % 200 == 0:
            progress("memeriksa fitur", i, n)
        where = f"fitur #{i + 1}"
        name = _text(row.get(m.name)) if m.name else None
        raw = _text(row.get(m.code)) if m.code else None
        code = lv = None
        if raw and (".RW" in raw or ".RT" in raw):
            try:
                code, lv = raw, level_of(raw)
            except GeoSigapError:
                code = None
        elif raw:
            try:
                code = normalize_kemendagri(raw)
            except GeoSigapError:
                local_ids.append(raw)
        lv = fixed or _row_level(row, m) or lv or (level_of(code) if code else None)
        if lv is None and guessed is not None:
            lv, used_guess = guessed, used_guess + 1
        if lv is None:
            no_level += 1
            continue
        if not name and lv in parents:  # e.g. an OSM kelurahan named only in KEL_name
            name = _text(row.get(parents[lv]))
        kel_from_code = None
        if code and level_of(code) != lv:
            if level_of(code) == AdminLevel.KELURAHAN and lv >= AdminLevel.RW:
                kel_from_code = code  # an RW file's KODE_KEL: the RW's kelurahan
            else:
                local_ids.append(raw)  # e.g. a kecamatan code in a kelurahan's column
            code = None
        geom, repaired = _polygonal(row.geometry)
        if geom is None:
            kind = "kosong" if row.geometry is None or row.geometry.is_empty else (
                f"{row.geometry.geom_type} tidak dapat diperbaiki menjadi poligon")
            broken.append(f"{where}" + (f" (kode {code})" if code else
                                        f" ({name})" if name else "") + f": geometri {kind}")
            continue
        if repaired:
            report.add(QualityIssue("repaired_geometry", (code or name or where,),
                                    f"Geometri {code or name or where} tidak valid dan telah "
                                    "diperbaiki"))
        it = Item(i, lv, name, geom,
                  parents={k: v for k, c in parents.items() if k < lv
                           and (v := _text(row.get(c)))},
                  code=code,
                  population=_int(row.get(m.population)) if m.population else None,
                  kind=_text(row.get(m.kind)) if m.kind else None,
                  parent_code=_text(row.get(m.parent_code)) if m.parent_code else None)
        if lv >= AdminLevel.RW and code is None:
            if not _numbers(it, row, m, report):
                continue
            kel = _text(row.get(m.kelurahan_code)) if m.kelurahan_code else kel_from_code
            if kel:
                try:
                    it.kelurahan_code = normalize_kemendagri(kel)
                except GeoSigapError:
                    local_ids.append(kel)
        items.append(it)
    progress("memeriksa fitur", n, n)
    if local_ids:
        shown = ", ".join(repr(x) for x in list(dict.fromkeys(local_ids))[:5])
        report.add(QualityIssue(
            "local_id_ignored", (), f"{len(local_ids)} nilai kolom kode bukan kode Kemendagri "
            f"(mis. {shown}); diabaikan, kode dicari dari nama"))
    if used_guess:
        report.add(QualityIssue(
            "inferred_level", (), f"{used_guess} fitur tanpa kode dan tanpa --level dianggap "
            f"{guessed.label} dari nama kolomnya; sebutkan --level bila bukan"))
    if no_level:
        report.add(QualityIssue(
            "unknown_level", (), f"{no_level} fitur tanpa tingkat wilayah (tidak ada kode, "
            "kolom level atau admin_level yang dikenal); dilewati. Sebutkan dengan --level "
            "atau --admin-level"))
        if not items:
            raise ImportFailed(
                f"{path.name}: tingkat wilayah tidak diketahui. Sebutkan dengan --level "
                "(mis. --level kelurahan)",
                f"{path.name}: unknown administrative level. Give it with --level "
                "(e.g. --level kelurahan)", file=str(path))
    return items, broken


def _row_level(row, m: FieldMapping) -> AdminLevel | None:
    v = _text(row.get(m.level)) if m.level else None
    if not v:
        return None
    try:
        return AdminLevel.parse(v)
    except GeoSigapError:
        return None


def _numbers(it: Item, row, m: FieldMapping, report: QualityReport) -> bool:
    """Read the RW/RT numbers of an RW/RT item; report and skip an unreadable label."""
    want = "rw" if it.level == AdminLevel.RW else "rt"
    rw_src = row.get(m.rw) if m.rw else None
    rt_src = row.get(m.rt) if m.rt else None
    own = rw_src if want == "rw" else rt_src
    if _text(own) is None:
        own = it.name
    try:
        label = parse_rw_rt_label(own, want)
    except GeoSigapError:
        what = (f"label {want.upper()} {_text(own)!r} tidak terbaca sebagai nomor "
                f"{want.upper()} (contoh yang terbaca: 'RW 05', 'RW.005', '005')"
                if _text(own) else f"tidak ada nomor {want.upper()} (kolom nomor dan nama "
                "kosong)")
        report.add(QualityIssue("unreadable_label", (), f"{it.where}: {what}; dilewati"))
        return False
    it.rw, it.rt = label.rw, label.rt
    if want == "rt" and it.rw is None and _text(rw_src) is not None:
        try:
            it.rw = parse_rw_rt_label(rw_src, "rw").rw
        except GeoSigapError:
            report.add(QualityIssue(
                "unreadable_label", (), f"{it.where}: label RW {_text(rw_src)!r} tidak "
                "terbaca; RT ini disimpan tanpa RW"))
    if label.suffix:
        report.add(QualityIssue(
            "label_suffix", (), f"{it.where}: {_text(own)!r} dibaca sebagai {want.upper()} "
            f"{getattr(label, want):03d}; akhiran {label.suffix!r} disimpan di atribut"))
        it.suffix = label.suffix
    return True


def _check_file_codes(items: list[Item], codes: CodeList, report: QualityReport) -> None:
    """Codes the file gives, against the list: unknown codes and names that disagree."""
    from rapidfuzz import fuzz

    from geo_sigap.importers.wilayah import core_name

    for it in items:
        if it.how != "file" or it.code is None or it.level > AdminLevel.KELURAHAN:
            continue
        place = codes.places.get(it.code)
        if place is None:
            report.add(QualityIssue(
                "unknown_code", (it.code,), f"{it.where}: kode {it.code} ({it.name}) tidak ada "
                f"dalam daftar kode {codes.source}"))
        elif it.name and max(fuzz.ratio(core_name(it.name, it.level)[0], c)
                             for c in place.cores) < 70:
            report.add(QualityIssue(
                "code_name_mismatch", (it.code,), f"{it.where}: kode {it.code} adalah "
                f"{place.name} menurut daftar kode, tetapi berkas menamainya {it.name!r}"))


def _refuse_if_mostly_unmatched(items: list[Item], path: Path, m: FieldMapping) -> None:
    named = [it for it in items if it.how != "file" or it.code is None]  # needed a match
    if len(named) < 4:
        return
    ok = sum(1 for it in named if it.code is not None)
    if ok >= MIN_MATCHED_SHARE * len(named):
        return
    bad = [repr(it.name) for it in named if it.code is None][:8]
    raise ImportFailed(
        f"{path.name} ditolak, tidak ada yang diimpor: hanya {ok} dari {len(named)} unit "
        f"yang namanya cocok dengan daftar kode (mis. tidak cocok: {', '.join(bad)}). "
        f"Periksa --level dan kolom nama/induk (terbaca: {m.columns()}).",
        f"{path.name} refused, nothing imported: only {ok} of {len(named)} unit names "
        f"match the code list (unmatched e.g. {', '.join(bad)}). Check --level and the "
        f"name/parent columns (read: {m.columns()}).", file=str(path))


def _units(items: list[Item], report: QualityReport) -> dict[str, AdminUnit]:
    units: dict[str, AdminUnit] = {}
    for it in items:
        if it.code is None:
            if it.level <= AdminLevel.KELURAHAN and not it.name:
                report.add(QualityIssue("missing_code", (), f"{it.where} tidak punya kode "
                                        "maupun nama; dilewati"))
            continue
        attrs = {f"parent_name.{k}": v for k, v in
                 ((next(n for n, lv in _PARENT_NAMES.items() if lv == lvl), name)
                  for lvl, name in it.parents.items())}
        if it.official_name and it.name and it.official_name != it.name:
            attrs["source_name"] = it.name
        if it.suffix:
            attrs["label_suffix"] = it.suffix
        if it.how != "file":
            attrs["code_from"] = it.how
        name = it.official_name or it.name
        if it.level >= AdminLevel.RW and (not name or _is_label(name)):
            name = (f"RT {it.code.rsplit('RT', 1)[1]}" if it.level == AdminLevel.RT
                    else f"RW {it.code.rsplit('RW', 1)[1]}")
        unit = AdminUnit(code=it.code, level=it.level, name=name or it.code,
                         parent_code=it.parent_code or parent_code(it.code),
                         geometry=it.geometry, population=it.population, kind=it.kind,
                         attrs=attrs)
        if it.code in units:
            report.add(QualityIssue("duplicate_code", (it.code,),
                                    f"Kode {it.code} muncul lebih dari sekali ({it.where}); "
                                    "bagian-bagiannya digabung"))
            prev = units[it.code]
            prev.geometry = _polygonal(shapely.union_all([prev.geometry, it.geometry]))[0]
            if it.population is not None:
                prev.population = (prev.population or 0) + it.population
            continue
        units[it.code] = unit
    return units


_PARENT_NAMES = {"provinsi": AdminLevel.PROVINSI, "kabupaten_kota": AdminLevel.KABKOTA,
                 "kecamatan": AdminLevel.KECAMATAN, "kelurahan": AdminLevel.KELURAHAN}


def _is_label(name: str) -> bool:
    try:
        parse_rw_rt_label(name, "rw")
        return True
    except GeoSigapError:
        return False


def _quality(units: list[AdminUnit], context: list[AdminUnit], report: QualityReport) -> None:
    """Whole-layer checks; parents are this file's other levels and the database's units."""
    frame = gpd.GeoDataFrame(
        {"code": [u.code for u in units], "parent_code": [u.parent_code for u in units],
         "level": [int(u.level) for u in units]},
        geometry=[u.geometry for u in units], crs="EPSG:4326")
    mine = {u.code for u in units}
    up = [u for u in context if u.code not in mine and u.geometry is not None] + units
    parents = gpd.GeoDataFrame(
        {"code": [u.code for u in up], "parent_code": [u.parent_code for u in up],
         "level": [int(u.level) for u in up]},
        geometry=[u.geometry for u in up], crs="EPSG:4326")
    layer_checks(frame, report, parents=parents)


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
        **({"names_matched": data.report.match_summary()} if data.report.matches else {}),
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
