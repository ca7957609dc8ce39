"""The teams of a suggestion as arrays, built once per team list and reused.

:func:`geo_sigap.routing.suggest.suggest` runs for every incident against the same
(cached) team list; reading 500 ``Team`` objects attribute by attribute, picking the
position and matching areas team by team cost more than the road search. A
:class:`TeamTable` holds what does not depend on the incident (roles, profiles, posts,
last positions with their times in integer microseconds, area codes); it is reused
while every field the suggestion reads is *equal* to the table's (one C-level pass,
so a team changed in place is noticed too), or — for a list the caller declares a
snapshot (``snapshot=True``: not changed while it is the same object, as
:func:`geo_sigap.dispatch.ports.current_teams` gives it) — while it is the same list
object, without reading the teams. Coordinates lon/lat EPSG:4326.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from collections.abc import Iterable

import numpy as np

from geo_sigap.domain.teams import Team, TeamStatus
from geo_sigap.routing.profiles import profile_for

# what a suggestion reads of a team: the table is valid while these are equal
_FIELDS = attrgetter("code", "name", "role", "post", "vehicle", "area_codes", "status",
                     "last_position", "last_position_at")
_EPOCH_AWARE = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)
_RESP_KEPT = 512  # places whose responsible teams are kept per table


def _micros(t: datetime) -> int:
    return (t - (_EPOCH_AWARE if t.tzinfo is not None else _EPOCH_NAIVE)) // _US


class TeamTable:
    """Arrays over ``teams`` (one row per team, in the list's order)."""

    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows
        self.source: object = None  # the snapshot list it was last confirmed for
        self.cache: dict = {}  # what suggestions derive from the table alone
        self._where: tuple | None = None  # the last positions and when they hold
        self._resp: dict[tuple[str, ...], np.ndarray] = {}
        n = len(rows)
        self.n = n
        self.codes = [r[0] for r in rows]
        self.code_array = np.array(self.codes + [None], dtype=object)[:n]  # never 2-D
        self.available = np.array([r[6] == TeamStatus.TERSEDIA for r in rows], bool)
        self.roles = [r[2] for r in rows]
        self.role_list = list(dict.fromkeys(self.roles))
        ids = {r: i for i, r in enumerate(self.role_list)}
        self.role_id = np.array([ids[r] for r in self.roles], np.int64)
        self.profiles = [profile_for(r[4]) for r in rows]
        self.profile_list = list(dict.fromkeys(self.profiles))
        ids = {p: i for i, p in enumerate(self.profile_list)}
        self.profile_id = np.array([ids[p] for p in self.profiles], np.int64)
        self.post = np.array([r[3] for r in rows], np.float64).reshape(n, 2)
        self.has_last = np.array([r[7] is not None for r in rows], bool)
        self.last = np.array([r[7] if r[7] is not None else (np.nan, np.nan) for r in rows],
                             np.float64).reshape(n, 2)
        at = [r[8] for r in rows]
        self.has_at = np.array([a is not None for a in at], bool)
        # awareness of each time (None: no time); mixing with a naive/aware `now` is
        # left to the per-team path (it raises there as before)
        self.aware = {a.tzinfo is not None for a in at if a is not None}
        self.last_us = np.array([_micros(a) if a is not None else 0 for a in at], np.int64)
        # dense rank of the codes (equal codes share a rank): Python's str ordering
        order = sorted(range(n), key=self.codes.__getitem__)
        rank = np.empty(n, np.int64)
        r, prev = -1, None
        for i in order:
            if self.codes[i] != prev:
                r, prev = r + 1, self.codes[i]
            rank[i] = r
        self.code_rank = rank
        # area codes: distinct ids, entries (team, area) in each team's order
        ids: dict[str, int] = {}
        ent_team, ent_area = [], []
        for i, row in enumerate(rows):
            for a in row[5]:
                ent_team.append(i)
                ent_area.append(ids.setdefault(a, len(ids)))
        self.area_ids = ids
        self.ent_team = np.array(ent_team, np.int64)
        self.ent_area = np.array(ent_area, np.int64)

    def positions(self, now: datetime, max_age: timedelta) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray] | None:
        """``(lonlat (n, 2), stale, fresh)`` as :meth:`Team.position_at` gives them, or
        ``None`` when the times cannot be compared here (naive mixed with aware)."""
        if self.aware and self.aware != {now.tzinfo is not None}:
            return None
        now_us, age_us = _micros(now), max_age // _US
        hit = self._where
        if hit is not None and hit[0] == age_us and hit[1] < now_us <= hit[2]:
            return hit[3]
        # a team is fresh while now <= its time + max_age: the answer holds for every
        # `now` between the nearest such deadline before this one and the next one
        due = self.last_us[self.has_last & self.has_at] + age_us
        before, after = due[due < now_us], due[due >= now_us]
        lo = int(before.max()) if before.size else -(1 << 62)
        hi = int(after.min()) if after.size else 1 << 62
        age_ok = (now_us - self.last_us) <= age_us
        fresh = self.has_last & self.has_at & age_ok
        stale = self.has_last & ~fresh
        out = (np.where(fresh[:, None], self.last, self.post), stale, fresh)
        for a in out:
            a.setflags(write=False)
        self._where = (age_us, lo, hi, out)
        return out

    def responsible(self, units: tuple[str, ...]) -> np.ndarray:
        """Per team: does any of its areas hold one of ``units``? (``unit == area`` or
        ``unit`` starts with ``area + "."``, as :meth:`Team.covers`)."""
        got = self._resp.get(units)
        if got is not None:
            return got
        out = np.zeros(self.n, bool)
        hits = [self.area_ids[p] for p in unit_prefixes(units) if p in self.area_ids]
        if hits and len(self.ent_team):
            hit = np.zeros(len(self.area_ids), bool)
            hit[hits] = True
            out[self.ent_team[hit[self.ent_area]]] = True
        out.setflags(write=False)
        if len(self._resp) >= _RESP_KEPT:
            self._resp.clear()
        self._resp[units] = out
        return out


def unit_prefixes(units: tuple[str, ...]) -> set[str]:
    """Every area code that holds one of ``units``: each unit and each of its prefixes
    that ends just before a ``.`` (``a`` holds ``u`` iff ``u == a`` or
    ``u.startswith(a + ".")``)."""
    out = set()
    for u in units:
        out.add(u)
        i = u.find(".")
        while i >= 0:
            out.add(u[:i])
            i = u.find(".", i + 1)
    return out


class TeamTables:
    """The table of the last team list seen (thread-safe, one entry)."""

    def __init__(self) -> None:
        self._last: TeamTable | None = None
        self._lock = threading.Lock()

    def get(self, teams: Iterable[Team], *, snapshot: bool = False) -> TeamTable:
        """The table of ``teams``; with ``snapshot`` the caller promises that the list
        and its teams do not change while it is the same object (it is kept referenced
        here, so its identity is not reused)."""
        last = self._last
        if snapshot and last is not None and last.source is teams:
            return last
        rows = list(map(_FIELDS, teams))
        if last is not None and last.rows == rows:
            if snapshot:
                last.source = teams
            return last
        table = TeamTable(rows)
        if snapshot:
            table.source = teams
        with self._lock:
            self._last = table
        return table
