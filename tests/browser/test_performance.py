"""With 5,000 open incidents and 500 teams the live map draws every marker and shows every
change (measured in headless Chromium; load and event times printed against their targets,
not asserted: a timing assertion fails on a busy machine)."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request

import pytest

from tests.browser.conftest import Requests, endless_animations, login, shot, start_server

N_INCIDENTS, N_TEAMS = 5000, 500
LOAD_TARGET_S, EVENT_TARGET_S = 3.0, 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory, "perf", ["--perf", str(N_INCIDENTS), str(N_TEAMS)])
    yield s
    s.stop()


def _post(base, path, body, token, headers=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {token}", **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_live_map_with_5000_incidents_and_500_teams(browser, server):
    base = server.base
    req = Requests()
    ctx = req.watch(browser.new_context(viewport={"width": 1920, "height": 1080},
                                        locale="id-ID", timezone_id="Asia/Jakarta"))
    page = login(ctx, base, "coordinator", "/peta")  # warms the session
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        page.goto(f"{base}/peta")
        page.wait_for_selector("body[data-ready='1']", timeout=30000)
        # chunked loading may still be clustering: wait until every marker is in the layer
        page.wait_for_function(
            f"() => window.SIGAP_MAP.incLayer.getLayers().length >= {N_INCIDENTS}", timeout=30000)
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r()))")
        wall = time.perf_counter() - t0
        loads.append((wall, page.evaluate("() => performance.now()") / 1000))
    n_inc = page.evaluate("() => window.SIGAP_MAP.incidents.size")
    n_teams = page.evaluate("() => window.SIGAP_MAP.teams.size")
    assert n_inc >= N_INCIDENTS and n_teams >= N_TEAMS
    page.wait_for_selector("#live.on", timeout=30000)
    shot(page, "20_peta_5000_kejadian")

    token = _post(base, "/api/auth/login", {"username": "operator", "password": "operator123"},
                  "")["token"]
    latencies = []
    for i in range(5):
        t_sent = time.time() * 1000
        inc = _post(base, "/api/incidents",
                    {"category": "keributan", "description": f"uji latensi {i}",
                     "channel": "hotline", "lon": 103.6471, "lat": -1.6222, "priority": 2},
                    token, {"Idempotency-Key": f"perf-{i}-{t_sent}"})
        key = f"{inc['ticket']}:{inc['status']}"
        # generous waits: what is asserted is that the event arrives, not how fast (the
        # latency is printed against its target; a busy machine took over 5 s here)
        page.wait_for_function(f"() => window.SIGAP_METRICS.seen['{key}'] !== undefined",
                               timeout=30000)
        seen = page.evaluate(f"() => window.SIGAP_METRICS.seen['{key}']")
        latencies.append((seen - t_sent) / 1000)
    # the marker is really on the map (zoom to it: it leaves its cluster)
    page.evaluate(f"() => window.SIGAP_MAP.focusIncident('{inc['ticket']}')")
    page.wait_for_selector(f".leaflet-marker-icon[title='{inc['ticket']}']", timeout=30000)
    shot(page, "21_peta_kejadian_baru_5000")
    # zoomed in, the late incidents are drawn one by one with their red halo, and none of
    # them pulses without end (a thousand did: a whole CPU core of the posko PC, for good)
    late_drawn = page.evaluate("() => document.querySelectorAll('.leaflet-marker-icon.inc.late').length")
    assert late_drawn > 100, late_drawn
    assert endless_animations(page) == []

    best_load = min(w for w, _ in loads)
    print(f"\n  live map, {n_inc} open incidents + {n_teams} teams (headless Chromium)")
    print("  load (navigation → all markers drawn), s: "
          + ", ".join(f"{w:.2f}" for w, _ in loads))
    print("  event → on map, s: " + ", ".join(f"{x:.3f}" for x in latencies)
          + f"  (median {statistics.median(latencies):.3f}, max {max(latencies):.3f})")
    # Speed is reported, not asserted: a timing assertion fails on a busy machine. The
    # targets (LOAD_TARGET_S, EVENT_TARGET_S) are printed beside the figures; what is
    # asserted is behaviour: every marker drawn, every event seen (within the waits above).
    print(f"  targets: load ≤ {LOAD_TARGET_S} s (best {best_load:.2f}), "
          f"event ≤ {EVENT_TARGET_S} s (max {max(latencies):.3f})")
    assert len(latencies) == 5
    assert not req.foreign(), req.foreign()[:10]
