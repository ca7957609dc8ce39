"""The Kemendagri code list and matching of unit names to it.

The national list (91,599 rows, Kepmendagri 2025, cahyadsn/wilayah, MIT) is bundled
compressed in ``geo_sigap/data/wilayah/``; a ``kode,nama`` CSV given with ``--names``
replaces it. Names are compared after :func:`normalize_name` (case, accents, spacing,
punctuation, old spelling, roman numerals) and with the level's own prefixes removed
(:func:`core_name`: "Kel.", "Kec.", "Kab.", "Kota Adm." …), first exactly, then fuzzily
(rapidfuzz ``ratio`` ≥ ``threshold``). A match is always searched inside a scope — the
children of an already matched parent — so that two kelurahan of the same name in
different kecamatan keep their own codes.
"""

from __future__ import annotations

import csv
import io
import lzma
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from geo_sigap.domain.admin import AdminLevel, level_of, normalize_kemendagri
from geo_sigap.errors import GeoSigapError, ImportFailed

BUNDLED_LIST = (Path(__file__).resolve().parents[1] / "data" / "wilayah"
                / "kode_wilayah_kepmendagri_2025.csv.xz")
DEFAULT_THRESHOLD = 86.0  # rapidfuzz ratio (0–100) a fuzzy match must reach
_AMBIGUITY_MARGIN = 2.0  # two candidates closer than this are ambiguous

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
          "viii": "8", "ix": "9", "x": "10", "xi": "11", "xii": "12"}
_WORDS = {"sei": "sungai", "sg": "sungai", "kp": "kampung", "kamp": "kampung",
          "tg": "tanjung", "tj": "tanjung", "tjg": "tanjung", "psr": "pasar", "spg": "simpang",
          "smpg": "simpang", "dsn": "dusun", "mns": "meunasah", "gn": "gunung", "gng": "gunung"}
_OLD_SPELLING = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("sj", "sy"), ("nj", "ny"))
_PREFIXES: dict[AdminLevel, tuple[str, ...]] = {
    AdminLevel.PROVINSI: ("provinsi", "propinsi", "prov", "daerah istimewa", "di", "dki"),
    AdminLevel.KABKOTA: ("kabupaten administrasi", "kabupaten adm", "kab adm",
                         "kota administrasi", "kota adm", "kotamadya", "kodya", "kabupaten",
                         "kab", "kota", "kot"),
    AdminLevel.KECAMATAN: ("kecamatan", "kec", "kapanewon", "kemantren", "distrik"),
    AdminLevel.KELURAHAN: ("kelurahan", "kel", "desa", "ds", "nagari", "gampong"),
}


