"""The live event stream across several uvicorn workers on one PostGIS database:
a change made through one worker reaches event-stream clients of the other
(PostgreSQL LISTEN/NOTIFY). Which worker holds which connection is read from /proc, so
the test proves the cross-worker path rather than hoping for it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import IN_RT1, IN_RT2, PASSWORDS

pytestmark = [pytest.mark.postgis, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                cmd = (d / "cmdline").read_bytes()
                if b"spawn_main" in cmd or b"uvicorn" in cmd:  # not the resource tracker
                    out.append(int(d.name))
    return out


def _worker_of(client_port: int, server_port: int, workers: list[int]) -> int | None:
    """The worker pid holding the server side of the connection from ``client_port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            local, remote = int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16)
            if local == server_port and remote == client_port:
                inodes.add(f[9])
    for pid in workers:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return pid
        except OSError:
            continue
    return None


class _Conn:
    def __init__(self, port: int, token: str):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        self.c.connect()
        self.port = self.c.sock.getsockname()[1]
        self.h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        self.c.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers=self.h)
        r = self.c.getresponse()
        return r.status, json.loads(r.read() or b"{}")


def _sse_open(port: int, token: str):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.connect()
    local = c.sock.getsockname()[1]
    c.request("GET", "/api/events", headers={"Authorization": f"Bearer {token}"})
    r = c.getresponse()
    assert r.status == 200  # the start position is fixed before the 200: post at once
    return c, r, local


def _read_tickets(resp, want: set[str], deadline: float) -> set[str]:
    got: set[str] = set()
    while not want <= got and time.monotonic() < deadline:
        line = resp.readline()
        if not line:
            break
        if line.startswith(b"data: "):
            got.add(json.loads(line[6:]).get("ticket"))
    return got


@pytest.fixture
def pg_area(request, password_hashes):
    """URL of the session's PostGIS database, emptied and loaded with the fixture area."""
    from tests.conftest import _reset_postgis, load_fixture_area

    db = request.getfixturevalue("_postgis_db")
    _reset_postgis(db)
    load_fixture_area(db, password_hashes)
    return db.engine.url.render_as_string(hide_password=False)


def test_changes_through_one_worker_reach_clients_of_the_other(pg_area, tmp_path):
    db_url = pg_area
    port = _free_port()
    env = {**os.environ, "GEO_SIGAP_DATABASE_URL": db_url, "GEO_SIGAP_DATA_DIR": str(tmp_path),
           "GEO_SIGAP_SECRET_KEY": "multi-worker-test-secret-123", "GEO_SIGAP_DEMO": "false"}
    env.pop("GEO_SIGAP_ROAD_NETWORK", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "geo_sigap.web.app:create_app", "--factory",
         "--workers", "2", "--host", "127.0.0.1", "--port", str(port), "--log-level",
         "warning"], cwd=REPO, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    conns = []
    try:
        deadline = time.monotonic() + 90
        workers: list[int] = []
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    workers = _children(proc.pid)
                    if len(workers) >= 2:
                        break
            except OSError:
                pass
            if proc.poll() is not None:
                pytest.fail("uvicorn exited: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.5)
        assert len(workers) == 2, "two uvicorn workers did not start"
        login = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        login.request("POST", "/api/auth/login", body=json.dumps(
            {"username": "operator", "password": PASSWORDS["operator"]}),
            headers={"Content-Type": "application/json"})
        token = json.loads(login.getresponse().read())["token"]

        # event-stream subscribers and request connections, until both workers have each
        subs: dict[int, tuple] = {}
        reqs: dict[int, _Conn] = {}
        # The kernel hands each new connection to whichever worker accepts first; a worker
        # busy warming up its engines may miss many in a row, so keep trying for a while.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(subs) == 2 and len(reqs) == 2:
                break
            time.sleep(0.1)
            if len(subs) < 2:
                c, r, local = _sse_open(port, token)
                w = _worker_of(local, port, workers)
                if w is not None and w not in subs:
                    subs[w] = (c, r)
                    conns.append(c)
                else:
                    c.close()  # landed on a worker already covered
            if len(reqs) < 2:
                rc = _Conn(port, token)
                w = _worker_of(rc.port, port, workers)
                if w is not None and w not in reqs:
                    reqs[w] = rc
                    conns.append(rc.c)
                else:
                    rc.c.close()
        assert len(subs) == 2 and len(reqs) == 2, "could not reach both workers"

        tickets = set()
        for i, (w, rc) in enumerate(sorted(reqs.items())):
            for j, pt in enumerate((IN_RT1, IN_RT2)):
                status, body = rc.call("POST", "/api/incidents", {
                    "category": "pkl", "description": f"lapak {i}-{j}", "lon": pt[0],
                    "lat": pt[1]})
                assert status == 201, body
                tickets.add(body["ticket"])
            status, body = rc.call("POST", f"/api/incidents/{body['ticket']}/transitions",
                                   {"action": "verify", "version": body["version"]})
            assert status == 200, body
        end = time.monotonic() + 20
        for w, (_, r) in subs.items():
            got = _read_tickets(r, tickets, end)
            assert tickets <= got, f"subscriber on worker {w} missed {tickets - got}"
    finally:
        for c in conns:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
