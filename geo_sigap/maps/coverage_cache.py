"""Travel-time coverage layers, computed when the teams' posts change, not per request.

A coverage answer (minutes by road from the nearest post of each role to every RT/RW, see
:func:`geo_sigap.maps.coverage_layer.coverage_collection`) costs seconds at city scale
(16,000 RT: 11–13 s). It depends only on the teams' roles, vehicles and posts and on the
units, so it is kept per *version* of those (:func:`teams_version` and the units'
fingerprint):

- in memory, and as gzip files under ``<cache_dir>/coverage/<version>/`` shared by every
  worker and kept across restarts (written atomically: temporary file, then rename);
- computed in the background: at warm-up (the layers the map asks for first: RT and RW
  without a category), by ``geo-sigap import teams`` right after the import (the CLI that
  moves posts), and whenever a request sees that the version changed;
- while a newer version is being computed, requests are answered with the last one
  (``X-Sigap-Cache: stale``) instead of waiting; only a layer that was never computed at
  all (a first category filter, say) is computed on the request, once, then stored.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_KEYS = (("rt", "", ""), ("rw", "", ""))  # what /peta switches on first
KEEP_VERSIONS = 3  # folders of older versions kept on disk


def teams_version(session) -> str:
    """A cheap version of what coverage depends on: every team's role, vehicle and post.

    One narrow query; GPS fixes and status changes (which touch ``updated_at`` all day
    long) do not change it, so the cached coverage survives them.
    """
    from sqlalchemy import select

    from geo_sigap.storage.tables import TeamRow

    rows = session.execute(select(TeamRow.code, TeamRow.role, TeamRow.vehicle, TeamRow.post_lon,
                                  TeamRow.post_lat).order_by(TeamRow.code)).all()
    digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()[:16]
    return f"{len(rows)}-{digest}"


def units_version(units) -> str:
    """A fingerprint of the units (codes, levels, geometry sizes) that is the same in every
    process reading the same database."""
    h = hashlib.sha256()
    for u in sorted(units, key=lambda u: u.code):
        g = u.geometry
        h.update(f"{u.code}|{int(u.level)}|{g.wkb_hex[:64] if g is not None else ''}|"
                 f"{len(g.wkb) if g is not None else 0};".encode())
    return f"{len(units)}-{h.hexdigest()[:12]}"


@dataclass(frozen=True)
class Answer:
    body: bytes  # the GeoJSON
    gz: bytes  # the same, gzip
    etag: str
    version: str
    status: str = "hit"  # hit | stale | miss


def _answer(version: str, gz: bytes, body: bytes | None = None) -> Answer:
    body = gzip.decompress(gz) if body is None else body
    return Answer(body, gz, '"' + hashlib.sha256(body).hexdigest()[:20] + '"', version)


class CoverageCache:
    """Coverage answers per (level, category, role) and version.

    ``compute(level, category, role) -> dict`` builds one FeatureCollection (for the
    current posts); ``version()`` returns the current version (teams' posts + units),
    cheaply.
    """

    def __init__(self, folder: Path, compute: Callable[[str, str, str], dict],
                 version: Callable[[], str]):
        self.folder = Path(folder)
        self._compute = compute
        self._version = version
        self._mem: dict[tuple, Answer] = {}
        self._lock = threading.Lock()
        self._compute_lock = threading.Lock()  # one computation at a time per process
        self._building: set[tuple] = set()  # (version, key) being computed
        self.computed = 0  # how many answers this process computed (tests, logs)

    # ------------------------------------------------------------------ files
    def _path(self, version: str, key: tuple) -> Path:
        level, cat, role = key
        return self.folder / version / f"{level}-{cat or '_'}-{role or '_'}.json.gz"

    def _read(self, version: str, key: tuple) -> Answer | None:
        try:
            return _answer(version, self._path(version, key).read_bytes())
        except (OSError, EOFError, gzip.BadGzipFile):
            return None

    def _write(self, version: str, key: tuple, gz: bytes) -> None:
        path = self._path(version, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_bytes(gz)
            os.replace(tmp, path)
            self._prune(version)
        except OSError as exc:  # a read-only cache folder: memory only
            log.warning("coverage cache not written (%s)", exc)

    def _prune(self, current: str) -> None:
        try:
            folders = sorted((p for p in self.folder.iterdir() if p.is_dir()
                              and p.name != current), key=lambda p: p.stat().st_mtime)
        except OSError:
            return
        for p in folders[:max(0, len(folders) - (KEEP_VERSIONS - 1))]:
            shutil.rmtree(p, ignore_errors=True)

    def _latest_on_disk(self, key: tuple) -> Answer | None:
        """The newest stored answer for ``key`` of any version (a stale answer)."""
        try:
            candidates = sorted(self.folder.glob(f"*/{self._path('x', key).name}"),
                                key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            return None
        for p in candidates:
            got = self._read(p.parent.name, key)
            if got is not None:
                return got
        return None

    # ------------------------------------------------------------------ answers
    def build(self, key: tuple, version: str | None = None) -> Answer:
        """Compute (or read from disk, where another worker or the CLI stored it) the answer
        of ``key`` for ``version`` (the current one by default) and keep it."""
        with self._compute_lock:
            version = version or self._version()
            got = self._read(version, key)
            if got is None:
                fc = self._compute(*key)
                fc.setdefault("meta", {})["version"] = version
                body = json.dumps(fc, separators=(",", ":")).encode()
                got = _answer(version, gzip.compress(body, compresslevel=6), body)
                self.computed += 1
                self._write(version, key, got.gz)
            with self._lock:
                self._mem[key] = got
            return got

    def refresh(self, keys=DEFAULT_KEYS, *, background: bool = True) -> threading.Thread | None:
        """Make sure ``keys`` are computed for the current version (in a thread, returned;
        ``None`` when there is nothing to do)."""
        version = self._version()
        todo = []
        with self._lock:
            for key in keys:
                mem = self._mem.get(key)
                if (mem is None or mem.version != version) \
                        and (version, key) not in self._building:
                    self._building.add((version, key))
                    todo.append(key)
        if not todo:
            return None

        def run():
            for key in todo:
                try:
                    self.build(key, version)
                except Exception:  # noqa: BLE001 - logged; the next request tries again
                    log.exception("coverage %s not computed", key)
                finally:
                    with self._lock:
                        self._building.discard((version, key))

        if not background:
            run()
            return None
        t = threading.Thread(target=run, name="coverage-refresh", daemon=True)
        t.start()
        self.last_refresh = t
        return t

    last_refresh: threading.Thread | None = None

    def get(self, level: str, category: str = "", role: str = "") -> Answer:
        """The answer for a request, its ``status``: ``hit`` (current version), ``stale``
        (an older version, while the current one is computed in the background) or
        ``miss`` (never computed before: computed now, once for all workers and
        restarts)."""
        key = (level, category or "", role or "")
        version = self._version()
        with self._lock:
            mem = self._mem.get(key)
        if mem is not None and mem.version == version:
            return mem
        got = self._read(version, key)
        if got is not None:
            with self._lock:
                self._mem[key] = got
            return got
        old = mem or self._latest_on_disk(key)
        if old is not None:
            self.refresh([key])
            return replace(old, status="stale")
        return replace(self.build(key, version), status="miss")
