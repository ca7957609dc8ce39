"""Live events for the map: what changed, written to the outbox in the same transaction
as the change, and read back by the event stream (SSE) of any worker.

* SQLite (one process): subscribers poll the outbox every ``poll_s`` (0.5 s).
* PostgreSQL (several uvicorn workers): each worker keeps one ``LISTEN
  geo_sigap_events`` connection (psycopg async); a ``NOTIFY`` sent at commit wakes the
  worker's subscribers, which read the outbox. A slow fallback poll covers a lost
  listener connection. Because ids are allocated before commit, readers re-read a small
  window below their cursor and skip ids already delivered, so an event committed out of
  id order is not lost.

Event payloads hold no personal data (no reporter name or phone).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from geo_sigap.storage.events import CHANNEL, add_event, events_after, last_event_id

log = logging.getLogger(__name__)
_WINDOW = 100  # ids re-read below the cursor (PostgreSQL commit-order gaps)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str
    payload: dict[str, Any]
    at: str

    def sse(self) -> str:
        import json

        data = json.dumps({**self.payload, "event_id": self.id, "at": self.at},
                          ensure_ascii=False, separators=(",", ":"))
        return f"id: {self.id}\nevent: {self.kind}\ndata: {data}\n\n"


def incident_event(session, row, action: str, *, teams: list[str] | None = None,
                   removed: list[str] | None = None) -> None:
    """Outbox row for a change to incident ``row`` (call before commit). ``removed``:
    teams taken off the case by this change; they still receive this one event."""
    if teams is None:
        teams = sorted({a.team_code for a in row.assignments if a.active})
    payload = {
        "action": action, "ticket": row.ticket, "status": row.status,
        "category": row.category, "priority": row.priority, "lon": row.lon, "lat": row.lat,
        "kelurahan_code": row.kelurahan_code, "version": row.version, "teams": teams,
        "duplicate_of_id": row.duplicate_of_id,
    }
    if removed:
        payload["teams"] = sorted(set(teams) | set(removed))
        payload["removed"] = sorted(removed)
    add_event(session, "incident", payload)


def team_event(session, row, action: str, *, status: str | None = None) -> None:
    add_event(session, "team", {
        "action": action, "code": row.code, "role": row.role, "status": status or row.status,
        "lon": row.last_lon, "lat": row.last_lat,
        "position_at": row.last_position_at.isoformat() if row.last_position_at else None,
    })


def read_events(db, after_id: int, limit: int = 500) -> list[Event]:
    with db.session() as s:
        return [Event(r.id, r.kind, dict(r.payload or {}), r.at.isoformat())
                for r in events_after(s, after_id, limit)]


def current_event_id(db) -> int:
    with db.session() as s:
        return last_event_id(s)


class EventHub:
    """Per-process wake-up source for event-stream subscribers.

    ``wait(timeout)`` returns when a NOTIFY arrived (PostgreSQL) or ``timeout`` passed.
    Start with :meth:`start` inside the running event loop; :meth:`stop` at shutdown.
    """

    def __init__(self, db, *, poll_s: float = 0.5, pg_fallback_s: float = 5.0) -> None:
        self.db = db
        self.poll_s = poll_s
        self.pg_fallback_s = pg_fallback_s
        self._cond: asyncio.Condition | None = None
        self._task: asyncio.Task | None = None
        self.listening = False

    @property
    def timeout(self) -> float:
        return self.pg_fallback_s if self.listening else self.poll_s

    def start(self) -> None:
        if self._cond is None:
            self._cond = asyncio.Condition()
        if self.db.is_postgres and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._task = None

    async def _listen(self) -> None:
        import psycopg

        url = self.db.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening = True
                    async for _ in conn.notifies():
                        await self._wake()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect after a lost connection
                log.warning("LISTEN %s lost (%s); polling until it reconnects", CHANNEL, exc)
            self.listening = False
            await asyncio.sleep(1.0)

    async def _wake(self) -> None:
        assert self._cond is not None
        async with self._cond:
            self._cond.notify_all()

    async def wait(self, timeout: float | None = None) -> None:
        self.start()
        assert self._cond is not None
        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait(), timeout or self.timeout)
        except TimeoutError:
            pass

    async def stream(self, after_id: int | None, *, follow: bool = True,
                     keepalive_s: float = 15.0, accept=None) -> AsyncIterator[str]:
        """SSE text: events with ``id > after_id`` (``None``: only new ones), then — when
        ``follow`` — new events as they are committed, with keep-alive comments.
        ``accept(event) -> bool`` filters what this subscriber may see."""
        if after_id is None:
            after_id = await asyncio.to_thread(current_event_id, self.db)
        cursor = after_id
        delivered: set[int] = set()
        yield "retry: 2000\n\n"
        idle = 0.0
        loop = asyncio.get_running_loop()
        while True:
            low = max(after_id, cursor - _WINDOW) if self.db.is_postgres else cursor
            events = await asyncio.to_thread(read_events, self.db, low)
            sent = False
            for ev in events:
                if ev.id in delivered or ev.id <= after_id:
                    continue
                delivered.add(ev.id)
                cursor = max(cursor, ev.id)
                if accept is None or accept(ev):
                    sent = True
                    yield ev.sse()
            if len(delivered) > 4 * _WINDOW:
                delivered = {i for i in delivered if i > cursor - _WINDOW}
            if not follow:
                return
            if sent:
                idle = 0.0
            t0 = loop.time()
            await self.wait()
            idle += loop.time() - t0
            if idle >= keepalive_s:
                idle = 0.0
                yield ": keep-alive\n\n"