def normalize_name(text: object) -> str:
    """Lower-case ASCII words: ``"KEL. Sungai Putri-II"`` → ``"kel sungai putri 2"``."""
    s = unicodedata.normalize("NFKD", str(text or ""))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = re.sub(r"['`’‘]", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    s = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", s)
    words = []
    for w in s.split():
        w = _ROMAN.get(w, _WORDS.get(w, w))
        for old, new in _OLD_SPELLING:
            w = w.replace(old, new)
        words.append(w)
    return " ".join(words)


def core_name(text: object, level: AdminLevel) -> tuple[str, str | None]:
    """The normalised name without its level's prefix, and the kind the prefix named.

    ``("KOTA JAMBI", KABKOTA)`` → ``("jambi", "kota")``; ``("Kab. Bekasi", KABKOTA)`` →
    ``("bekasi", "kabupaten")``; ``("Kel. Eka Jaya", KELURAHAN)`` → ``("eka jaya",
    "kelurahan")``.
    """
    s = normalize_name(text)
    kind = None
    for prefix in _PREFIXES.get(level, ()):
        if s.startswith(prefix + " ") and len(s) > len(prefix) + 1:
            s = s[len(prefix) + 1:]
            kind = {"kab": "kabupaten", "kot": "kota", "kel": "kelurahan", "ds": "desa",
                    "kec": "kecamatan"}.get(prefix.split()[0], prefix.split()[0])
            break
    return s, kind


def _key(core: str) -> str:
    return core.replace(" ", "")


@dataclass
class Place:
    code: str
    name: str
    level: AdminLevel
    kind: str | None = None  # kota / kabupaten, kelurahan / desa
    cores: list[str] = field(default_factory=list)


@dataclass
class Match:
    """The result of matching one name: ``status`` exact, fuzzy, ambiguous or missing."""

    status: str
    code: str | None = None
    name: str | None = None
    score: float = 0.0
    candidates: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code is not None


class CodeList:
    """Kemendagri places by code, with name indexes per level and the parent tree."""

    def __init__(self, rows: list[tuple[str, str]], source: str) -> None:
        self.source = source
        self.places: dict[str, Place] = {}
        self.children: dict[str | None, list[str]] = {}
        self._keys: dict[tuple[AdminLevel, str], list[str]] = {}
        self.in_db: set[str] = set()
        for code, name in rows:
            self._add(code, name)

    def _add(self, code: str, name: str) -> None:
        level = level_of(code)
        core, kind = core_name(name, level)
        if level == AdminLevel.KABKOTA and kind is None:
            kind = "kota" if name.lower().startswith("kota") else "kabupaten"
        if level == AdminLevel.KELURAHAN and kind is None and re.search(r"\.\d{4}$", code):
            kind = "kelurahan" if code[-4] == "1" else "desa"
        place = self.places.get(code)
        if place is None:
            place = self.places[code] = Place(code, name.strip(), level, kind)
            parent = code.rsplit(".", 1)[0] if "." in code else None
            self.children.setdefault(parent, []).append(code)
        if core and core not in place.cores:
            place.cores.append(core)
            self._keys.setdefault((level, _key(core)), []).append(code)

    @classmethod
    def from_csv(cls, path: str | Path) -> CodeList:
        """A ``kode,nama`` CSV (``.csv``, ``.csv.xz`` or ``.csv.gz``); other columns ignored."""
        path = Path(path)
        if not path.exists():
            raise ImportFailed(f"Daftar kode tidak ditemukan: {path}",
                               f"Code list not found: {path}", file=str(path))
        try:
            if path.suffix == ".xz":
                text = lzma.decompress(path.read_bytes()).decode("utf-8-sig")
            elif path.suffix == ".gz":
                import gzip

                text = gzip.decompress(path.read_bytes()).decode("utf-8-sig")
            else:
                text = path.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError, lzma.LZMAError) as exc:
            raise ImportFailed(f"Daftar kode {path.name} tidak dapat dibaca: {exc}",
                               f"Cannot read the code list {path.name}: {exc}") from exc
        reader = csv.DictReader(io.StringIO(text))
        cols = {c.strip().lower(): c for c in reader.fieldnames or []}
        kode = cols.get("kode") or cols.get("code") or cols.get("kode_wilayah")
        nama = cols.get("nama") or cols.get("name") or cols.get("nama_wilayah")
        if not kode or not nama:
            raise ImportFailed(
                f"{path.name}: daftar kode perlu kolom kode dan nama (ada: "
                f"{', '.join(reader.fieldnames or [])})",
                f"{path.name}: a code list needs columns kode and nama (found: "
                f"{', '.join(reader.fieldnames or [])})", file=str(path))
        rows = []
        for r in reader:
            try:
                rows.append((normalize_kemendagri(r[kode]), (r[nama] or "").strip()))
            except GeoSigapError:
                continue
        rows.sort(key=lambda t: t[0].count("."))  # parents before children
        return cls(rows, source=path.name)

    def add_units(self, units) -> None:
        """Units already in the database: their names become aliases, matched first."""
        for u in units:
            if u.level <= AdminLevel.KELURAHAN:
                self._add(u.code, u.name)
                self.in_db.add(u.code)

    # -- queries ---------------------------------------------------------------------

    def name(self, code: str) -> str | None:
        p = self.places.get(code)
        return p.name if p else None

    def descendants(self, code: str | None, level: AdminLevel) -> list[str]:
        """Codes at ``level`` under ``code`` (``None``: the whole list)."""
        if code is None:
            return [c for c, p in self.places.items() if p.level == level]
        out, frontier = [], [code]
        while frontier:
            nxt = []
            for c in frontier:
                for k in self.children.get(c, []):
                    (out if self.places[k].level == level else nxt).append(k)
            frontier = [c for c in nxt if self.places[c].level < level]
        return out

    def exact(self, name: str, level: AdminLevel, scope: list[str] | None = None
              ) -> list[str]:
        """Codes whose normalised name equals ``name``'s (no fuzzy step), narrowed by the
        kind the name's prefix gives and by units already in the database."""
        core, kind = core_name(name, level)
        if not core:
            return []
        allowed = set(scope) if scope is not None else None
        exact = [c for c in self._keys.get((level, _key(core)), [])
                 if allowed is None or c in allowed]
        if not exact and kind is None:  # a name that *is* "Kota Baru" (kecamatan in Jambi)
            full = normalize_name(name)
            exact = [c for c in self._keys.get((level, _key(full)), [])
                     if allowed is None or c in allowed]
        exact = list(dict.fromkeys(exact))
        if len(exact) > 1 and kind in ("kota", "kabupaten", "kelurahan", "desa"):
            same = [c for c in exact if self.places[c].kind == kind]
            exact = same or exact
        if len(exact) > 1:
            db = [c for c in exact if c in self.in_db]
            exact = db if len(db) == 1 else exact
        return exact

    def match(self, name: str, level: AdminLevel, scope: list[str] | None = None, *,
              threshold: float = DEFAULT_THRESHOLD) -> Match:
        """Match ``name`` at ``level`` among ``scope`` (codes at that level; ``None``: all)."""
        core, kind = core_name(name, level)
        if not core:
            return Match("missing")
        exact = self.exact(name, level, scope)
        if len(exact) == 1:
            c = exact[0]
            return Match("exact", c, self.places[c].name, 100.0, [c])
        if exact:
            return Match("ambiguous", None, None, 100.0, sorted(exact))
        pool = scope if scope is not None else self.descendants(None, level)
        choices = {}
        for c in pool:
            p = self.places.get(c)
            if p is None:
                continue
            for i, cc in enumerate(p.cores):
                choices[(c, i)] = cc
        if not choices:
            return Match("missing")
        compact = {k: _key(v) for k, v in choices.items()}  # "Kali Rungkut" = "Kalirungkut"
        found = (process.extract(core, choices, scorer=fuzz.ratio, limit=5,
                                 score_cutoff=threshold)
                 + process.extract(_key(core), compact, scorer=fuzz.ratio, limit=5,
                                   score_cutoff=threshold))
        best: dict[str, float] = {}
        for _, score, (c, _i) in found:
            best[c] = max(best.get(c, 0.0), score)
        ranked = sorted(best.items(), key=lambda t: -t[1])
        if not ranked:
            near = process.extractOne(core, choices, scorer=fuzz.ratio)
            cand = [near[2][0]] if near else []
            return Match("missing", None, None, float(near[1]) if near else 0.0, cand)
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < _AMBIGUITY_MARGIN:
            return Match("ambiguous", None, None, ranked[0][1],
                         [c for c, s in ranked if ranked[0][1] - s < _AMBIGUITY_MARGIN])
        c, score = ranked[0]
        return Match("fuzzy", c, self.places[c].name, round(score, 1), [c])


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> CodeList:  # noqa: ARG001 - mtime keys the cache
    return CodeList.from_csv(path)


def load_code_list(path: str | Path | None = None) -> CodeList:
    """The code list at ``path``, or the bundled national list (cached; never modified:
    callers that add database units get a copy from :func:`with_units`)."""
    p = Path(path) if path else BUNDLED_LIST
    if not p.exists():
        raise ImportFailed(f"Daftar kode tidak ditemukan: {p}", f"Code list not found: {p}")
    return _load(str(p.resolve()), p.stat().st_mtime)


def with_units(codes: CodeList, units) -> CodeList:
    """A copy of ``codes`` that also knows ``units`` (already imported) by their names."""
    import copy

    out = copy.copy(codes)
    out.places = dict(codes.places)
    out.children = {k: list(v) for k, v in codes.children.items()}
    out._keys = dict(codes._keys)
    out.in_db = set()
    units = list(units)
    for u in units:  # copy-on-write for the entries that units touch
        if u.code in out.places:
            p = out.places[u.code]
            out.places[u.code] = Place(p.code, p.name, p.level, p.kind, list(p.cores))
    for key in {(u.level, _key(core_name(u.name, u.level)[0])) for u in units}:
        if key in out._keys:
            out._keys[key] = list(out._keys[key])
    out.add_units(units)
    return out
