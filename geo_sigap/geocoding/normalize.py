"""Normalising and reading Indonesian address text, as an operator types it.

``normalize("Jln. Lingkar Sltn, Gg. Mawar No.12")`` → ``"jalan lingkar sltn gang mawar
nomor 12"``: lower case, accents and punctuation removed, the usual abbreviations
expanded (Jl./Jln./Jalan, Gg., Lr./Lrg., Kel., Kec., Komp./Kompleks, Perum., No. …).

:func:`parse_address` finds RT/RW numbers (``RT 05 RW 02``, ``RT.005/RW.002``,
``RT/RW 05/02``, ``rt5``) and cuts the rest into typed phrases: a street after
``jalan``, an alley after ``gang``/``lorong``, a kelurahan after ``kelurahan``/``desa``,
a kecamatan after ``kecamatan``, a landmark that starts with a kind word (``masjid``,
``sd``, ``pasar``, ``kantor`` …), and untyped words. Filler words (``di``, ``dekat``,
``sebelah`` …) are dropped.

Given ``areas`` (the normalised names of the loaded kelurahan and kecamatan), a known
name is read as that unit before any landmark-word reading: ``"Pasar Jambi"``,
``"Sungai Putri"``, ``"Simpang III Sipin"`` are kelurahan, not a market, a river or a
crossing; after ``jalan``/``gang`` the words stay the street's name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

# token → canonical token (after lower-casing and stripping punctuation)
ABBREVIATIONS: dict[str, str] = {
    "jl": "jalan", "jln": "jalan", "jaln": "jalan", "jalan": "jalan", "jalanan": "jalan",
    "gg": "gang", "gng": "gang", "gang": "gang",
    "lr": "lorong", "lrg": "lorong", "lor": "lorong", "lorong": "lorong",
    "kel": "kelurahan", "kelurahan": "kelurahan", "kelur": "kelurahan", "lurah": "lurah",
    "ds": "desa", "desa": "desa",
    "kec": "kecamatan", "kecamatan": "kecamatan", "kcm": "kecamatan",
    "komp": "kompleks", "kompl": "kompleks", "komplek": "kompleks", "kompleks": "kompleks",
    "perum": "perumahan", "perumahan": "perumahan",
    "no": "nomor", "nmr": "nomor", "nomor": "nomor", "nomer": "nomor",
    "mesjid": "masjid", "msjd": "masjid", "msjid": "masjid", "mesjit": "masjid", "mesjd": "masjid", "masjid": "masjid",
    "mushola": "musala", "musholla": "musala", "mushala": "musala", "musalla": "musala",
    "langgar": "musala", "surau": "musala",
    "psr": "pasar", "pasar": "pasar", "kntr": "kantor", "kantor": "kantor",
    "sekolah": "sekolah", "sklh": "sekolah",
    "rs": "rs", "rsud": "rsud", "pkm": "puskesmas",
    "smpn": "smp", "sdn": "sd", "sman": "sma", "smkn": "smk",
    "kab": "kabupaten", "kabupaten": "kabupaten", "kota": "kota",
    "sltn": "selatan", "slt": "selatan", "utr": "utara", "brt": "barat", "tmr": "timur",
    "dkt": "dekat", "sblh": "sebelah", "dpn": "depan", "blkg": "belakang", "yg": "yang",
    "dgn": "dengan", "sbrg": "seberang",
}

FILLER = frozenset({
    "di", "dekat", "sebelah", "samping", "depan", "belakang", "seberang", "sebrang",
    "ujung", "masuk", "arah", "dari", "ke", "yang", "dan", "dengan", "sekitar", "area",
    "daerah", "wilayah", "lokasi", "tkp", "persis", "pas", "dalam", "tepat", "kiri",
    "kanan", "pinggir", "tepi", "itu", "ini", "ada", "dkk", "nya", "lokasinya",
    "sana", "sini", "situ", "tempat", "lingkungan",
})

STREET_WORDS = frozenset({"jalan"})
ALLEY_WORDS = frozenset({"gang", "lorong"})
KELURAHAN_WORDS = frozenset({"kelurahan", "desa"})
KECAMATAN_WORDS = frozenset({"kecamatan"})
LANDMARK_WORDS = frozenset({
    "masjid", "musala", "gereja", "pura", "vihara", "klenteng", "sekolah", "sd", "smp",
    "sma", "smk", "mi", "mts", "ma", "tk", "paud", "pesantren", "ponpes", "universitas",
    "kampus", "pasar", "kantor", "puskesmas", "pustu", "posyandu", "rs", "rsud", "klinik",
    "apotek", "toko", "warung", "minimarket", "indomaret", "alfamart", "spbu", "bank",
    "kompleks", "perumahan", "lapangan", "taman", "jembatan", "simpang", "pos", "posko",
    "balai", "gedung", "hotel", "makam", "tpu", "terminal", "stasiun", "polsek", "koramil",
    "polres", "kodim", "bengkel", "rumah", "ruko", "gor", "stadion", "danau", "sungai",
})

_RTRW = [
    # RT/RW 05/02
    re.compile(r"\brt\s*/\s*rw\s*[.:]?\s*0*(?P<rt>\d{1,3})\s*/\s*0*(?P<rw>\d{1,3})\b"),
    # RT 05 / RW 02, RT.005/RW.002, rt5 rw2
    re.compile(r"\brt\s*[.:]?\s*0*(?P<rt>\d{1,3})\s*[/,.\-]?\s*rw\s*[.:]?\s*0*(?P<rw>\d{1,3})\b"),
    # RW 02 RT 05
    re.compile(r"\brw\s*[.:]?\s*0*(?P<rw>\d{1,3})\s*[/,.\-]?\s*rt\s*[.:]?\s*0*(?P<rt>\d{1,3})\b"),
    # RT 005/002
    re.compile(r"\brt\s*[.:]?\s*0*(?P<rt>\d{1,3})\s*/\s*0*(?P<rw>\d{1,3})\b"),
    re.compile(r"\brt\s*[.:]?\s*0*(?P<rt>\d{1,3})\b"),
    re.compile(r"\brw\s*[.:]?\s*0*(?P<rw>\d{1,3})\b"),
]
_NON_WORD = re.compile(r"[^0-9a-z]+")


def _ascii_lower(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def tokens(text: str) -> list[str]:
    """Lower-case ASCII tokens with abbreviations expanded (filler words kept)."""
    out = []
    for tok in _NON_WORD.split(_ascii_lower(text)):
        if not tok:
            continue
        out.append(ABBREVIATIONS.get(tok, tok))
    return out


def normalize(text: str) -> str:
    """Canonical form of a name or an address (see module docstring)."""
    return " ".join(tokens(text))


def core_name(text: str) -> str:
    """A place name without its leading type word: ``"Gg. Mawar"`` → ``"mawar"``."""
    toks = tokens(text)
    while toks and toks[0] in STREET_WORDS | ALLEY_WORDS | KELURAHAN_WORDS | KECAMATAN_WORDS:
        toks = toks[1:]
    return " ".join(toks)


@dataclass(slots=True)
class Phrase:
    """A typed piece of an address: kind is ``street``, ``alley``, ``kelurahan``,
    ``kecamatan``, ``landmark`` or ``free``; ``text`` is normalised (for a landmark it
    keeps its kind word, for the others the keyword is dropped)."""

    kind: str
    text: str
    keyword: str | None = None
    #: the text is exactly the name of a loaded unit (see ``areas`` of
    #: :func:`parse_address`); kind ``area`` when it names a kelurahan and a kecamatan
    known: bool = False


@dataclass(slots=True)
class ParsedAddress:
    """What :func:`parse_address` found in a text."""

    text: str
    normalized: str
    rt: int | None = None
    rw: int | None = None
    house_number: str | None = None
    phrases: list[Phrase] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Phrase]:
        return [p for p in self.phrases if p.kind == kind]


def parse_address(text: str, areas: Mapping[tuple[str, ...], str] | None = None
                  ) -> ParsedAddress:
    """Read RT/RW numbers and typed phrases from free text (never raises).

    ``areas`` maps a known unit name as a tuple of normalised tokens to its kind
    (``kelurahan``, ``kecamatan`` or ``area`` for both); such a name outside a street or
    alley name becomes one phrase of that kind with ``known=True``.
    """
    longest = max((len(k) for k in areas), default=0) if areas else 0
    raw = _ascii_lower(text or "")[:500]
    rt = rw = None
    for pattern in _RTRW:
        m = pattern.search(raw)
        if not m:
            continue
        gd = m.groupdict()
        if gd.get("rt") and rt is None:
            rt = int(gd["rt"]) or None
        if gd.get("rw") and rw is None:
            rw = int(gd["rw"]) or None
        raw = raw[: m.start()] + " , " + raw[m.end():]
    # phrases are split at commas too, then at keywords
    house = None
    phrases: list[Phrase] = []
    for chunk in re.split(r"[,;()\n]+", raw):
        toks = tokens(chunk)
        current: Phrase | None = None
        words: list[str] = []

        def flush() -> None:
            nonlocal current, words
            if current is not None:
                body = words if current.known else [w for w in words if w not in FILLER]
                if current.kind == "landmark":
                    body = [current.keyword or "", *body]
                current.text = " ".join(w for w in body if w)
                if current.text or current.kind in ("street", "alley"):
                    phrases.append(current)
            current, words = None, []

        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok == "nomor" and i + 1 < len(toks) and toks[i + 1][:1].isdigit():
                house = toks[i + 1]
                i += 2
                continue
            if longest and (current is None or current.kind not in ("street", "alley")):
                name = _known_name(toks, i, areas, longest)  # type: ignore[arg-type]
                if name:
                    kind = areas[name]  # type: ignore[index]
                    if current is not None and not words and current.keyword and (
                            current.kind == kind or kind == "area"
                            and current.kind in ("kelurahan", "kecamatan")):
                        current.known = True  # "kelurahan <name>": the keyword decides
                    else:
                        flush()
                        current = Phrase(kind, "", None, True)
                    words = list(name)
                    flush()
                    i += len(name)
                    continue
            kind = None
            if tok in STREET_WORDS:
                kind = "street"
            elif tok in ALLEY_WORDS:
                kind = "alley"
            elif tok in KELURAHAN_WORDS:
                kind = "kelurahan"
            elif tok in KECAMATAN_WORDS:
                kind = "kecamatan"
            elif tok == "kantor" and i + 1 < len(toks) and toks[i + 1] in ("lurah", "kelurahan",
                                                                          "camat", "kecamatan"):
                flush()
                current = Phrase("landmark", "", "kantor " + ("lurah" if toks[i + 1] in (
                    "lurah", "kelurahan") else "camat"))
                i += 2
                continue
            elif tok in LANDMARK_WORDS and not (
                    current is not None and current.kind != "free" and current.kind != "landmark"
                    and not words):
                kind = "landmark"  # but "kelurahan pasar …", "jalan pasar …" are names
            if kind is not None:
                flush()
                current = Phrase(kind, "", tok)
            else:
                if current is None:
                    current = Phrase("free", "")
                words.append(tok)
            i += 1
        flush()
    return ParsedAddress(text or "", normalize(text or ""), rt, rw, house, phrases)


def _known_name(toks: list[str], i: int, areas: Mapping[tuple[str, ...], str],
                longest: int) -> tuple[str, ...] | None:
    """The longest known name starting at token ``i``."""
    for n in range(min(longest, len(toks) - i), 0, -1):
        name = tuple(toks[i:i + n])
        if name in areas:
            return name
    return None
