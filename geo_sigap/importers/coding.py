"""Giving Kemendagri codes to units that only have names (and RW/RT numbers).

Levels are resolved top-down (provinsi → … → kelurahan → RW → RT). For each unit the
scope of its parent is found first — from the parent names the file holds (matched to
units already in the database, then to the code list), else from geometry (the unit
already imported, or in this file, that holds most of its polygon) — and its own name is
matched inside that scope. When a file names no parent at all, the kabupaten/kota is
inferred from the names themselves (the one that explains most of them). Two same-named
candidates with different parents are told apart by the parents of the unit's already
matched neighbours. Every match, ambiguity and miss is recorded.

Geometries are EPSG:4326; containment shares are area ratios, so degrees are fine.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.strtree import STRtree

from geo_sigap.domain.admin import AdminLevel, AdminUnit, rt_code, rw_code
from geo_sigap.importers.quality import QualityIssue, QualityReport
from geo_sigap.importers.wilayah import DEFAULT_THRESHOLD, CodeList, Match

NAMED_LEVELS = (AdminLevel.PROVINSI, AdminLevel.KABKOTA, AdminLevel.KECAMATAN,
                AdminLevel.KELURAHAN)
_CONTAINED = 0.5  # share of a unit's area a parent must hold to be "its" parent


@dataclass
class Item:
    """One feature waiting for its code."""

    index: int  # feature number, 0-based
    level: AdminLevel
    name: str | None
    geometry: Any
    parents: dict[AdminLevel, str] = field(default_factory=dict)  # names the file gives
    code: str | None = None  # from the file (valid) or resolved here
    rw: int | None = None
    rt: int | None = None
    kelurahan_code: str | None = None
    official_name: str | None = None
    how: str = "file"  # how the code was found
    suffix: str | None = None  # "RW 1 A" → "A"
    population: int | None = None
    kind: str | None = None
    parent_code: str | None = None  # an explicit parent_code column

    @property
    def where(self) -> str:
        return f"fitur #{self.index + 1}"


class _Anchors:
    """Polygons with codes per level (database and this file), for containment."""

    def __init__(self, units: list[AdminUnit]) -> None:
        self._geoms: dict[AdminLevel, list[tuple[str, Any]]] = {}
        self._trees: dict[AdminLevel, STRtree | None] = {}
        for u in units:
            if u.geometry is not None and not u.geometry.is_empty:
                self.add(u.level, u.code, u.geometry)

    def add(self, level: AdminLevel, code: str, geom: Any) -> None:
        if geom is None or geom.is_empty:
            return
        self._geoms.setdefault(level, []).append((code, geom))
        self._trees.pop(level, None)

    def has(self, level: AdminLevel) -> bool:
        return bool(self._geoms.get(level))

    def _tree(self, level: AdminLevel) -> STRtree | None:
        if level not in self._trees:
            g = self._geoms.get(level)
            self._trees[level] = STRtree([x[1] for x in g]) if g else None
        return self._trees[level]

    def shares(self, geom: Any, level: AdminLevel) -> list[tuple[str, float]]:
        """(code, share of ``geom``'s area inside it), largest first."""
        tree = self._tree(level)
        if tree is None or geom is None or geom.is_empty:
            return []
        area = geom.area or 1e-30
        out: dict[str, float] = {}
        for i in tree.query(geom, predicate="intersects"):
            code, other = self._geoms[level][int(i)]
            share = shapely.intersection(geom, other).area / area
            out[code] = out.get(code, 0.0) + share
        return sorted(out.items(), key=lambda t: -t[1])

    def container(self, geom: Any, level: AdminLevel) -> str | None:
        s = self.shares(geom, level)
        return s[0][0] if s and s[0][1] >= _CONTAINED else None

    def neighbours(self, geom: Any, level: AdminLevel) -> list[str]:
        tree = self._tree(level)
        if tree is None or geom is None:
            return []
        return [self._geoms[level][int(i)][0]
                for i in tree.query(geom.buffer(1e-5), predicate="intersects")]


class Resolver:
    """Assign codes to :class:`Item` s in place; see the module docstring."""

    def __init__(self, codes: CodeList, report: QualityReport, *,
                 context: list[AdminUnit] | None = None,
                 threshold: float = DEFAULT_THRESHOLD) -> None:
        self.codes = codes
        self.report = report
        self.threshold = threshold
        self.anchors = _Anchors(context or [])
        self._parent_cache: dict[tuple, Match] = {}

    # -- public ----------------------------------------------------------------------

    def resolve(self, items: list[Item]) -> None:
        levels = sorted({it.level for it in items})
        for level in levels:
            todo = [it for it in items if it.level == level]
            pending = [it for it in todo if it.code is None]
            for it in todo:
                if it.code is not None:
                    self.anchors.add(level, it.code, it.geometry)
            if pending:
                if level <= AdminLevel.KELURAHAN:
                    self._resolve_named(pending, level)
                else:
                    self._resolve_numbered(pending, level)
            for it in pending:
                if it.code is not None:
                    self.anchors.add(level, it.code, it.geometry)

    # -- named levels (provinsi … kelurahan) -----------------------------------------

    def _resolve_named(self, pending: list[Item], level: AdminLevel) -> None:
        deferred, ambiguous = [], []
        for it in pending:
            if not it.name:
                self._record(it, Match("missing"), "tanpa nama")
                continue
            scope = self._scope(it, level)
            if scope is None and level >= AdminLevel.KECAMATAN:
                deferred.append(it)
                continue
            cands = None if scope is None else self._under(scope, level)
            m = self.codes.match(it.name, level, cands, threshold=self.threshold)
            if m.status == "ambiguous":
                ambiguous.append((it, m))
            else:
                self._record(it, m, "nama" if scope is None else "nama dalam induknya")
        if deferred:
            ambiguous += self._infer_scope(deferred, level)
        done = _Anchors([])  # neighbours need their codes first: a second pass
        for it in pending:
            if it.code is not None:
                done.add(level, it.code, it.geometry)
        for it, m in ambiguous:
            self._by_neighbours(it, m, level, done)

    def _scope(self, it: Item, level: AdminLevel) -> list[str] | None:
        """Candidate codes of the unit's nearest known ancestor (``None``: unknown)."""
        chain = self._chain(it, level)
        return chain[-1] if chain else None

    def _chain(self, it: Item, level: AdminLevel) -> list[list[str]]:
        """The scopes found from the top down to ``level - 1`` (each a list of codes)."""
        chain: list[list[str]] = []
        for k in NAMED_LEVELS:
            if k >= level:
                break
            scope = chain[-1] if chain else None
            name = it.parents.get(k)
            if name:
                m = self._match_parent(name, k, chain)
                if m.ok:
                    chain.append([m.code])
                    continue
                if m.status == "ambiguous":
                    chain.append(list(m.candidates))
                    continue
            g = self.anchors.container(it.geometry, k) if self.anchors.has(k) else None
            if g and (scope is None or any(g == s or g.startswith(s + ".") for s in scope)):
                chain.append([g])
        return chain

    def _match_parent(self, name: str, level: AdminLevel, chain: list[list[str]]) -> Match:
        """A parent's name in the deepest scope, widening one step when it is not there
        (a parent column that names the wrong kecamatan)."""
        scopes = [chain[-1]] if chain else [None]
        if len(chain) >= 2:
            scopes.append(chain[-2])
        for scope in scopes:
            key = (level, name, tuple(scope) if scope else None)
            if key not in self._parent_cache:
                cands = None if scope is None else self._under(scope, level)
                if cands is None and level == AdminLevel.KELURAHAN:
                    m = self._exact_match(name, level)
                else:
                    m = self.codes.match(name, level, cands, threshold=self.threshold)
                self._parent_cache[key] = m
                if m.status != "missing" or scope is scopes[-1]:
                    self._record_parent(level, name, m)
            m = self._parent_cache[key]
            if m.status != "missing":
                return m
        return m

    def _exact_match(self, name: str, level: AdminLevel) -> Match:
        cands = self._exact(name, level)
        if len(cands) == 1:
            return Match("exact", cands[0], self.codes.name(cands[0]), 100.0, cands)
        return Match("ambiguous" if cands else "missing", None, None,
                     100.0 if cands else 0.0, cands)

    def _under(self, scope: list[str], level: AdminLevel) -> list[str]:
        out: list[str] = []
        for s in scope:
            out += [s] if self.codes.places.get(s) and self.codes.places[s].level == level \
                else self.codes.descendants(s, level)
        return out

    def _infer_scope(self, deferred: list[Item], level: AdminLevel) -> list[tuple[Item, Match]]:
        """No parent named or found by geometry: the kab/kota explaining most names."""
        remaining = list(deferred)
        ambiguous: list[tuple[Item, Match]] = []
        while remaining:
            votes: Counter[str] = Counter()
            for it in remaining:
                kotas = {c[:5] for c in self._exact(it.name, level)}
                for k in kotas:
                    votes[k] += 1.0 / len(kotas)
            if not votes:
                break
            top, v = votes.most_common(1)[0]
            if v < 2 and len(remaining) > 1:
                break
            cands = self.codes.descendants(top, level)
            left, hits = [], 0
            for it in remaining:
                m = self.codes.match(it.name, level, cands, threshold=self.threshold)
                if m.status == "ambiguous":
                    ambiguous.append((it, m))
                    hits += 1
                elif m.ok:
                    self._record(it, m, f"nama; induk disimpulkan {top}")
                    hits += 1
                else:
                    left.append(it)
            self.report.add(QualityIssue(
                "inferred_parent", (top,),
                f"Berkas tidak menyebut kabupaten/kota; dari nama-nama unit disimpulkan "
                f"{self.codes.name(top)} ({top}): {hits} dari {len(remaining)} nama cocok"))
            if hits == 0:
                break
            remaining = left
        for it in remaining:  # a name found once in the whole country is still that one
            cands = self._exact(it.name, level)
            if len(cands) == 1:
                self._record(it, Match("exact", cands[0], self.codes.name(cands[0]), 100.0,
                                       cands), "nama (satu-satunya di Indonesia)")
            else:
                self._record(it, Match("ambiguous" if cands else "missing", None, None,
                                       100.0 if cands else 0.0, cands),
                             "nama (induk tidak diketahui)")
        return ambiguous

    def _exact(self, name: str, level: AdminLevel) -> list[str]:
        return self.codes.exact(name, level) if name else []

    def _by_neighbours(self, it: Item, m: Match, level: AdminLevel, done: _Anchors) -> None:
        cands = m.candidates
        # the database / this file may hold the right parent polygon
        up = self.anchors.container(it.geometry, AdminLevel(level - 1)) if level > 1 else None
        inside = [c for c in cands if up and c.rsplit(".", 1)[0] == up]
        if len(inside) == 1:
            self._record(it, Match("exact" if m.score >= 100 else "fuzzy", inside[0],
                                   self.codes.name(inside[0]), m.score, cands),
                         "nama + poligon induk")
            return
        parents = Counter(n.rsplit(".", 1)[0] for n in done.neighbours(it.geometry, level))
        ranked = sorted(((parents.get(c.rsplit(".", 1)[0], 0), c) for c in cands), reverse=True)
        runner_up = ranked[1][0] if len(ranked) > 1 else 0
        if ranked and ranked[0][0] >= 2 and ranked[0][0] > 2 * runner_up:  # a clear majority
            c = ranked[0][1]
            self._record(it, Match("exact" if m.score >= 100 else "fuzzy", c,
                                   self.codes.name(c), m.score, cands), "nama + tetangga")
            return
        self._record(it, m, "nama")

    # -- RW / RT ---------------------------------------------------------------------

    def _resolve_numbered(self, pending: list[Item], level: AdminLevel) -> None:
        for it in pending:
            kel = it.kelurahan_code or self._kelurahan_of(it)
            if kel is None:
                continue
            rw = it.rw
            if level == AdminLevel.RT and rw is None and self.anchors.has(AdminLevel.RW):
                g = self.anchors.container(it.geometry, AdminLevel.RW)
                if g and g.startswith(kel + "."):
                    rw = int(g.rsplit("RW", 1)[1])
            it.code = rt_code(kel, rw, it.rt) if level == AdminLevel.RT else rw_code(kel, rw)
            if it.how == "file":
                it.how = "nomor + nama kelurahan" if it.kelurahan_code is None else \
                    "nomor + kode kelurahan"
            self.report.match(it.index, it.level, it.name, it.code, None, "exact", 100.0,
                              [it.code], it.how)

    def _kelurahan_of(self, it: Item) -> str | None:
        chain = self._chain(it, AdminLevel.KELURAHAN)
        name = it.parents.get(AdminLevel.KELURAHAN)
        if name:
            m = self._match_parent(name, AdminLevel.KELURAHAN, chain)
            if m.ok:
                return m.code
            if m.status == "ambiguous":
                for c, share in self.anchors.shares(it.geometry, AdminLevel.KELURAHAN):
                    if c in m.candidates and share >= _CONTAINED:
                        return c
        g = self.anchors.container(it.geometry, AdminLevel.KELURAHAN)
        if g and (not chain or any(g.startswith(s + ".") or g == s for s in chain[0])):
            it.how = "nomor + kelurahan dari poligon"
            return g
        said = f" (berkas menyebut {name!r}, tidak ada dalam daftar kode)" if name else ""
        self.report.add(QualityIssue(
            "no_parent", (), f"{it.where} ({it.name or it.level.label}): kelurahannya tidak "
            f"diketahui{said} dan tidak ada poligon kelurahan berkode yang memuatnya; "
            "dilewati"))
        self.report.match(it.index, it.level, it.name, None, None, "missing", 0.0, [],
                          "kelurahan tidak diketahui")
        return None

    # -- the record --------------------------------------------------------------------

    def _record(self, it: Item, m: Match, via: str) -> None:
        if m.ok:
            it.code, it.official_name, it.how = m.code, m.name, f"{m.status}: {via}"
            if it.kind is None and it.level == AdminLevel.KELURAHAN:
                it.kind = self.codes.places[m.code].kind  # kelurahan / desa, from the code
        self.report.match(it.index, it.level, it.name, m.code, m.name, m.status, m.score,
                          m.candidates, via)
        label = f"{it.where} {it.level.label} {it.name!r}"
        if m.status == "fuzzy":
            self.report.add(QualityIssue(
                "fuzzy_match", (m.code,), f"{label} dicocokkan (kemiripan {m.score:.0f}%) "
                f"dengan {m.name} ({m.code})"))
        elif m.status == "ambiguous":
            names = ", ".join(f"{self.codes.name(c)} ({c})" for c in m.candidates[:5])
            self.report.add(QualityIssue(
                "ambiguous_name", tuple(m.candidates), f"{label} cocok dengan lebih dari satu "
                f"unit: {names}; dilewati. Tambahkan kolom kecamatan/kota (--map parent.…)"))
        elif m.status == "missing":
            near = (f"; terdekat: {self.codes.name(m.candidates[0])} ({m.candidates[0]}, "
                    f"{m.score:.0f}%)") if m.candidates else ""
            self.report.add(QualityIssue(
                "unmatched_name", (), f"{label} tidak ditemukan dalam daftar kode "
                f"{self.codes.source}{near}; dilewati"))

    def _record_parent(self, level: AdminLevel, name: str, m: Match) -> None:
        self.report.parent_match(level, name, m.code, m.name, m.status, m.score, m.candidates)
        if m.status == "fuzzy":
            self.report.add(QualityIssue(
                "fuzzy_match", (m.code,), f"Induk {level.label} {name!r} dicocokkan "
                f"(kemiripan {m.score:.0f}%) dengan {m.name} ({m.code})"))
        elif m.status == "missing":
            self.report.add(QualityIssue(
                "unmatched_parent", (), f"Induk {level.label} {name!r} tidak ditemukan; "
                "unit di bawahnya dicocokkan tanpa induk ini"))

