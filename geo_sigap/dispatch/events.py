"""Live events for the map: what changed, written to the outbox in the same transaction
as the change, and read back by the event stream (SSE) of any worker.

One :class:`EventHub` per process (uvicorn worker) reads the outbox for all of its
subscribers and fans each event out to them; a subscriber never queries the database
after its start-up backlog.

* Wake-ups are level-triggered: a commit in this process (``storage.events.on_commit``)
  or a PostgreSQL ``NOTIFY geo_sigap_events`` (one ``LISTEN`` connection per worker)
  sets a flag that the reader clears *before* it reads, so a wake-up that arrives while
  it is reading makes it read again instead of being lost. A fallback poll
  (``poll_s`` on SQLite, ``pg_fallback_s`` on PostgreSQL) covers writes by other
  processes on SQLite (the CLI) and a lost listener connection.
* Gapless: event ids are visible in commit order (see :mod:`geo_sigap.storage.events`),
  the stream's start position is fixed before the answer's headers are sent, and a
  subscriber registers with the hub *before* reading its backlog, so every event after
  its start arrives either in the backlog or from the hub (duplicates are skipped by
  id). ``Last-Event-ID`` resumes exactly after the last event received.
* Batched under load: every subscriber gets what one read brought as one queue item
  and one write. While reads keep finding several events (a busy spell) the reader reads
  at most once per ``batch_s``; while they find at most one (a trickle) at most once per
  ``min_batch_s``; after a quiet spell a read is at once. Each write to each stream costs
  the worker CPU: with 50 open streams at 200 reports/s, reads every 200 ms instead of
  every 50 ms made a report a quarter cheaper, and at a few reports a second the short
  interval costs nothing (each read is one event either way) and keeps the map prompt.
* A subscriber that falls more than ``max_queue`` events behind is ended (the browser
  reconnects with ``Last-Event-ID`` and catches up from the outbox).

Event payloads hold no personal data (no reporter name or phone).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from geo_sigap.storage.events import CHANNEL, add_event, events_after, last_event_id, on_commit

log = logging.getLogger(__name__)
_PAGE = 500


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str
    payload: dict[str, Any]
    at: str
    text: str = field(default="", compare=False, repr=False)

    def sse(self) -> str:
        if self.text:
            return self.text
        return _sse(self.id, self.kind, self.payload, self.at)


def _sse(id_: int, kind: str, payload: dict[str, Any], at: str) -> str:
    data = json.dumps({**payload, "event_id": id_, "at": at},
                      ensure_ascii=False, separators=(",", ":"))
    return f"id: {id_}\nevent: {kind}\ndata: {data}\n\n"


def incident_event(session, row, action: str, *, teams: list[str] | None = None,
                   removed: list[str] | None = None) -> None:
    """Outbox row for a change to incident ``row`` (call before commit). ``removed``:
    teams taken off the case by this change; they still receive this one event."""
    if teams is None:
        teams = sorted({a.team_code for a in row.assignments if a.active})
    payload = {
        "action": action, "ticket": row.ticket, "status": row.status,
        "category": row.category, "priority": row.priority, "channel": row.channel,
        "lon": row.lon, "lat": row.lat,
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


def read_events(db, after_id: int, limit: int = _PAGE) -> list[Event]:
    with db.session() as s:
        out = []
        for r in events_after(s, after_id, limit):
            payload, at = dict(r.payload or {}), r.at.isoformat()
            out.append(Event(r.id, r.kind, payload, at, _sse(r.id, r.kind, payload, at)))
        return out


def current_event_id(db) -> int:
    with db.session() as s:
        return last_event_id(s)


class Subscription:
    """One subscriber's queue of event batches from the hub (one list per outbox read;
    see :meth:`EventHub.subscribe`); ``pending`` counts the events queued."""

    __slots__ = ("after_id", "queue", "pending", "overflowed", "_hub")

    def __init__(self, hub: EventHub, after_id: int) -> None:
        self.after_id = after_id
        self.queue: asyncio.Queue[list[Event]] = asyncio.Queue()
        self.pending = 0
        self.overflowed = False
        self._hub = hub

    def close(self) -> None:
        self._hub._subs.discard(self)


class EventHub:
    """Per-process reader of the outbox, fanning events out to all its subscribers.

    The reader task and the PostgreSQL listener start with the first subscription
    (inside the running event loop); :meth:`stop` ends them at shutdown.
    """

    def __init__(self, db, *, poll_s: float = 0.5, pg_fallback_s: float = 2.0,
                 max_queue: int = 2000, batch_s: float = 0.2,
                 min_batch_s: float = 0.05) -> None:
        self.db = db
        self.poll_s = poll_s
        self.batch_s = batch_s
        self.min_batch_s = min(min_batch_s, batch_s)
        self.pg_fallback_s = pg_fallback_s
        self.max_queue = max_queue
        self._subs: set[Subscription] = set()
        self._dirty: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self._unhook: Callable[[], None] | None = None
        self._cursor: int | None = None
        self._started: asyncio.Future | None = None
        self.listening = False
        self.reads = 0  # outbox queries made by the reader (for tests and benchmarks)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    @property
    def timeout(self) -> float:
        return self.pg_fallback_s if self.listening else self.poll_s

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the reader (and listener) once; its cursor is the outbox's end now.
        Concurrent callers all wait until it has started."""
        if self._started is None:
            self._loop = asyncio.get_running_loop()
            self._started = self._loop.create_future()
            try:
                self._dirty = asyncio.Event()
                self._cursor = await asyncio.to_thread(current_event_id, self.db)
                self._unhook = on_commit(self.poke)
                self._tasks = [self._loop.create_task(self._read_loop())]
                if self.db.is_postgres:
                    self._tasks.append(self._loop.create_task(self._listen()))
                self._started.set_result(None)
            except BaseException:
                started, self._started = self._started, None
                started.cancel()  # waiters fail too; the next subscriber tries again
                raise
        await asyncio.shield(self._started)

    async def stop(self) -> None:
        if self._unhook is not None:
            self._unhook()
            self._unhook = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._tasks = []
        self._started = None
        self._subs.clear()

    def poke(self) -> None:
        """Wake the reader (thread-safe; called after a commit that added events)."""
        loop, dirty = self._loop, self._dirty
        if loop is None or dirty is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(dirty.set)
        except RuntimeError:  # the loop closed meanwhile
            pass

    # -- subscribers -----------------------------------------------------------------------

    async def position(self) -> int:
        """The outbox's end now: a stream starting here gets only newer events."""
        return await asyncio.to_thread(current_event_id, self.db)

    async def subscribe(self, after_id: int) -> Subscription:
        """Register for every event after ``after_id`` that the hub reads from now on
        (call before answering, then iterate :meth:`stream` with it)."""
        await self.start()
        sub = Subscription(self, after_id)
        self._subs.add(sub)
        return sub

    async def stream(self, after_id: int | None, *, follow: bool = True,
                     keepalive_s: float = 15.0, accept: Callable[[Event], bool] | None = None,
                     alive: Callable[[], Awaitable[bool]] | None = None,
                     recheck_s: float = 5.0, subscription: Subscription | None = None
                     ) -> AsyncIterator[str]:
        """SSE text: events with ``id > after_id`` (``None``: only new ones), then — when
        ``follow`` — new events as they are committed, with keep-alive comments.

        ``accept(event) -> bool`` filters what this subscriber may see; ``alive()`` is
        awaited before each delivery and at least every ``recheck_s`` seconds, and the
        stream ends when it answers false (signed out, token expired)."""
        if subscription is not None:
            after_id = subscription.after_id
        elif after_id is None:
            after_id = await self.position()
        if follow and subscription is None:
            subscription = await self.subscribe(after_id)
        try:
            async for chunk in self._stream(after_id, subscription if follow else None,
                                            keepalive_s, accept, alive, recheck_s):
                yield chunk
        finally:
            if subscription is not None:
                subscription.close()

    async def _stream(self, cursor: int, sub: Subscription | None, keepalive_s: float,
                      accept, alive, recheck_s: float) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        yield "retry: 2000\n\n"
        while True:  # the backlog, straight from the outbox
            events = await asyncio.to_thread(read_events, self.db, cursor)
            out = []
            for ev in events:
                cursor = ev.id
                if accept is None or accept(ev):
                    out.append(ev.sse())
            if out:
                if alive is not None and not await alive():
                    return
                yield "".join(out)
            if len(events) < _PAGE:
                break
        if sub is None:
            return
        checked = last_sent = loop.time()
        while True:
            now = loop.time()
            wait = min(keepalive_s - (now - last_sent), recheck_s - (now - checked))
            try:  # (asyncio.timeout: no task per wait, unlike wait_for on 3.11)
                async with asyncio.timeout(max(0.0, wait)):
                    batch = await sub.queue.get()
            except TimeoutError:
                batch = []
            if sub.overflowed:
                return  # the client reconnects with Last-Event-ID and catches up
            if not sub.queue.empty():
                batch = list(batch)
                while not sub.queue.empty():
                    batch.extend(sub.queue.get_nowait())
            sub.pending -= len(batch)
            out = []
            for ev in batch:
                if ev.id <= cursor:
                    continue  # already sent from the backlog
                cursor = ev.id
                if accept is None or accept(ev):
                    out.append(ev.sse())
            now = loop.time()
            if alive is not None and (out or now - checked >= recheck_s):
                if not await alive():
                    return
                checked = now
            if out:
                last_sent = now
                yield "".join(out)
            elif now - last_sent >= keepalive_s:
                last_sent = now
                yield ": keep-alive\n\n"

    # -- the reader ------------------------------------------------------------------------

    def _deliver(self, events: list[Event]) -> None:
        """One read's events to every subscriber, as one queue item each."""
        first = events[0].id
        for sub in list(self._subs):
            if sub.pending + len(events) > self.max_queue:
                sub.overflowed = True
                self._subs.discard(sub)
                sub.queue.put_nowait([])  # wakes it up to end
                continue
            mine = events if first > sub.after_id else [
                ev for ev in events if ev.id > sub.after_id]
            if mine:
                sub.pending += len(mine)
                sub.queue.put_nowait(mine)

    def interval_after(self, found: int) -> float:
        """The shortest wait before the next read, after a read that found ``found``
        events: ``batch_s`` in a busy spell (several), else ``min_batch_s``."""
        return self.batch_s if found >= 2 else self.min_batch_s

    async def _read_loop(self) -> None:
        assert self._dirty is not None and self._cursor is not None
        loop = asyncio.get_running_loop()
        last_read = -float("inf")
        interval = self.min_batch_s
        while True:
            # at most one read per interval: under load the events of a spell go out
            # together (one write per stream); after a quiet spell a read is at once
            gap = interval - (loop.time() - last_read)
            if gap > 0:
                await asyncio.sleep(gap)
            last_read = loop.time()
            found = 0
            try:
                self._dirty.clear()  # before reading: a wake-up during the read counts
                while True:
                    events = await asyncio.to_thread(read_events, self.db, self._cursor)
                    self.reads += 1
                    found += len(events)
                    if events:
                        self._cursor = events[-1].id
                        self._deliver(events)
                    if len(events) < _PAGE:
                        break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database away: try again later
                log.warning("reading the event outbox failed (%s); retrying", exc)
            interval = self.interval_after(found)
            try:  # not wait_for: on 3.11 it returns, swallowing a cancel (stop()), when
                # the wait ends at the same moment — the reader then never ended
                async with asyncio.timeout(self.timeout):
                    await self._dirty.wait()
            except TimeoutError:
                pass

    async def _listen(self) -> None:
        import psycopg

        url = self.db.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening = True
                    self.poke()  # anything committed while not listening
                    async for _ in conn.notifies():
                        if self._dirty is not None:
                            self._dirty.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect after a lost connection
                log.warning("LISTEN %s lost (%s); polling until it reconnects", CHANNEL, exc)
            self.listening = False
            await asyncio.sleep(1.0)
