"""Every unit a placement can name, as integer ids, with its ancestors per level.

The reverse geocoder resolves the hierarchy with integer arrays instead of codes:
unit ``u`` has ``anc[u, k]`` = the id of its ancestor (or itself) at level key ``k``
(:data:`~geo_sigap.geocoding.units.LEVEL_KEYS` order: kabkota, kecamatan, kelurahan, rw,
rt), ``-1`` when it has none. Units implied by a code but absent from the table (an RT
code names its RW and kelurahan) get ids too, with no name, as the code-based rules of
:meth:`UnitTable.parent` imply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo_sigap.geocoding.units import LEVEL_KEYS, UnitTable

#: level → column of ``anc``
LEVEL_COLUMN = {level: k for k, level in enumerate(LEVEL_KEYS)}
N_LEVELS = len(LEVEL_KEYS)


@dataclass(frozen=True, slots=True)
class UnitIndex:
    codes: list[str]
    names: list[str | None]
    column: np.ndarray  # int8 per unit: its level column, -1 for levels not placed (provinsi)
    anc: np.ndarray  # (units, N_LEVELS) int64
    pos: dict[str, int]

    def __len__(self) -> int:
        return len(self.codes)


def unit_index(units: UnitTable) -> UnitIndex:
    """Ids for the units of ``units`` (in code order) and the ancestors their codes imply."""
    codes: list[str] = units.frame["code"].tolist()
    pos = {c: i for i, c in enumerate(codes)}
    parents: list[int] = []
    i = 0
    while i < len(codes):
        p = units.parent(codes[i])
        if p and p != codes[i]:
            j = pos.get(p)
            if j is None:
                j = pos[p] = len(codes)
                codes.append(p)
            parents.append(j)
        else:
            parents.append(-1)
        i += 1
    n = len(codes)
    column = np.full(n, -1, dtype=np.int8)
    for u, code in enumerate(codes):
        lvl = units.level(code)
        if lvl in LEVEL_COLUMN:
            column[u] = LEVEL_COLUMN[lvl]
    parent = np.asarray(parents, dtype=np.int64)
    anc = np.full((n, N_LEVELS), -1, dtype=np.int64)
    ids = np.arange(n)
    own = column >= 0
    anc[ids[own], column[own]] = ids[own]
    p = parent.copy()
    for _ in range(12):  # deeper than any real hierarchy; stops a cycle in bad data
        alive = np.flatnonzero(p >= 0)
        if not len(alive):
            break
        k = column[p[alive]]
        put = alive[k >= 0]
        kp = k[k >= 0].astype(np.int64)
        free = anc[put, kp] < 0
        anc[put[free], kp[free]] = p[put[free]]
        p[alive] = parent[p[alive]]
    names = [units.name(c) for c in codes]
    return UnitIndex(codes, names, column, anc, pos)
