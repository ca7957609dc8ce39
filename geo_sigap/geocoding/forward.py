"""Forward geocoding, offline: address text → ranked candidate locations.

Searches what is loaded: administrative units (RT/RW/kelurahan/kecamatan names and
numbers), named streets and alleys from the road network, and landmarks from a
gazetteer. Clues are combined: a street or landmark together with an RT or kelurahan
gives the part of the street inside that unit, and a landmark inside the stated
kelurahan ranks before one of the same name elsewhere. Typos are tolerated with
rapidfuzz. Every candidate carries a confidence in 0..1, the level matched and a
GeoJSON geometry (EPSG:4326) to show; when several different places score alike they
are all returned with ``ambiguous=True`` — never silently resolved.

Confidence = fuzzy similarity (0..1) × a factor for how the clue was used:

============================================  ======
clue                                          factor
============================================  ======
RT/RW number inside a named kelurahan         0.97
street/alley/landmark inside the named unit   0.95
… in the kelurahan, not in the named RT/RW   0.85
named kelurahan / kecamatan alone             0.90
street/alley/landmark, no area stated         0.88
any match of untyped words                    0.80
RT number without a kelurahan                 0.60
street/landmark outside the stated area       0.55
============================================  ======

When a street or landmark was found inside the stated unit, the candidates that are
only the unit (RT, kelurahan …) are multiplied by 0.9: the text said more than that.
``near=(lon, lat)`` multiplies by ``0.85 + 0.15·exp(−d / 2 km)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from typing import Any, NamedTuple

import geopandas as gpd
import shapely
from rapidfuzz import fuzz, process
from shapely.geometry import mapping

from geo_sigap.domain.admin import AdminLevel
from geo_sigap.domain.incidents import Placement
from geo_sigap.errors import GeoSigapError
from geo_sigap.geocoding._matching import clusters as _clusters
from geo_sigap.geocoding._matching import number_factor as _number_factor
from geo_sigap.geocoding._matching import split_kind as _split_kind
from geo_sigap.geocoding.normalize import ALLEY_WORDS, core_name, normalize, parse_address
from geo_sigap.geocoding.reverse import ReverseGeocoder
from geo_sigap.geocoding.units import UnitTable, unit_table

_RT_RE = re.compile(r"RT(\d{3})$")
_RW_RE = re.compile(r"RW(\d{3})")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible location for a text.

    ``level``: ``rt``, ``rw``, ``kelurahan``, ``kecamatan``, ``street``, ``gang``
    (alley/lorong) or ``landmark``. ``lon, lat``: a point to put the pin (EPSG:4326);
    ``geometry``: GeoJSON of the thing matched (the RT polygon, the part of the street
    inside the stated unit …).
    """

    label: str
    level: str
    confidence: float
    lon: float
    lat: float
    geometry: dict[str, Any] | None
    placement: Placement | None = None
    ambiguous: bool = False
    code: str | None = None
    matched: str = ""
    notes: tuple[Note, ...] = ()
    source: str = "offline"

    def to_dict(self, locale: str = "id") -> dict[str, Any]:
        """JSON shape; ``notes`` in ``locale`` (``id`` or ``en``)."""
        p = self.placement
        return {
            "label": self.label, "level": self.level,
            "confidence": round(self.confidence, 3), "lon": self.lon, "lat": self.lat,
            "geometry": self.geometry, "ambiguous": self.ambiguous, "code": self.code,
            "matched": self.matched, "notes": [n.text(locale) for n in self.notes], "source": self.source,
            "placement": None if p is None else {
                "description": p.describe(), "codes": p.unit_codes, "flags": list(p.flags)},
        }


@dataclass(slots=True)
class _Entry:
    level: str
    label: str
    key: str  # normalised text to match
    geom: Any
    code: str | None = None
    kind: str | None = None
    kel_code: str | None = None
    placement: Placement | None = None
    number: tuple[int | None, int | None] = (None, None)  # (rw, rt)
    lonlat: tuple[float, float] = (math.nan, math.nan)


@dataclass(slots=True)
class _Found:
    entry: _Entry
    score: float  # 0..1
    factor: float
    geom: Any = None
    notes: list[Note] = field(default_factory=list)
    matched: str = ""


