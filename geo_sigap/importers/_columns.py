"""Which column of a boundary file holds which field: mapping options, TOML, synonyms.

Column names are matched case-insensitively (``--map name=nama_kel`` finds
``NAMA_KEL``). Fields that are not mapped are looked up among the usual names of
Indonesian files (BIG ``NAMOBJ``/``WADMKC``, ``NAMA_KEL``, ``KECAMATAN``, ``KOTA``,
``RW`` …); a recognised column is reported in ``source_columns``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.errors import GeoSigapError, ImportFailed

PARENT_KEYS = {"provinsi": AdminLevel.PROVINSI, "kabupaten_kota": AdminLevel.KABKOTA,
               "kecamatan": AdminLevel.KECAMATAN, "kelurahan": AdminLevel.KELURAHAN}

_CODE = ("code", "KDEPUM", "kode", "kode_wilayah", "kode_kemendagri", "kd_kel", "kode_kel",
         "kode_desa", "kd_desa", "kdepum")
_NAME = ("name", "NAMOBJ", "nama", "nama_wilayah", "nm", "nama_unit")
_NAME_BY_LEVEL = {
    AdminLevel.PROVINSI: ("provinsi", "nama_prov", "nama_provinsi", "wadmpr", "prov_name"),
    AdminLevel.KABKOTA: ("nama_kab", "nama_kota", "kabupaten", "kota", "kab_kota",
                         "nama_kabkota", "wadmkk", "kab_name"),
    AdminLevel.KECAMATAN: ("nama_kec", "kecamatan", "nama_kecamatan", "wadmkc", "kec_name"),
    AdminLevel.KELURAHAN: ("nama_kel", "nama_desa", "kelurahan", "desa", "nama_kelurahan",
                           "desa_kel", "kel_desa", "wadmkd", "kel_name", "desa_name"),
    AdminLevel.RW: ("nama_rw", "rw_name"),
    AdminLevel.RT: ("nama_rt", "rt_name"),
}
_PARENT = {
    "provinsi": ("wadmpr", "provinsi", "nama_prov", "nama_provinsi", "prov", "propinsi",
                 "prov_name"),
    "kabupaten_kota": ("wadmkk", "kabupaten_kota", "kab_kota", "kabkota", "kota", "kabupaten",
                       "nama_kab", "nama_kota", "nama_kabkota", "kab_name", "kab"),
    "kecamatan": ("wadmkc", "kecamatan", "nama_kec", "nama_kecamatan", "kec", "kec_name"),
    "kelurahan": ("wadmkd", "kelurahan", "desa", "nama_kel", "nama_desa", "nama_kelurahan",
                  "desa_kel", "kel_desa", "kel", "kel_name", "desa_name"),
}
_OPTIONAL = {
    "level": ("level", "tingkat"),
    "parent_code": ("parent_code", "kode_induk"),
    "population": ("population", "penduduk", "jumlah_penduduk", "jml_penduduk", "jiwa"),
    "kind": ("kind", "jenis"),
    "rw": ("rw", "no_rw", "nomor_rw", "rw_no", "nama_rw"),
    "rt": ("rt", "no_rt", "nomor_rt", "rt_no", "nama_rt"),
    "kelurahan_code": ("kelurahan_code", "kode_kel_induk"),
}


@dataclass
class FieldMapping:
    """Which source column holds which field (``None``: not present)."""

    code: str | None = None
    name: str | None = None
    level: str | None = None
    parent_code: str | None = None
    population: str | None = None
    kind: str | None = None
    rw: str | None = None  # RW number/label column (to derive RW/RT codes)
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
        m._check_parents()
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
                    f"Bidang tidak dikenal dalam pemetaan: {key!r} (bidang: "
                    f"{', '.join(k for k in cls.__dataclass_fields__ if k != 'parents')}, "
                    "parent.kecamatan, parent.kabupaten_kota, parent.provinsi, "
                    "parent.kelurahan)",
                    f"Unknown field in mapping: {key!r}",
                )
        m._check_parents()
        return m

    def _check_parents(self) -> None:
        for k in list(self.parents):
            key = k.strip().lower().replace("/", "_")
            key = {"kota": "kabupaten_kota", "kabupaten": "kabupaten_kota", "kab": "kabupaten_kota",
                   "kabkota": "kabupaten_kota", "desa": "kelurahan", "kec": "kecamatan",
                   "kel": "kelurahan", "prov": "provinsi"}.get(key, key)
            if key not in PARENT_KEYS:
                raise ImportFailed(
                    f"Induk tidak dikenal dalam pemetaan: parent.{k} (pakai parent.provinsi, "
                    "parent.kabupaten_kota, parent.kecamatan atau parent.kelurahan)",
                    f"Unknown parent in mapping: parent.{k} (use parent.provinsi, "
                    "parent.kabupaten_kota, parent.kecamatan or parent.kelurahan)")
            if key != k:
                self.parents[key] = self.parents.pop(k)

    def merged(self, other: FieldMapping) -> FieldMapping:
        """This mapping with ``other``'s set fields on top."""
        out = FieldMapping(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        out.parents = dict(self.parents)
        for k in self.__dataclass_fields__:
            v = getattr(other, k)
            if k == "parents":
                out.parents.update(v)
            elif v:
                setattr(out, k, v)
        return out

    def complete(self, columns: list[str], level: AdminLevel | None = None,
                 *, file: str = "") -> FieldMapping:
        """Resolve mapped columns case-insensitively and fill unmapped fields by synonyms.

        Raises :class:`ImportFailed` when a mapped column is not in the file.
        """
        lower = {c.lower(): c for c in columns if c != "geometry"}
        out = FieldMapping()
        missing = []

        def find(col: str) -> str | None:
            return col if col in columns else lower.get(col.lower())

        for k in self.__dataclass_fields__:
            if k == "parents":
                continue
            v = getattr(self, k)
            if v:
                got = find(v)
                if got is None:
                    missing.append(f"{k}={v}")
                setattr(out, k, got)
        for k, v in self.parents.items():
            got = find(v)
            if got is None:
                missing.append(f"parent.{k}={v}")
            out.parents[k] = got
        if missing:
            cols = ", ".join(c for c in columns if c != "geometry")
            raise ImportFailed(
                f"{file}: kolom yang dipetakan tidak ada: {', '.join(missing)}. "
                f"Kolom yang ada: {cols}",
                f"{file}: mapped column(s) not in the file: {', '.join(missing)}. "
                f"Columns present: {cols}", file=file, missing=missing)
        used = {v for v in [getattr(out, k) for k in out.__dataclass_fields__ if k != "parents"]
                + list(out.parents.values()) if v}

        def pick(names) -> str | None:
            for n in names:
                c = lower.get(n.lower())
                if c and c not in used:
                    used.add(c)
                    return c
            return None

        if out.code is None:
            out.code = pick(_CODE)
        if out.name is None:
            out.name = pick(_NAME) or (pick(_NAME_BY_LEVEL.get(level, ())) if level else None)
        for k, names in _OPTIONAL.items():
            if getattr(out, k) is None and not (k in ("rw", "rt") and level is not None
                                                and level < AdminLevel.RW):
                setattr(out, k, pick(names))
        for key, names in _PARENT.items():
            if key in out.parents:
                continue
            if level is not None and PARENT_KEYS[key] >= level:
                continue
            col = pick(names)
            if col:
                out.parents[key] = col
        return out

    def columns(self) -> dict[str, str]:
        """field → source column, for the report."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__
               if k != "parents" and getattr(self, k)}
        out.update({f"parent.{k}": v for k, v in self.parents.items() if v})
        return out


def guess_level(columns: list[str], mapping: FieldMapping) -> AdminLevel | None:
    """The level a file without codes or ``--level`` most likely holds, from its columns:
    an RT/RW number column, else the column its names are in (``NAMA_KEL`` → kelurahan),
    else the deepest level one of its columns is named after."""
    lower = {c.lower() for c in columns}
    if mapping.rt or lower & set(_OPTIONAL["rt"]):
        return AdminLevel.RT
    if mapping.rw or lower & set(_OPTIONAL["rw"]):
        return AdminLevel.RW
    if mapping.name:
        for lv, names in _NAME_BY_LEVEL.items():
            if mapping.name.lower() in names:
                return lv
    parents = {v.lower() for v in mapping.parents.values()}
    for lv in (AdminLevel.KELURAHAN, AdminLevel.KECAMATAN, AdminLevel.KABKOTA):
        if (lower - parents) & set(_NAME_BY_LEVEL[lv]):
            return lv
    return None


def parent_levels(m: FieldMapping) -> dict[AdminLevel, str]:
    return {PARENT_KEYS[k]: c for k, c in m.parents.items() if c}


__all__ = ["FieldMapping", "GeoSigapError", "guess_level", "parent_levels"]
