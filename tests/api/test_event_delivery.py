"""Guarantees of the live event stream, on SQLite and PostGIS, driven at the ASGI level
(one event loop, many open streams, no sockets):

* the start position is fixed before the 200 is sent: an incident committed while the
  client receives the headers arrives;
* N subscribers, incidents reported right after each subscription: 0 lost;
* ``Last-Event-ID`` resumes without a gap;
* one outbox reader per process, however many subscribers;
* wake-ups are level-triggered (a wake-up during a read is not lost);
* a stream ends after logout;
* under load the events of one read go out in one write; a lone event at once;
* a subscriber too far behind is ended, the others keep theirs.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import pytest

from geo_sigap.dispatch import events as events_mod
from geo_sigap.dispatch.actors import Actor
from geo_sigap.dispatch.intake import ReportInput, report_incident
from geo_sigap.domain.lifecycle import UserRole
from tests.conftest import IN_RT1, IN_RT2, PASSWORDS

OPERATOR = Actor("operator", UserRole.OPERATOR)


def _report(services, text: str) -> str:
    pt = IN_RT1 if len(text) % 2 else IN_RT2
    return report_incident(services, OPERATOR, ReportInput("pkl", text, *pt)).incident["ticket"]


class Stream:
    """One ``GET`` on the ASGI app, its body chunks parsed into SSE events."""

    def __init__(self, app, path: str, headers: dict[str, str], on_start=None):
        self.app, self.on_start = app, on_start
        parts = urlsplit(path)
        self.scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": "GET", "scheme": "http", "path": parts.path,
            "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
            "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
        self.status: asyncio.Future = asyncio.get_running_loop().create_future()
        self.ended = asyncio.Event()
        self.events: list[dict] = []
        self.ids: list[int] = []
        self._buf = b""
        self._gone = asyncio.Event()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        async def receive():
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(msg):
            if msg["type"] == "http.response.start":
                if self.on_start is not None:
                    await self.on_start()
                self.status.set_result(msg["status"])
            elif msg["type"] == "http.response.body":
                self._buf += msg.get("body", b"")
                while b"\n\n" in self._buf:
                    block, self._buf = self._buf.split(b"\n\n", 1)
                    for line in block.split(b"\n"):
                        if line.startswith(b"id: "):
                            self.ids.append(int(line[4:]))
                        elif line.startswith(b"data: "):
                            self.events.append(json.loads(line[6:]))
                if not msg.get("more_body"):
                    self.ended.set()

        try:
            await self.app(self.scope, receive, send)
        finally:
            self.ended.set()

    @property
    def tickets(self) -> set[str]:
        return {e.get("ticket") for e in self.events if e.get("ticket")}

    async def until(self, tickets: set[str], timeout: float = 20.0) -> set[str]:
        end = asyncio.get_running_loop().time() + timeout
        while not tickets <= self.tickets and asyncio.get_running_loop().time() < end:
            if self.ended.is_set():
                break
            await asyncio.sleep(0.02)
        return self.tickets

    async def close(self) -> None:
        self._gone.set()
        try:
            await asyncio.wait_for(self.task, 5)
        except (TimeoutError, asyncio.CancelledError, Exception):  # noqa: BLE001
            self.task.cancel()


@pytest.fixture
def app(services):
    from geo_sigap.web.app import create_app

    return create_app(services.settings, services)


def _token(services, username: str) -> dict[str, str]:
    from geo_sigap.dispatch.users import login

    token, _, _ = login(services.db, username, PASSWORDS[username])
    return {"Authorization": f"Bearer {token}"}


async def _stop(app) -> None:
    hub = getattr(app.state, "event_hub", None)
    if hub is not None:
        await hub.stop()


def test_incident_committed_while_headers_are_sent_arrives(services, app):
    """The start position is read before the 200: a report committed the moment the
    client holds the headers is delivered (with the position read afterwards it was
    counted as 'before the stream' and never sent)."""
    headers = _token(services, "operator")

    async def main():
        posted: list[str] = []

        async def on_start():
            posted.append(await asyncio.to_thread(_report, services, "saat header"))

        s = Stream(app, "/api/events", headers, on_start)
        assert await s.status == 200
        got = await s.until(set(posted), timeout=15)
        await s.close()
        await _stop(app)
        return posted, got

    posted, got = asyncio.run(main())
    assert set(posted) <= got


def test_many_subscribers_lose_nothing_and_one_reader_serves_them(services, app,
                                                                  monkeypatch):
    """20 streams, a report right after each one opens: every stream receives every
    report made after it opened (0 lost), and the outbox is read by the process's hub,
    not once per subscriber."""
    headers = _token(services, "operator")
    reads = {"n": 0}
    real = events_mod.read_events

    def counting(*a, **kw):
        reads["n"] += 1
        return real(*a, **kw)

    monkeypatch.setattr(events_mod, "read_events", counting)
    n = 20

    async def main():
        streams, tickets = [], []
        for i in range(n):
            s = Stream(app, "/api/events", headers)
            assert await s.status == 200
            streams.append(s)
            tickets.append(await asyncio.to_thread(_report, services, f"lapak {i}"))
        for s in streams:  # backlogs read: from here on only the hub reads
            while not s.events and not s.ended.is_set():
                await asyncio.sleep(0.01)
        before = reads["n"]
        late = [await asyncio.to_thread(_report, services, f"susulan {i}") for i in range(5)]
        got = [await s.until(set(tickets[i:]) | set(late)) for i, s in enumerate(streams)]
        live_reads = reads["n"] - before
        ordered = all(s.ids == sorted(set(s.ids)) for s in streams)
        for s in streams:
            await s.close()
        await _stop(app)
        return tickets, late, got, live_reads, ordered

    tickets, late, got, live_reads, ordered = asyncio.run(main())
    lost = sum(len((set(tickets[i:]) | set(late)) - g) for i, g in enumerate(got))
    assert lost == 0
    assert ordered  # each event once, in id order
    # 5 reports, one reader: a few reads (a wake-up per commit, the poll), never 20 × 5
    assert live_reads <= 5 * 3, live_reads


def test_last_event_id_resumes_without_a_gap(services, app):
    headers = _token(services, "operator")

    async def main():
        first = [await asyncio.to_thread(_report, services, f"a{i}") for i in range(3)]
        s = Stream(app, "/api/events?after=0", headers)
        await s.until(set(first))
        await s.close()
        last = s.ids[-1]
        missed = [await asyncio.to_thread(_report, services, f"b{i}") for i in range(3)]
        r = Stream(app, "/api/events", {**headers, "Last-Event-ID": str(last)})
        assert await r.status == 200
        got = await r.until(set(missed))
        await r.close()
        await _stop(app)
        return first, missed, got, r.ids, last

    first, missed, got, ids, last = asyncio.run(main())
    assert set(missed) <= got and not set(first) & got
    assert min(ids) > last


def test_a_wake_up_during_a_read_is_not_lost(services, monkeypatch):
    """The reader clears its wake-up flag before reading: a commit landing while it
    reads (simulated: committed from inside the read, after the outbox query) is
    delivered at once, not after the fallback poll (an hour here)."""
    hub = events_mod.EventHub(services.db, poll_s=3600, pg_fallback_s=3600)
    real = events_mod.read_events
    injected: list[str] = []

    def read_then_commit(db, after_id, *a, **kw):
        out = real(db, after_id, *a, **kw)
        if hub.subscribers and not injected:
            injected.append(_report(services, "selama membaca"))  # pokes the hub
        return out

    monkeypatch.setattr(events_mod, "read_events", read_then_commit)

    async def main():
        sub = await hub.subscribe(await hub.position())
        hub.poke()
        got = []

        async def consume():
            async for chunk in hub.stream(None, subscription=sub):
                got.append(chunk)
                if injected and any(injected[0] in c for c in got):
                    return

        try:
            await asyncio.wait_for(consume(), 20)
        finally:
            await hub.stop()
        return got

    got = asyncio.run(main())
    assert injected and any(injected[0] in c for c in got)


def test_stream_ends_after_logout(services, app, monkeypatch):
    """An open stream stops delivering once its session is signed out: it ends at the
    next delivery or re-check (here every 0.2 s) instead of carrying on."""
    from geo_sigap.dispatch.users import logout
    from geo_sigap.web.routes import events as route

    monkeypatch.setattr(route, "RECHECK_S", 0.2)
    headers = _token(services, "operator")
    token = headers["Authorization"][7:]

    async def main():
        s = Stream(app, "/api/events", headers)
        assert await s.status == 200
        before = await asyncio.to_thread(_report, services, "sebelum keluar")
        await s.until({before})
        await asyncio.to_thread(logout, services.db, token)
        after = await asyncio.to_thread(_report, services, "sesudah keluar")
        await asyncio.wait_for(s.ended.wait(), 10)
        await s.close()
        await _stop(app)
        return before, after, s.tickets

    before, after, got = asyncio.run(main())
    assert before in got and after not in got


def test_stream_ends_without_traffic_after_logout(services, app, monkeypatch):
    from geo_sigap.dispatch.users import logout
    from geo_sigap.web.routes import events as route

    monkeypatch.setattr(route, "RECHECK_S", 0.2)
    headers = _token(services, "dispatcher")

    async def main():
        s = Stream(app, "/api/events", headers)
        assert await s.status == 200
        await asyncio.to_thread(logout, services.db, headers["Authorization"][7:])
        await asyncio.wait_for(s.ended.wait(), 10)  # no event needed to notice
        await s.close()
        await _stop(app)

    asyncio.run(main())


def test_events_of_a_busy_spell_go_out_together_and_a_lone_one_at_once(services):
    """The reader reads at most once per ``batch_s``: after a quiet spell an event is
    read at once (with an hour's batch it would otherwise never come here), and two
    reports committed within the next window reach the stream in one write."""
    hub = events_mod.EventHub(services.db, poll_s=3600, pg_fallback_s=3600, batch_s=2.0,
                              min_batch_s=2.0)

    async def main():
        sub = await hub.subscribe(await hub.position())
        chunks: list[str] = []
        lone: list[str] = []
        pair: list[str] = []

        async def consume():
            async for chunk in hub.stream(None, subscription=sub):
                chunks.append(chunk)
                if not lone and chunk.startswith("id:"):
                    lone.append(chunk)
                    pair.extend([await asyncio.to_thread(_report, services, f"b{i}")
                                 for i in range(2)])
                elif pair and all(t in "".join(chunks) for t in pair):
                    return

        first = await asyncio.to_thread(_report, services, "sendiri")
        try:
            await asyncio.wait_for(consume(), 30)
        finally:
            await hub.stop()
        return first, lone, pair, [c for c in chunks if c.startswith("id:")]

    first, lone, pair, writes = asyncio.run(main())
    assert first in lone[0] and lone[0].count("id: ") == 1
    assert len(writes) == 2, writes  # the pair in one write, not one write per event
    assert all(t in writes[1] for t in pair) and writes[1].count("id: ") == 2


def test_reads_are_spaced_by_the_long_interval_only_in_a_busy_spell(services):
    """Several events in a read: the next waits ``batch_s`` (one write per stream for
    the spell); one or none: only ``min_batch_s`` (a trickle stays prompt)."""
    hub = events_mod.EventHub(services.db, batch_s=0.2, min_batch_s=0.05)
    assert hub.interval_after(0) == hub.interval_after(1) == 0.05
    assert hub.interval_after(2) == hub.interval_after(500) == 0.2
    assert events_mod.EventHub(services.db, batch_s=0.02).min_batch_s == 0.02  # never longer


def test_a_trickle_of_events_reaches_the_stream_without_the_busy_wait(services):
    """With a long busy interval (an hour), events committed one at a time still arrive
    one read each: a read that found one event is followed by the short interval."""
    hub = events_mod.EventHub(services.db, poll_s=3600, pg_fallback_s=3600, batch_s=3600,
                              min_batch_s=0.05)

    async def main():
        sub = await hub.subscribe(await hub.position())
        got: list[str] = []

        async def consume():
            async for chunk in hub.stream(None, subscription=sub):
                if chunk.startswith("id:"):
                    got.append(chunk)
                    if len(got) == 3:
                        return

        async def produce():
            for i in range(3):
                await asyncio.to_thread(_report, services, f"t{i}")
                while len(got) <= i:  # the next one after this one has arrived
                    await asyncio.sleep(0.01)

        try:
            await asyncio.wait_for(asyncio.gather(consume(), produce()), 30)
        finally:
            await hub.stop()
        return got

    got = asyncio.run(main())
    assert [c.count("id: ") for c in got] == [1, 1, 1]


def _fake(i: int) -> events_mod.Event:
    return events_mod.Event(i, "incident", {"ticket": f"T{i}"}, "2026-12-01T00:00:00+00:00")


def test_a_subscriber_too_far_behind_is_ended_and_the_others_keep_theirs(services):
    """``max_queue`` counts events, not reads: a stream that does not read is ended once
    its queued events would pass it (its browser reconnects with Last-Event-ID);
    subscribers receive only events after their start, one queue item per read."""
    hub = events_mod.EventHub(services.db, max_queue=5)

    async def main():
        await hub.start()
        try:
            p = await hub.position()
            slow = await hub.subscribe(p)
            late = await hub.subscribe(p + 3)
            hub._deliver([_fake(p + 1), _fake(p + 2), _fake(p + 3)])
            hub._deliver([_fake(p + 4), _fake(p + 5)])
            state = (slow.pending, late.pending, late.queue.qsize(), slow.overflowed)
            hub._deliver([_fake(p + 6)])  # slow would hold 6 > 5
            got_late = [[e.id - p for e in late.queue.get_nowait()]
                        for _ in range(late.queue.qsize())]
            chunks = [c async for c in hub.stream(None, subscription=slow)]
            return state, slow.overflowed, hub.subscribers, got_late, chunks
        finally:
            await hub.stop()

    state, overflowed, left, got_late, chunks = asyncio.run(main())
    assert state == (5, 2, 1, False)
    assert overflowed and left == 1  # only `late` is still registered
    assert got_late == [[4, 5], [6]]
    assert not any(c.startswith("id:") for c in chunks)  # ended without sending more