class ForwardGeocoder:
    """Offline text search over units, streets and a gazetteer (see module doc).

    Parameters
    ----------
    units
        :class:`AdminUnit` list, a GeoDataFrame (``code, name, level, parent_code,
        geometry``) or a :class:`UnitTable`; EPSG:4326.
    streets
        GeoDataFrame of lines with a ``name`` column (e.g. from
        :func:`geo_sigap.geocoding.sources.streets_from_osm`), or ``None``.
    gazetteer
        GeoDataFrame of points with ``name`` and ``kind`` (from
        :func:`geo_sigap.geocoding.sources.load_gazetteer`), or ``None``.
    reverse
        Reverse geocoder used to place candidates; built from ``units`` when omitted.
    """

    def __init__(self, units: Any, streets: gpd.GeoDataFrame | None = None,
                 gazetteer: gpd.GeoDataFrame | None = None, *,
                 reverse: ReverseGeocoder | None = None) -> None:
        self.units: UnitTable = unit_table(units)
        self.reverse = reverse or ReverseGeocoder(self.units)
        self._kel: list[_Entry] = []
        self._kec: list[_Entry] = []
        self._rt: dict[str, list[_Entry]] = {}  # kelurahan code → RT entries
        self._rw: dict[str, list[_Entry]] = {}
        self._streets: list[_Entry] = []
        self._landmarks: list[_Entry] = []
        self._build_units()
        if streets is not None and len(streets):
            self._build_streets(streets)
        if gazetteer is not None and len(gazetteer):
            self._build_gazetteer(gazetteer)
        self._kel_keys = [e.key for e in self._kel]
        self._kec_keys = [e.key for e in self._kec]
        self._kel_by_key: dict[str, list[_Entry]] = {}
        self._kec_by_key: dict[str, list[_Entry]] = {}
        for e in self._kel:
            self._kel_by_key.setdefault(e.key, []).append(e)
        for e in self._kec:
            self._kec_by_key.setdefault(e.key, []).append(e)
        # known unit names, read before landmark words by parse_address
        self._areas: dict[tuple[str, ...], str] = {}
        for key, kind in [*((k, "kelurahan") for k in self._kel_by_key),
                          *((k, "kecamatan") for k in self._kec_by_key)]:
            toks = tuple(key.split())
            if toks:
                old = self._areas.get(toks)
                self._areas[toks] = kind if old in (None, kind) else "area"
        self._street_keys = [e.key for e in self._streets]
        self._landmark_keys = [e.key for e in self._landmarks]
        split = [_split_kind(k) for k in self._landmark_keys]
        self._landmark_kinds = [k for k, _ in split]
        self._landmark_cores = [c or k for k, c in split]

    # ------------------------------------------------------------------ building
    def _place(self, e: _Entry) -> None:
        if e.geom is None or e.geom.is_empty:
            return
        if e.geom.geom_type in ("Point",):
            pt = e.geom
        elif e.geom.geom_type in ("LineString", "MultiLineString"):
            pt = e.geom.interpolate(e.geom.project(e.geom.centroid))
        else:
            pt = e.geom.representative_point()
        e.lonlat = (float(pt.x), float(pt.y))
        try:
            res = self.reverse.locate(pt.x, pt.y)
        except GeoSigapError:
            return
        if not res.outside_coverage:
            e.placement = res.placement
            e.kel_code = res.placement.kelurahan_code

    def _build_units(self) -> None:
        f = self.units.frame
        for code, row in f.iterrows():
            level = AdminLevel(int(row["level"]))
            geom = row.geometry if row["polygonal"] else None
            name = "" if row["name"] is None else str(row["name"])
            if level == AdminLevel.KELURAHAN:
                e = _Entry("kelurahan", f"Kel. {name}", core_name(name), geom, code, kel_code=code)
                self._kel.append(e)
            elif level == AdminLevel.KECAMATAN:
                self._kec.append(_Entry("kecamatan", f"Kec. {name}", core_name(name), geom, code))
            elif level in (AdminLevel.RT, AdminLevel.RW):
                kel = next((a for a in self.units.ancestors(code)
                            if self.units.level(a) == AdminLevel.KELURAHAN), None)
                rt_m, rw_m = _RT_RE.search(code), _RW_RE.search(code)
                rw = int(rw_m.group(1)) if rw_m else None
                rt = int(rt_m.group(1)) if rt_m and level == AdminLevel.RT else None
                kname = self.units.name(kel) if kel else None
                label = ("RT %03d" % rt if rt else "") + (" / " if rt and rw else "") + (
                    "RW %03d" % rw if rw else "")
                label = (label or name) + (f", Kel. {kname}" if kname else "")
                e = _Entry(level.label.lower(), label, normalize(name), geom, code,
                           kel_code=kel, number=(rw, rt))
                (self._rt if level == AdminLevel.RT else self._rw).setdefault(
                    kel or "", []).append(e)
        for e in [*self._kel, *self._kec, *(x for v in self._rt.values() for x in v),
                  *(x for v in self._rw.values() for x in v)]:
            self._place(e)

    def _build_streets(self, streets: gpd.GeoDataFrame) -> None:
        by_name: dict[str, list[Any]] = {}
        label_of: dict[str, str] = {}
        for name, geom in zip(streets["name"], streets.geometry.values):
            if not isinstance(name, str) or geom is None or geom.is_empty:
                continue
            key = normalize(name)
            by_name.setdefault(key, []).append(geom)
            label_of.setdefault(key, name.strip())
        for key in sorted(by_name):
            merged = shapely.line_merge(shapely.union_all(by_name[key]))
            for part in _clusters(merged):
                level = "gang" if key.split(" ", 1)[0] in ALLEY_WORDS else "street"
                e = _Entry(level, label_of[key], core_name(key), part)
                self._place(e)
                self._streets.append(e)

    def _build_gazetteer(self, gaz: gpd.GeoDataFrame) -> None:
        kinds = gaz["kind"] if "kind" in gaz else [""] * len(gaz)
        for name, kind, geom in zip(gaz["name"], kinds, gaz.geometry.values):
            if not isinstance(name, str) or geom is None or geom.is_empty:
                continue
            e = _Entry("landmark", name.strip(), normalize(name), geom, kind=str(kind or ""))
            self._place(e)
            self._landmarks.append(e)

    # ------------------------------------------------------------------ search
    def search(self, text: str, limit: int = 5, near: tuple[float, float] | None = None
               ) -> list[Candidate]:
        """Ranked candidates for ``text`` (best first, at most ``limit``); never raises
        for any string. ``near`` is an optional (lon, lat) to favour."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        parsed = parse_address(text, self._areas)
        if not parsed.normalized.strip():
            return []
        found: list[_Found] = []
        kel_hits = self._area_hits(parsed)
        context = self._admin_candidates(parsed, kel_hits, found)
        typed = False
        for ph in parsed.phrases:
            if ph.kind in ("street", "alley") and ph.text:
                typed = True
                self._match_lines(ph.text, ph.kind, context, found, 1.0)
            elif ph.kind == "landmark" and ph.text:
                typed = True
                self._match_landmarks(ph.text, context, found, 1.0)
        for ph in parsed.phrases:
            if ph.kind == "free" and ph.text:
                self._match_lines(ph.text, None, context, found, 0.80 / 0.88)
                self._match_landmarks(ph.text, context, found, 0.80 / 0.88)
        if not found and not typed:
            self._match_kel(parsed.normalized, found, 0.80)
        if any(p.kind == "alley" and not p.text for p in parsed.phrases):
            self._alley_near_landmark(found)
        return self._rank(found, limit, near)

    def _area_hits(self, parsed: Any) -> list[tuple[_Entry, float]]:
        """Kelurahan named in the text, best first.

        A phrase that is exactly a loaded unit's name (read by :func:`parse_address`
        before any landmark word) is that unit: "Pasar Jambi" is the kelurahan, not a
        market. Addresses go from small to large, so the first kelurahan named is the
        one meant; a later name that is its kecamatan ("Kel. Payo Selincah Paal Merah")
        confirms it and is read as the kecamatan; other later names score 10 % less.
        Typed (``Kel. …``) phrases and names inside other words are matched fuzzily.
        """
        hits: dict[str, tuple[_Entry, float]] = {}
        rank = 0

        def add(e: _Entry, score: float) -> None:
            nonlocal rank
            score *= 0.9 ** min(rank, 1)
            if score > hits.get(e.code or "", (e, 0.0))[1]:
                hits[e.code or ""] = (e, score)

        for ph in parsed.phrases:
            if ph.known and ph.kind in ("kelurahan", "area"):
                named = self._kel_by_key.get(ph.text, [])
                kec_of_hits = {self.units.parent(h.code or "") for h, _ in hits.values()}
                kec_here = {e.code for e in self._kec_by_key.get(ph.text, [])}
                if ph.kind == "area" and hits and kec_here & kec_of_hits:
                    ph.kind = "kecamatan"  # "… Payo Selincah Paal Merah": the kecamatan
                    continue
                if ph.kind == "area":
                    ph.kind = "kelurahan"
                for e in named:
                    add(e, 1.0)
                rank += 1
            elif ph.kind == "area":  # pragma: no cover - only known phrases are "area"
                ph.kind = "kelurahan"
            elif ph.kind == "kelurahan" and ph.text and self._kel_keys:
                for _, score, i in process.extract(ph.text, self._kel_keys, scorer=fuzz.WRatio,
                                                   limit=3, score_cutoff=75):
                    add(self._kel[i], score / 100)
                rank += 1
            elif ph.kind in ("free", "landmark") and ph.text and self._kel_keys:
                words = ph.text.split()
                start = len((ph.keyword or "").split()) if ph.kind == "landmark" else 0
                for n in (4, 3, 2, 1):
                    done = False
                    for i in range(start, len(words) - n + 1):
                        gram = " ".join(words[i:i + n])
                        if len(gram) < 4:
                            continue
                        best = process.extractOne(gram, self._kel_keys, scorer=fuzz.ratio,
                                                  score_cutoff=88)
                        if best:
                            add(self._kel[best[2]], best[1] / 100)
                            ph.text = " ".join(words[:i] + words[i + n:])
                            done = True
                            break
                    if done:
                        rank += 1
                        break
        # a kecamatan named with a kelurahan: confirms the kelurahan inside it
        kec_named = {e.code for ph in parsed.phrases if ph.kind == "kecamatan" and ph.known
                     for e in self._kec_by_key.get(ph.text, [])}
        if kec_named and any(self.units.parent(h.code or "") in kec_named
                             for h, _ in hits.values()):
            hits = {c: (e, s if self.units.parent(c) in kec_named else s * 0.9)
                    for c, (e, s) in hits.items()}
        return sorted(hits.values(), key=lambda h: -h[1])

    def _admin_candidates(self, parsed: Any, kel_hits: list[tuple[_Entry, float]],
                          found: list[_Found]) -> list[tuple[Any, float, int]]:
        """Add RT/RW/kelurahan candidates; return areas (geometry, score) to combine with."""
        context: list[tuple[Any, float, int]] = []
        rt, rw = parsed.rt, parsed.rw
        kels = kel_hits or []
        if rt or rw:
            pool = [(k, s) for k, s in kels] or [(None, 1.0)]
            for kel, kscore in pool:
                table = self._rt if rt else self._rw
                lists = [table.get(kel.code, [])] if kel else list(table.values())
                matches = [e for lst in lists for e in lst
                           if (rt is None or e.number[1] == rt) and (rw is None or e.number[0] == rw
                                                                      or e.number[0] is None)]
                if rt and rw is None and kel is None:
                    matches = matches[:50]
                for e in matches:
                    factor = 0.97 if kel else 0.60
                    notes = [] if kel else [_NOTE_NO_KELURAHAN]
                    found.append(_Found(e, kscore, factor, notes=notes, matched=parsed.normalized))
                    if e.geom is not None:
                        context.append((e.geom, kscore, 0))
                if kel is not None and matches and kel.geom is not None:
                    context.append((kel.geom, kscore, 1))  # wider: the RT may be misheard
                if rt and rw and not matches:
                    # no such RT (or no RT layer): the RW is the most precise level there is
                    rws = [e for lst in ([self._rw.get(kel.code, [])] if kel else
                                         list(self._rw.values()))
                           for e in lst if e.number[0] == rw]
                    for e in rws[:50]:
                        found.append(_Found(e, kscore, 0.93 if kel else 0.60, notes=[Note(
                            f"RT {rt:03d} tidak ada di data wilayah; ditampilkan RW-nya",
                            f"RT {rt:03d} is not in the area data; showing its RW")],
                            matched=parsed.normalized))
                        if e.geom is not None:
                            context.append((e.geom, kscore, 0))
                    if kel is not None and rws and kel.geom is not None:
                        context.append((kel.geom, kscore, 1))
                    matches = rws
                if kel is not None and not matches:
                    what = " / ".join(f"{k} {v:03d}" for k, v in (("RT", rt), ("RW", rw)) if v)
                    found.append(_Found(kel, kscore, 0.75, notes=[Note(
                        f"{what} tidak ada di data wilayah; ditampilkan kelurahannya",
                        f"{what} is not in the area data; showing its kelurahan")],
                        matched=parsed.normalized))
                    if kel.geom is not None:
                        context.append((kel.geom, kscore, 0))
        else:
            for kel, kscore in kels:
                found.append(_Found(kel, kscore, 0.90, matched=kel.key))
                if kel.geom is not None:
                    context.append((kel.geom, kscore, 0))
        kec_of_kels = {self.units.parent(k.code or "") for k, _ in kels}
        for ph in parsed.phrases:
            if ph.kind == "kecamatan" and ph.text and self._kec_keys:
                for _, score, i in process.extract(ph.text, self._kec_keys, scorer=fuzz.WRatio,
                                                   limit=2, score_cutoff=80):
                    e = self._kec[i]
                    if e.code in kec_of_kels:
                        continue  # it only says which kecamatan the kelurahan is in
                    found.append(_Found(e, score / 100, 0.90, matched=ph.text))
                    if e.geom is not None and not context:
                        context.append((e.geom, score / 100, 0))
        return context

    def _match_kel(self, text: str, found: list[_Found], factor: float) -> None:
        if not self._kel_keys:
            return
        for _, score, i in process.extract(text, self._kel_keys, scorer=fuzz.WRatio, limit=3,
                                           score_cutoff=80):
            found.append(_Found(self._kel[i], score / 100, factor, matched=text))

    def _match_lines(self, text: str, kind: str | None, context: list[tuple[Any, float, int]],
                     found: list[_Found], factor_scale: float) -> None:
        if not self._street_keys or len(text) < 2:
            return
        for _, score, i in process.extract(text, self._street_keys, scorer=fuzz.WRatio,
                                           limit=8, score_cutoff=72):
            e = self._streets[i]
            s = score / 100
            if kind == "alley" and e.level != "gang" or kind == "street" and e.level == "gang":
                s *= 0.9
            s *= _number_factor(text, e.key)
            self._with_context(e, s, context, found, factor_scale, text)

    def _match_landmarks(self, text: str, context: list[tuple[Any, float, int]],
                         found: list[_Found], factor_scale: float) -> None:
        """Landmarks: the kind word (masjid, sd, pasar …) and the distinctive rest of the
        name are scored apart, so "pasar angso duo" does not match every pasar."""
        if not self._landmark_keys or len(text) < 2:
            return
        q_kind, q_core = _split_kind(text)
        if not q_core:
            if not q_kind:
                return
            # kind only ("kantor lurah", "masjid"): every landmark of that kind, which
            # the stated area (if any) then narrows down
            hits = [(i, 0.90) for i, k in enumerate(self._landmark_kinds) if k == q_kind]
            if not context:
                hits = hits[:20]
        else:
            hits = []
            for _, score, i in process.extract(q_core, self._landmark_cores, scorer=fuzz.WRatio,
                                               limit=10, score_cutoff=70):
                sc = score / 100
                if q_kind and self._landmark_kinds[i] and self._landmark_kinds[i] != q_kind:
                    sc *= 0.85
                sc *= _number_factor(q_core, self._landmark_cores[i])
                hits.append((i, sc))
            if not q_kind:  # untyped words may still be a whole name
                for _, score, i in process.extract(text, self._landmark_keys,
                                                   scorer=fuzz.ratio, limit=5, score_cutoff=80):
                    hits.append((i, score / 100))
        for i, sc in hits:
            self._with_context(self._landmarks[i], sc, context, found, factor_scale, text)

    def _with_context(self, e: _Entry, s: float, context: list[tuple[Any, float, int]],
                      found: list[_Found], factor_scale: float, text: str) -> None:
        if not context:
            found.append(_Found(e, s, 0.88 * factor_scale, matched=text))
            return
        for tier, factor, note in ((0, 0.95, None), (1, 0.85, _NOTE_WIDER)):
            placed = False
            for area, ascore, t in context:
                if t != tier:
                    continue
                part = e.geom.intersection(area) if e.geom.geom_type != "Point" else (
                    e.geom if area.covers(e.geom) else None)
                if part is not None and not part.is_empty and (
                        part.geom_type == "Point" or part.length > 0):
                    found.append(_Found(e, s * (0.5 + 0.5 * ascore), factor * factor_scale,
                                        geom=part, matched=text, notes=[note] if note else []))
                    placed = True
            if placed:
                return
        found.append(_Found(e, s, 0.55 * factor_scale, matched=text, notes=[_NOTE_OUTSIDE]))

    def _alley_near_landmark(self, found: list[_Found]) -> None:
        """"di gang sebelah masjid X": alleys within 200 m of a landmark found."""
        gangs = [e for e in self._streets if e.level == "gang"]
        for f in [f for f in found if f.entry.level == "landmark"][:3]:
            pt = f.entry.geom
            for g in gangs:
                d_m = g.geom.distance(pt) * 111_320
                if d_m <= 200:
                    found.append(_Found(g, f.score, f.factor * 0.9 * (1 - d_m / 1000),
                                        notes=[Note(
                                            f"Gang terdekat dari {f.entry.label} (±{d_m:.0f} m)",
                                            f"Nearest alley to {f.entry.label} (±{d_m:.0f} m)")], matched=f.matched))

    # ------------------------------------------------------------------ ranking
    def _rank(self, found: list[_Found], limit: int, near: tuple[float, float] | None
              ) -> list[Candidate]:
        best: dict[tuple[str, str, int], tuple[float, _Found]] = {}
        combined = any(f.geom is not None for f in found)
        for f in found:
            conf = max(0.0, min(1.0, f.score * f.factor))
            if combined and f.entry.level in _ADMIN_LEVELS:
                conf *= _ADMIN_ALONE  # the text said more than the area alone
            if near is not None and all(map(math.isfinite, f.entry.lonlat)):
                d = _metres(near, f.entry.lonlat)
                conf *= 0.85 + 0.15 * math.exp(-d / 2000)
            geom = f.geom if f.geom is not None else f.entry.geom
            key = (f.entry.level, f.entry.code or f.entry.label, id(f.entry.geom)
                   if f.geom is None else hash(geom.wkb))
            if key not in best or conf > best[key][0]:
                best[key] = (conf, f)
        ranked = sorted(best.values(), key=lambda t: (-t[0], _DEPTH.get(t[1].entry.level, 9),
                                                      t[1].entry.label))
        out: list[Candidate] = []
        for conf, f in ranked[: max(limit, 1) * 3]:
            out.append(self._candidate(f, conf))
        out = _mark_ambiguous(out)
        return out[:limit]

    def _candidate(self, f: _Found, conf: float) -> Candidate:
        e = f.entry
        geom = f.geom if f.geom is not None else e.geom
        lon, lat = e.lonlat
        placement = e.placement
        if f.geom is not None and f.geom is not e.geom and not f.geom.is_empty:
            pt = f.geom if f.geom.geom_type == "Point" else f.geom.interpolate(
                f.geom.project(f.geom.centroid)) if "Line" in f.geom.geom_type else \
                f.geom.representative_point()
            lon, lat = float(pt.x), float(pt.y)
            try:
                placement = self.reverse.locate(lon, lat).placement
            except GeoSigapError:
                pass
        label = e.label
        if e.level in ("street", "gang", "landmark") and placement is not None:
            label = f"{e.label} — {placement.describe()}"
        return Candidate(label, e.level, round(conf, 4), lon, lat,
                         mapping(geom) if geom is not None else None, placement, False,
                         e.code, f.matched, tuple(f.notes))


class Note(NamedTuple):
    """A remark on a candidate, in Bahasa Indonesia (``id``) and English (``en``)."""

    id: str
    en: str

    def text(self, locale: str = "id") -> str:
        return self.en if locale == "en" else self.id


_NOTE_WIDER = Note("Di kelurahan yang disebut, tetapi tidak di RT/RW yang disebut",
                   "In the kelurahan named, but not in the RT/RW named")
_NOTE_OUTSIDE = Note("Tidak berada di wilayah yang disebut", "Not inside the area named")
_NOTE_NO_KELURAHAN = Note("Kelurahan tidak disebut; nomor RT ada di beberapa kelurahan",
                          "No kelurahan named; this RT number exists in several kelurahan")
_ADMIN_LEVELS = frozenset({"rt", "rw", "kelurahan", "kecamatan"})
_ADMIN_ALONE = 0.9
_DEPTH = {"landmark": 0, "rt": 1, "gang": 2, "street": 3, "rw": 4, "kelurahan": 5,
          "kecamatan": 6}


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx = 111_195 * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 111_195)


def _mark_ambiguous(cands: list[Candidate], *, margin: float = 0.08,
                    distinct_m: float = 150.0) -> list[Candidate]:
    """Candidates within ``margin`` of the best that are different places (more than
    ``distinct_m`` apart and neither inside the unit the other is) are all marked
    ambiguous."""
    if len(cands) < 2:
        return cands
    top = cands[0].confidence
    close = [c for c in cands if c.confidence >= top - margin]
    if len(close) < 2:
        return cands
    amb = set()
    for i, a in enumerate(close):
        for b in close[i + 1:]:
            far = not (math.isfinite(a.lon) and math.isfinite(b.lon)) or _metres(
                (a.lon, a.lat), (b.lon, b.lat)) > distinct_m
            if far and not (_nested(a, b) or _nested(b, a)):
                amb.update((id(a), id(b)))
    if not amb:
        return cands
    from dataclasses import replace
    return [replace(c, ambiguous=True) if id(c) in amb else c for c in cands]


def _nested(outer: Candidate, inner: Candidate) -> bool:
    """``inner`` lies inside the unit ``outer`` is (a landmark inside the kelurahan
    named): one answer at two depths, not two places."""
    return bool(outer.code and outer.level in _ADMIN_LEVELS and inner.placement is not None
                and outer.code in inner.placement.unit_codes)


# ---------------------------------------------------------------- landmark + street
_NEAR_STREET_M = 300.0  # "depan/dekat X, Jl. Y": X within this of Y is the one meant


def search_with_street(geocoder: ForwardGeocoder, text: str, limit: int = 5,
                       near: tuple[float, float] | None = None
                       ) -> list[tuple[Candidate, dict[str, Any] | None]]:
    """:meth:`ForwardGeocoder.search`, then a landmark named together with a street
    ("depan Masjid Al-Ikhlas, Jl. Lingkar Selatan") is the one nearest that street.

    Returns ``(candidate, near_street)`` pairs, best first. When the candidates hold
    both landmarks and streets, every landmark gets ``near_street = {"street", "distance_m"}``
    (metres to the nearest street candidate); landmarks within 300 m of it rank first
    (confidence × 1.1, capped at 1) and the others drop (× 0.6). Only the best-matching
    street name(s) count (within 0.05 of the best street confidence). Otherwise the ranking
    is the geocoder's and ``near_street`` is ``None``. Nothing is chosen here: the
    operator confirms a candidate.
    """
    cands = geocoder.search(text, limit=max(limit, 20), near=near)
    streets = [(c, shapely.geometry.shape(c.geometry)) for c in cands
               if c.level in ("street", "gang") and c.geometry]
    if not streets or not any(c.level == "landmark" for c in cands):
        return [(c, None) for c in cands[:limit]]
    top = max(c.confidence for c, _ in streets)
    streets = [(c, g) for c, g in streets if c.confidence >= top - 0.05]  # the street named
    out: list[tuple[Candidate, dict[str, Any] | None]] = []
    for c in cands:
        if c.level != "landmark":
            out.append((c, None))
            continue
        pt = shapely.Point(c.lon, c.lat)
        street, d_m = min(((s, _degrees_to_m(g.distance(pt), c.lat)) for s, g in streets),
                          key=lambda t: t[1])
        conf = min(1.0, c.confidence * 1.1) if d_m <= _NEAR_STREET_M else c.confidence * 0.6
        name = street.label.split(" — ", 1)[0]
        out.append((_replace(c, confidence=round(conf, 4)),
                    {"street": name, "distance_m": round(d_m), "near": d_m <= _NEAR_STREET_M}))
    out.sort(key=lambda t: (-t[0].confidence, _DEPTH.get(t[0].level, 9)))
    return out[:limit]


def _degrees_to_m(d_deg: float, lat: float) -> float:
    """A distance in degrees (EPSG:4326) near latitude ``lat`` → metres (approximate,
    the same for both axes within a few per cent near the equator)."""
    return d_deg * 111_320 * math.sqrt((1 + math.cos(math.radians(lat)) ** 2) / 2)
