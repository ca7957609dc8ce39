"""Pure helpers of forward geocoding: kind words of landmark names, numbers in names,
and splitting a street's parts into places."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from rapidfuzz import fuzz, process

from geo_sigap.geocoding.normalize import LANDMARK_WORDS

_CLUSTER_DEG = 0.002  # parts of a same-named street farther apart (~220 m) are different

_TWO_WORD_KINDS = {("kantor", "lurah"), ("kantor", "kelurahan"), ("kantor", "camat"),
                   ("kantor", "kecamatan"), ("rumah", "sakit"), ("pos", "ronda"),
                   ("balai", "desa")}


def number_factor(query: str, key: str) -> float:
    """Numbers tell "Gang Damai 2" from "Gang Damai 3": a number of the query missing
    from the name costs 25 %, a number of the name the query did not say 5 %."""
    q = {t for t in query.split() if t[:1].isdigit()}
    k = {t for t in key.split() if t[:1].isdigit()}
    return (0.75 if q - k else 1.0) * (0.95 if k - q else 1.0)


_LONG_KINDS = sorted(w for w in LANDMARK_WORDS if len(w) >= 5)


def split_kind(key: str) -> tuple[str, str]:
    """``"masjid al ikhlas"`` → ``("masjid", "al ikhlas")``; no kind word → ``("", key)``."""
    words = key.split()
    if len(words) >= 2 and (words[0], words[1]) in _TWO_WORD_KINDS:
        kind = "kantor lurah" if words[1] in ("lurah", "kelurahan") else " ".join(words[:2])
        return kind, " ".join(words[2:])
    if words and words[0] in LANDMARK_WORDS:
        return words[0], " ".join(words[1:])
    if words and len(words[0]) >= 5:  # a typo in the kind word: "msjid", "sekolh"
        best = process.extractOne(words[0], _LONG_KINDS, scorer=fuzz.ratio, score_cutoff=80)
        if best:
            return best[0], " ".join(words[1:])
    return "", key


def clusters(geom: Any) -> list[Any]:
    """Split a merged street geometry into groups of parts less than ~220 m apart."""
    parts = list(shapely.get_parts(geom))
    if len(parts) <= 1:
        return parts
    n = len(parts)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree = shapely.STRtree(parts)
    a, b = tree.query(np.asarray(parts, dtype=object), predicate="dwithin",
                      distance=_CLUSTER_DEG)
    for i, j in zip(a, b):
        ri, rj = find(int(i)), find(int(j))
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[Any]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(parts[i])
    return [shapely.line_merge(shapely.multilinestrings(g)) if len(g) > 1 else g[0]
            for g in groups.values()]
