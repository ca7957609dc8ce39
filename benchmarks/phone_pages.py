"""Phone pages benchmark: page weight and time to usable of /lapangan and /lapor.

Run from the repository root::

    python -m benchmarks.phone_pages [--json]

Starts the browser-test server (bundled demo area, a team with two open assignments) and
Debian's headless Chromium on a 390×844 phone viewport, then per page:

- **first load**: a fresh browser context (empty HTTP cache, no service worker); bytes
  on the wire both ways, counted by the relay (:mod:`tests.browser._netcut`) the browser
  talks through, until the link is quiet (page, scripts, base map, API reads, and the
  service worker's own precaching).
- **repeat load**: the same context again (HTTP cache and, for /lapangan, the service
  worker's cache in place).
- **throttled**: 400 kbit/s each way and 400 ms round trip, made by the relay for every
  connection (the service worker's included); time from navigation to *usable*
  (``body[data-ready='1']``: the field page shows its cases, the citizen page its
  categories). Also with CDP ``Network.emulateNetworkConditions`` (the same figures),
  which throttles only the page's own requests, not the service worker's.

The field page is measured signed in as a team member (the sign-in page is not counted).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

SLOW_CDP = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
            "uploadThroughput": 400_000 / 8}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "locale": "id-ID", "timezone_id": "Asia/Jakarta"}


def _settle(relay, quiet_s: float = 1.5, limit_s: float = 90) -> None:
    """Wait until the relay has carried nothing new for ``quiet_s`` (the page and its
    service worker are done; the open event stream sends nothing meanwhile)."""
    t_end = time.monotonic() + limit_s
    last, since = -1, time.monotonic()
    while time.monotonic() < t_end:
        now = relay.up_bytes + relay.down_bytes
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.1)


def _measure(page, relay, url: str, mode: str) -> dict:
    cdp = None
    if mode == "cdp":
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_CDP)
    relay.throttle(400, 400) if mode == "relay" else relay.throttle(None)
    up0, down0 = relay.up_bytes, relay.down_bytes
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-ready='1']", timeout=180_000)
    usable = time.perf_counter() - t0
    _settle(relay)
    relay.throttle(None)
    if cdp is not None:
        cdp.detach()
    return {"usable_s": round(usable, 2), "received_bytes": relay.down_bytes - down0,
            "sent_bytes": relay.up_bytes - up0}


def run() -> dict:
    from playwright.sync_api import sync_playwright

    from tests.browser._netcut import Relay
    from tests.browser.conftest import ARGS, CHROMIUM, Server, login
    from tests.browser.test_field_offline import A_POINT, B_POINT, Api

    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), [])
        relay = Relay(server.port)
        try:
            api = Api(server.base)
            team = api.call("coordinator", "GET", "/api/teams")["items"][0]["code"]
            api.dispatched("ternak", A_POINT, team, "Sapi lepas")
            api.dispatched("keributan", B_POINT, team, "Cekcok warga")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for name, path, who in (("lapangan", "/lapangan", f"tim_{team.lower()}"),
                                        ("lapor", "/lapor", None)):
                    row = {}
                    for mode in ("fast", "relay", "cdp"):
                        ctx = browser.new_context(**PHONE)
                        if who:
                            login(ctx, relay.base, who, "/status").close()
                        page = ctx.new_page()
                        first = _measure(page, relay, relay.base + path, mode)
                        if name == "lapangan":
                            page.wait_for_function("() => window.SIGAP_FIELD.swReady",
                                                   timeout=120_000)
                        page.close()
                        page = ctx.new_page()
                        repeat = _measure(page, relay, relay.base + path, mode)
                        row[mode] = {"first": first, "repeat": repeat}
                        ctx.close()
                    results[name] = row
                browser.close()
        finally:
            relay.close()
            server.stop()
    return results


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = run()
    if args.json:
        print(json.dumps(res, indent=2))
        return
    for name, row in res.items():
        f, r, c = row["fast"], row["relay"], row["cdp"]
        kb = lambda m: (m["received_bytes"] + m["sent_bytes"]) / 1024  # noqa: E731
        print(f"/{name}: first load {kb(f['first']):.0f} KB, repeat {kb(f['repeat']):.1f} KB; "
              f"usable at 400 kbit/s + 400 ms RTT (whole link): first "
              f"{r['first']['usable_s']:.1f} s, repeat {r['repeat']['usable_s']:.1f} s; "
              f"(CDP page throttling: first {c['first']['usable_s']:.1f} s, repeat "
              f"{c['repeat']['usable_s']:.1f} s)")


if __name__ == "__main__":
    sys.exit(main())
