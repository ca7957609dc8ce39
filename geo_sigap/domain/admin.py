"""Administrative units: provinsi → kabupaten/kota → kecamatan → kelurahan/desa → RW → RT.

Kemendagri codes identify units down to kelurahan/desa (``15.71.11.1003``). RW and RT
are numbered inside a kelurahan; their stable derived codes are
``<kelurahan>.RW002`` and ``<kelurahan>.RW002.RT005`` (RT numbered inside its RW), or
``<kelurahan>.RT005`` when the RT's RW is not known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from geo_sigap.errors import InvalidInput


class AdminLevel(IntEnum):
    PROVINSI = 1
    KABKOTA = 2
    KECAMATAN = 3
    KELURAHAN = 4
    RW = 5
    RT = 6

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]

    @classmethod
    def parse(cls, value: str | int | AdminLevel) -> AdminLevel:
        if isinstance(value, AdminLevel):
            return value
        if isinstance(value, int):
            return cls(value)
        key = value.strip().lower().replace("/", "_").replace(" ", "_").replace("-", "_")
        try:
            return _LEVEL_ALIASES[key]
        except KeyError:
            raise InvalidInput(
                f"Tingkat wilayah tidak dikenal: {value!r}",
                f"Unknown administrative level: {value!r}",
                value=value,
            ) from None


_LEVEL_LABELS = {
    AdminLevel.PROVINSI: "Provinsi",
    AdminLevel.KABKOTA: "Kabupaten/Kota",
    AdminLevel.KECAMATAN: "Kecamatan",
    AdminLevel.KELURAHAN: "Kelurahan/Desa",
    AdminLevel.RW: "RW",
    AdminLevel.RT: "RT",
}

_LEVEL_ALIASES = {
    "provinsi": AdminLevel.PROVINSI, "province": AdminLevel.PROVINSI,
    "kabupaten_kota": AdminLevel.KABKOTA, "kabkota": AdminLevel.KABKOTA,
    "kabupaten": AdminLevel.KABKOTA, "kota": AdminLevel.KABKOTA, "regency": AdminLevel.KABKOTA,
    "kecamatan": AdminLevel.KECAMATAN, "district": AdminLevel.KECAMATAN,
    "kelurahan": AdminLevel.KELURAHAN, "desa": AdminLevel.KELURAHAN,
    "desa_kelurahan": AdminLevel.KELURAHAN, "kelurahan_desa": AdminLevel.KELURAHAN,
    "village": AdminLevel.KELURAHAN,
    "rw": AdminLevel.RW, "rt": AdminLevel.RT,
}

# 15 | 15.71 | 15.71.11 | 15.71.11.1003
_KEMENDAGRI = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
_RW_RT = re.compile(r"^(?P<kel>\d{2}\.\d{2}\.\d{2}\.\d{4})(\.RW(?P<rw>\d{3}))?(\.RT(?P<rt>\d{3}))?$")


def normalize_kemendagri(code: object) -> str:
    """Return a Kemendagri code in dotted form; accepts ``1571111003`` or ``15.71.11.1003``.

    Raises :class:`InvalidInput` for anything else.
    """
    text = str(code).strip() if code is not None else ""
    if text.endswith(".0") and text[:-2].isdigit():  # numbers read as floats from CSV
        text = text[:-2]
    if text.isdigit() and len(text) in (2, 4, 6, 10):
        parts = [text[0:2], text[2:4], text[4:6], text[6:10]]
        text = ".".join(p for p in parts if p)
    if not _KEMENDAGRI.match(text):
        raise InvalidInput(
            f"Kode Kemendagri tidak sah: {code!r} (contoh: 15.71.11.1003)",
            f"Invalid Kemendagri code: {code!r} (example: 15.71.11.1003)",
            code=str(code),
        )
    return text


def level_of(code: str) -> AdminLevel:
    """The administrative level a code denotes."""
    m = _RW_RT.match(code)
    if m:
        if m.group("rt"):
            return AdminLevel.RT
        if m.group("rw"):
            return AdminLevel.RW
        return AdminLevel.KELURAHAN
    if _KEMENDAGRI.match(code):
        return AdminLevel(code.count(".") + 1)
    raise InvalidInput(
        f"Kode wilayah tidak dikenal: {code!r}", f"Unknown area code: {code!r}", code=code
    )


def parent_code(code: str) -> str | None:
    """Code of the unit one level up (``None`` for a provinsi).

    The parent of an RT coded without RW is its kelurahan.
    """
    level = level_of(code)
    if level == AdminLevel.PROVINSI:
        return None
    return code.rsplit(".", 1)[0]


def rw_code(kelurahan_code: str, rw: int | str) -> str:
    """Stable code of RW number ``rw`` in a kelurahan: ``15.71.11.1003.RW002``."""
    return f"{normalize_kemendagri(kelurahan_code)}.RW{_number(rw, 'RW'):03d}"


def rt_code(kelurahan_code: str, rw: int | str | None, rt: int | str) -> str:
    """Stable code of an RT: ``15.71.11.1003.RW002.RT005`` (or ``….RT005`` without RW)."""
    base = normalize_kemendagri(kelurahan_code)
    if rw is not None and str(rw).strip() != "":
        base = rw_code(base, rw)
    return f"{base}.RT{_number(rt, 'RT'):03d}"


def ancestors(code: str) -> list[str]:
    """All codes from the provinsi down to ``code`` itself, top first."""
    out = [code]
    parent = parent_code(code)
    while parent is not None:
        out.append(parent)
        parent = parent_code(parent)
    return out[::-1]


def _number(value: int | str, what: str) -> int:
    try:
        n = int(str(value).strip().lstrip("0") or "0")
    except ValueError:
        raise InvalidInput(
            f"Nomor {what} tidak sah: {value!r}", f"Invalid {what} number: {value!r}"
        ) from None
    if not 0 < n < 1000:
        raise InvalidInput(
            f"Nomor {what} harus 1–999: {value!r}", f"{what} number must be 1–999: {value!r}"
        )
    return n


@dataclass(slots=True)
class AdminUnit:
    """One administrative unit. Geometry is EPSG:4326 lon/lat (shapely), or ``None``."""

    code: str
    level: AdminLevel
    name: str
    parent_code: str | None = None
    geometry: Any = None
    population: int | None = None
    kind: str | None = None  # "kelurahan" / "desa" where known
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int | None:
        """RW/RT number inside its kelurahan (``None`` above RW)."""
        if self.level < AdminLevel.RW:
            return None
        return int(self.code.rsplit(".", 1)[1][2:])


@dataclass(frozen=True, slots=True)
class RwRtLabel:
    """An RW/RT label as read from a file: numbers and an optional letter suffix."""

    rw: int | None = None
    rt: int | None = None
    suffix: str | None = None  # "RW 1 A" → rw 1, suffix "A"


_LABEL_PART = re.compile(
    r"\b(?P<kind>R\W*W|R\W*T|RUKUN\s+WARGA|RUKUN\s+TETANGGA)\W*(?:NO\W*|NOMOR\W*)?"
    r"(?P<num>\d{1,3})(?:\s*[-.]?\s*(?P<suf>[A-Z])\b)?", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^(?:NO\W*|NOMOR\W*)?(?P<num>\d{1,3})(?:\.0+)?"
                          r"(?:\s*[-.]?\s*(?P<suf>[A-Z]))?$", re.IGNORECASE)


def parse_rw_rt_label(value: object, expect: str = "rw") -> RwRtLabel:
    """Read RW/RT numbers from a label as real files hold them.

    ``"RW 01"``, ``"RW18"``, ``"RW.005"``, ``"RW 1 A"``, ``"001"``, ``"RT 03/RW 05"``,
    ``5``, ``5.0``, ``"Rukun Warga 7"``. A bare number is the ``expect`` level ("rw" or
    "rt"). Raises :class:`InvalidInput` for a label without a number 1–999 (e.g. a place
    name such as "Makam Belanda").
    """
    if isinstance(value, bool) or value is None:
        raise InvalidInput("Label RW/RT kosong", "Empty RW/RT label", value=value)
    if isinstance(value, int | float):
        if value != value or value != int(value):  # NaN or 5.5
            raise InvalidInput(f"Label RW/RT tidak sah: {value!r}",
                               f"Invalid RW/RT label: {value!r}", value=value)
        value = str(int(value))
    text = str(value).strip()
    found: dict[str, int] = {}
    suffix = None
    for m in _LABEL_PART.finditer(text):
        kind = "rw" if re.sub(r"\W", "", m.group("kind").upper()) in ("RW", "RUKUNWARGA") \
            else "rt"
        found.setdefault(kind, int(m.group("num")))
        if kind == expect and m.group("suf"):
            suffix = m.group("suf").upper()
    if not found:
        m = _BARE_NUMBER.match(text)
        if m:
            found[expect] = int(m.group("num"))
            suffix = m.group("suf").upper() if m.group("suf") else None
    if expect not in found or not all(0 < n < 1000 for n in found.values()):
        raise InvalidInput(f"Label {expect.upper()} tidak terbaca: {text!r}",
                           f"Unreadable {expect.upper()} label: {text!r}", value=text)
    return RwRtLabel(found.get("rw"), found.get("rt"), suffix)
