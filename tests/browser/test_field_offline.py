"""The field app on a phone with the network really cut.

A relay (:mod:`tests.browser._netcut`) sits between Chromium and the server: cutting it
resets every connection (page, service worker, event stream), and the browser context is
put offline too. Checked: the page and its cases load with no network; depart, arrive, a
report with a phone photo and "handled", all made offline, reach the server exactly once
when the network returns — also when the first answers are lost on the way back; a
reassignment made meanwhile is shown in words; a new assignment arrives live with sound
and vibration. Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import base64
import json
import urllib.request

import pytest

from tests.browser._netcut import Relay
from tests.browser.conftest import endless_animations, login, shot, start_server

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "locale": "id-ID", "timezone_id": "Asia/Jakarta",
         "geolocation": {"longitude": 103.6471, "latitude": -1.6222},
         "permissions": ["geolocation"]}
A_POINT, B_POINT, C_POINT = (103.6471, -1.6222), (103.6628, -1.6164), (103.6480, -1.6230)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory, "field")
    yield s
    s.stop()


class Api:
    """The posko's side, straight to the server (not through the phone's relay)."""

    def __init__(self, base: str):
        self.base = base
        self.tokens: dict[str, str] = {}

    def call(self, who: str, method: str, path: str, body=None):
        if who not in self.tokens:
            self.tokens[who] = self._login(who)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def _login(self, who: str) -> str:
        req = urllib.request.Request(self.base + "/api/auth/login", method="POST",
                                     data=json.dumps({"username": who,
                                                      "password": who + "123"}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())["token"]

    def dispatched(self, category: str, point, team: str, text: str) -> str:
        inc = self.call("operator", "POST", "/api/incidents", {
            "category": category, "description": text, "lon": point[0], "lat": point[1],
            "reporter_name": "Bu Sari", "reporter_phone": "081200001111"})
        t = inc["ticket"]
        inc = self.call("operator", "POST", f"/api/incidents/{t}/transitions",
                        {"action": "verify", "version": inc["version"]})
        self.call("dispatcher", "POST", f"/api/incidents/{t}/assign", {
            "version": inc["version"], "assignments": [{"team_code": team, "kind": "lead"}]})
        return t

    def audit(self, ticket: str) -> list[dict]:
        return self.call("coordinator", "GET", f"/api/incidents/{ticket}/audit")["entries"]


def phone_photo(page) -> bytes:
    """A 4000×3000 camera-like JPEG (noise and gradients: it does not compress away)."""
    b64 = page.evaluate("""async () => {
      const c = document.createElement('canvas'); c.width = 4000; c.height = 3000;
      const g = c.getContext('2d');
      const grad = g.createLinearGradient(0, 0, 4000, 3000);
      grad.addColorStop(0, '#4a7a3a'); grad.addColorStop(1, '#c9b27a');
      g.fillStyle = grad; g.fillRect(0, 0, 4000, 3000);
      const img = g.getImageData(0, 0, 4000, 3000), d = img.data;
      let x = 12345;
      for (let i = 0; i < d.length; i += 4) { x = (x * 1103515245 + 12345) & 0x7fffffff;
        const n = (x % 90) - 45; d[i] += n; d[i + 1] += n; d[i + 2] += n; }
      g.putImageData(img, 0, 0);
      const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.92));
      const buf = new Uint8Array(await blob.arrayBuffer());
      let s = ''; for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
      return btoa(s);
    }""")
    return base64.b64decode(b64)


def waiting(page) -> int:
    return int(page.get_attribute("#net", "data-waiting") or "0")


def test_field_app_offline_and_back(browser, server, tmp_path):
    api = Api(server.base)
    teams = [t["code"] for t in api.call("coordinator", "GET", "/api/teams")["items"]]
    team, other = teams[0], teams[1]
    a = api.dispatched("ternak", A_POINT, team, "Dua ekor sapi lepas di jalan dekat sekolah")
    b = api.dispatched("keributan", B_POINT, team, "Cekcok warga di depan warung")

    relay = Relay(server.port)
    try:
        ctx = browser.new_context(**PHONE)
        logs: list[str] = []
        ctx.on("console", lambda m: logs.append(m.text))
        page = login(ctx, relay.base, f"tim_{team.lower()}", "/lapangan")
        page.on("requestfailed", lambda r: logs.append("FAILED " + r.method + " " + r.url))
        page.on("response", lambda r: logs.append(f"{r.status} {r.request.method} {r.url}"))
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        page.wait_for_function("() => window.SIGAP_FIELD && window.SIGAP_FIELD.swReady", timeout=20000)
        page.reload()  # now under the service worker: everything it needs is stored
        page.wait_for_selector(f"article[data-ticket='{a}']", timeout=20000)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.wait_for_timeout(1500)  # routes and base map stored
        photo_file = tmp_path / "IMG_20260304_101500.jpg"
        photo_file.write_bytes(phone_photo(page))
        assert photo_file.stat().st_size > 1_500_000
        # map and route first on the phone: the map starts at the top, the first card below
        map_box = page.locator("#map").bounding_box()
        card_box = page.locator(f"article[data-ticket='{a}']").bounding_box()
        assert map_box["y"] < 120 and card_box["y"] > map_box["y"] + map_box["height"]
        card = page.locator(f"article[data-ticket='{a}']")
        assert card.locator("a.navi").get_attribute("href").startswith("geo:-1.6222,103.6471")
        assert "Talang Bakung" in card.locator(".where").inner_text()
        shot(page, "20_lapangan_online")

        # ---- the signal is gone: reset every connection, context offline, page reloaded
        relay.cut()
        ctx.set_offline(True)
        page.reload()
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        page.wait_for_selector(f"article[data-ticket='{a}']", timeout=30000)
        page.wait_for_selector(f"article[data-ticket='{b}']")
        page.wait_for_function("() => document.querySelector('#net').classList.contains('offline')")
        assert "Tanpa sinyal sejak" in page.inner_text("#net")
        page.wait_for_function("() => document.querySelector('.leaflet-overlay-pane canvas') !== null")
        shot(page, "21_lapangan_offline_termuat")

        card = page.locator(f"article[data-ticket='{a}']")
        card.locator("button[data-action='depart']").click()
        page.wait_for_function(f"() => document.querySelector(\"article[data-ticket='{a}'] button[data-action='arrive']\")")
        card.locator("button[data-action='arrive']").click()
        card.locator("textarea[name=text]").wait_for(state="visible")
        card.locator("textarea[name=text]").fill("Dua sapi digiring ke kandang pemilik, jalan aman.")
        # "handled" before any report: asked for the report (step 6), nothing queued
        card.locator("button[data-action='handle']").click()
        page.wait_for_function(f"() => document.querySelector(\"article[data-ticket='{a}'] .need-report\").textContent.includes('laporan')")
        card.locator("input[name=photos]").set_input_files(str(photo_file))
        page.wait_for_function(f"() => document.querySelectorAll(\"article[data-ticket='{a}'] .thumbs img\").length === 1",
                               timeout=20000)
        small = page.evaluate("window.SIGAP_FIELD.lastPhoto[0]")
        assert small["size"] < 600_000 < small["original_size"], small
        card.locator(".report-form button[type=submit]").click()
        page.wait_for_function(f"() => document.querySelector(\"article[data-ticket='{a}'] .report-state\").textContent.length > 0")
        assert "menunggu sinyal" in card.locator(".report-state").inner_text()
        card.locator("button[data-action='handle']").click()
        # case B: depart, offline too (it will be reassigned meanwhile)
        page.locator(f"article[data-ticket='{b}'] button[data-action='depart']").click()
        page.wait_for_function("() => document.querySelector('#net').dataset.waiting === '5'")
        assert "menunggu sinyal" in page.inner_text("#net")
        # a case handled offline goes to "riwayat"; the typed text and photo are in the outbox
        page.wait_for_selector(f"#history-list [data-ticket='{a}']", state="attached")
        shot(page, "22_lapangan_antrean_offline")

        # nothing is lost when the page is closed and opened again without signal
        page.reload()
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        page.wait_for_function("() => document.querySelector('#net').dataset.waiting === '5'")
        assert page.locator(f"article[data-ticket='{b}'] .queued").is_visible()

        # meanwhile the posko reassigns case B to another team
        inc_b = api.call("dispatcher", "GET", f"/api/incidents/{b}")
        inc_b = api.call("dispatcher", "POST", f"/api/incidents/{b}/unassign", {
            "version": inc_b["version"], "team_code": team, "reason": "Tim lain lebih dekat"})
        api.call("dispatcher", "POST", f"/api/incidents/{b}/assign", {
            "version": inc_b["version"], "assignments": [{"team_code": other, "kind": "lead"}]})

        # ---- signal returns, but the first answers are lost on the way back
        relay.lossy()
        ctx.set_offline(False)
        page.wait_for_timeout(2500)
        relay.restore()
        try:
            page.wait_for_function("() => document.querySelector('#net').dataset.waiting === '0'",
                                   timeout=40000)
        except Exception:
            shot(page, "23_lapangan_gagal")
            print("NET", page.inner_text("#net"), "CONFLICTS", page.inner_text("#conflicts"),
                  "LOG", logs[-30:], page.evaluate(
                      "SIGAP_STORE.Outbox.all().then(a => JSON.stringify(a.map(i => [i.seq, i.kind, i.action, i.state, i.error])))"))
            raise
        page.wait_for_selector(f"#conflicts .conflict[data-ticket='{b}']", timeout=30000)
        assert "dialihkan ke tim lain" in page.inner_text("#conflicts")
        page.wait_for_selector("#notices .notice", timeout=30000)
        assert b in page.inner_text("#notices") and "dialihkan" in page.inner_text("#notices")
        assert page.locator(f"article[data-ticket='{b}']").count() == 0
        page.wait_for_function("() => !document.querySelector('#net').classList.contains('offline')")
        shot(page, "23_lapangan_kembali_online")

        entries = api.audit(a)
        actions = [e["action"] for e in entries]
        assert actions.count("depart") == 1 and actions.count("arrive") == 1, actions
        assert actions.count("report_field") == 1 and actions.count("handle") == 1, actions
        assert actions.index("report_field") < actions.index("handle")
        inc_a = api.call("coordinator", "GET", f"/api/incidents/{a}")
        assert inc_a["status"] == "ditangani"
        (rep,) = inc_a["reports"]
        assert rep["text"] == "Dua sapi digiring ke kandang pemilik, jalan aman."
        (att,) = rep["attachments"]
        assert att["content_type"] == "image/jpeg" and 20_000 < att["size"] < 600_000
        assert "depart" not in [e["action"] for e in api.audit(b) if e["actor"] != "dispatcher"]
        replays = page.evaluate("window.SIGAP_FIELD.metrics")
        print("field metrics", replays, "photo bytes", att["size"], "of", photo_file.stat().st_size)

        # ---- a new assignment arrives live, with sound and vibration
        page.evaluate("window.SIGAP_FIELD.metrics.alerts = 0")
        c = api.dispatched("keributan", C_POINT, team, "Tawuran pelajar")
        page.wait_for_selector(f"article[data-ticket='{c}']", timeout=30000)
        m = page.evaluate("window.SIGAP_FIELD.metrics")
        assert m["alerts"] == 1 and m["vibrations"] == 1
        ctx.close()
    finally:
        relay.close()


def test_citizen_reports_with_a_photo_and_follows_it_to_closure(browser, server, tmp_path):
    api = Api(server.base)
    teams = [t["code"] for t in api.call("coordinator", "GET", "/api/teams")["items"]]
    # an earlier pekat report nearby: on the public map only by its kelurahan
    api.dispatched("pekat", (103.6632, -1.6168), teams[2], "Judi di rumah Pak Darto")
    ctx = browser.new_context(**{**PHONE, "geolocation": {"longitude": 103.6628,
                                                          "latitude": -1.6164}})
    errors: list[str] = []
    relay = Relay(server.port)  # to count the bytes the phone sends
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{relay.base}/lapor")
    page.wait_for_selector("body[data-ready='1']")
    # no category chosen for the citizen; plain words and an "I don't know" choice
    assert page.locator("input[name=category]:checked").count() == 0
    labels = page.inner_text("#categories")
    assert "Lainnya / tidak tahu" in labels and "berkeliaran di jalan" in labels
    # sending too early: the error shows where the citizen looks (in view, near the button)
    page.click("#send")
    err = page.locator("#form-error")
    err.wait_for(state="visible")
    assert "Pilih jenis kejadian" in err.inner_text()
    box = err.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 844
    page.check("input[name=category][value=ternak]")
    page.fill("#description", "Tiga ekor kambing masuk ke halaman sekolah")
    page.click("#send")
    page.wait_for_function("() => document.querySelector('#form-error').textContent.includes('lokasi')")
    assert 0 <= page.locator("#form-error").bounding_box()["y"] <= 844
    # place by landmark search (the forward geocoder)
    page.fill("#address", "Eka Jaya")
    page.click("#search")
    page.wait_for_selector("#results li button", timeout=30000)
    page.locator("#results li button").first.click()
    page.wait_for_function("() => document.querySelector('#lonlat').textContent.length > 0")
    # then GPS: zoom 17, and the base map shows roads and their names
    page.click("#gps")
    page.wait_for_function("() => SIGAP_LAPOR.map.getZoom() === 17 && document.querySelectorAll('.road-label').length > 0",
                           timeout=30000)
    page.wait_for_function("() => Number(document.querySelector('#nearby-count').textContent) >= 1", timeout=30000)
    # the typed report survives a reload (a draft in this browser until it is sent)
    where = page.text_content("#lonlat")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#description") == "Tiga ekor kambing masuk ke halaman sekolah"
    assert page.locator("input[name=category][value=ternak]").is_checked()
    assert page.locator("input[name=category]:checked").count() == 1
    def latlon(text):
        lat, lon = text.split(" · ")[-1].split(",")
        return float(lat), float(lon)
    before, after = latlon(where), latlon(page.text_content("#lonlat"))
    assert abs(before[0] - after[0]) < 5e-4 and abs(before[1] - after[1]) < 5e-4, (where, after)
    page.wait_for_function("() => Number(document.querySelector('#nearby-count').textContent) >= 1", timeout=30000)
    nearby = page.text_content("#nearby-list")
    assert "Pekat" in nearby and "hanya kelurahan" in nearby and "Darto" not in nearby
    photo = tmp_path / "IMG_warga.jpg"
    photo.write_bytes(phone_photo(page))
    page.set_input_files("#photos", str(photo))
    page.wait_for_selector("#thumbs img", timeout=20000)
    page.locator("#map").scroll_into_view_if_needed()
    shot(page, "24_lapor_peta_z17")
    page.wait_for_timeout(1500)  # nearby feed and map drawn: only the report is measured
    before = relay.up_bytes
    page.click("#send")
    page.wait_for_selector("#thanks:not([hidden])", timeout=20000)
    ticket = page.inner_text("#ticket")
    assert ticket.startswith("SGP-")
    assert page.evaluate("() => localStorage.getItem('sigap.draft.lapor')") is None  # sent: draft gone
    assert page.locator("#copy").is_visible() and page.locator("#share-ticket").is_visible()
    sent = relay.up_bytes - before
    print(f"citizen report with one phone photo: {sent} bytes sent "
          f"(photo {photo.stat().st_size} bytes as taken)")
    assert 20_000 < sent < 700_000
    shot(page, "25_lapor_tiket")

    # the posko takes it through the SOP and closes it with a note for the public
    inc = api.call("operator", "GET", f"/api/incidents/{ticket}")
    assert inc["reports"][0]["team_code"] == "WARGA" and len(inc["reports"][0]["attachments"]) == 1
    inc = api.call("operator", "POST", f"/api/incidents/{ticket}/transitions",
                   {"action": "verify", "version": inc["version"]})
    inc = api.call("dispatcher", "POST", f"/api/incidents/{ticket}/assign", {
        "version": inc["version"], "assignments": [{"team_code": teams[3], "kind": "lead"}]})
    inc = api.call("dispatcher", "POST", f"/api/incidents/{ticket}/transitions",
                   {"action": "arrive", "version": inc["incident"]["version"]})
    inc = api.call("dispatcher", "POST", f"/api/incidents/{ticket}/transitions", {
        "action": "handle", "version": inc["version"],
        "reason": "Kambing dikembalikan ke pemilik; foto lupa diambil"})
    api.call("coordinator", "POST", f"/api/incidents/{ticket}/transitions", {
        "action": "resolve", "version": inc["version"], "note": "Pemilik: Pak Umar (internal)",
        "public_note": "Kambing sudah dikembalikan ke pemiliknya dan halaman sekolah aman."})
    page.click("#status-link")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#public-note")
    text = page.inner_text("#status-result")
    assert "Selesai" in text and "halaman sekolah aman" in text
    assert "Umar" not in text and "kambing masuk" not in text.lower()
    shot(page, "26_status_selesai")
    assert errors == []
    ctx.close()
    relay.close()


def test_phone_pages_in_english(browser, server):
    """Every visible string of the field and citizen pages switches with the locale."""
    from tests.browser.test_posko import _indonesian_only

    api = Api(server.base)
    team = api.call("coordinator", "GET", "/api/teams")["items"][4]["code"]
    api.dispatched("ternak", A_POINT, team, "Stray cows")
    words = _indonesian_only() | {"menunggu sinyal", "Tanpa sinyal", "Riwayat", "Navigasi",
                                  "Lainnya / tidak tahu", "Hasil penanganan"}
    ctx = browser.new_context(**{**PHONE, "locale": "en-GB"})
    page = login(ctx, server.base, f"tim_{team.lower()}", "/lapangan?lang=en")
    page.wait_for_selector("article.assignment", timeout=20000)
    page.locator("article.assignment details.report").first.evaluate("d => d.open = true")
    for path, ready in (("/lapangan", "article.assignment"), ("/lapor", "#categories label"),
                        ("/status", "body")):
        if path != "/lapangan":
            page.goto(server.base + path)
        page.wait_for_selector(ready, timeout=20000)
        page.wait_for_timeout(500)
        text = page.inner_text("body")
        left = sorted(w for w in words if w in text)
        assert not left, (path, left)
    page.goto(server.base + "/lapor")
    page.wait_for_selector("#categories label")
    assert "Other / not sure" in page.inner_text("#categories")
    shot(page, "27_report_en")
    ctx.close()


def test_positions_shared_offline_keep_their_own_times(browser, server):
    api = Api(server.base)
    team = api.call("coordinator", "GET", "/api/teams")["items"][5]["code"]
    api.dispatched("keributan", A_POINT, team, "Keributan di pasar")
    relay = Relay(server.port)
    try:
        ctx = browser.new_context(**PHONE)
        ctx.add_init_script("localStorage.setItem('sigap_position_every_ms', '500')")
        page = login(ctx, relay.base, f"tim_{team.lower()}", "/lapangan")
        page.wait_for_selector("article.assignment", timeout=20000)
        page.click("#share")
        page.wait_for_function("() => document.querySelector('#share-state').textContent.includes('Lokasi dibagikan')",
                               timeout=30000)
        assert page.get_attribute("#share", "aria-pressed") == "true"
        # sharing lasts the whole shift: its dot does not pulse all that time (the phone's
        # CPU and battery)
        assert endless_animations(page) == []
        page.wait_for_function("() => document.querySelector('#net').dataset.waiting === '0'", timeout=30000)
        relay.cut()
        ctx.set_offline(True)
        for lon, lat in ((103.6480, -1.6230), (103.6490, -1.6240)):
            page.wait_for_timeout(800)
            ctx.set_geolocation({"longitude": lon, "latitude": lat})
        page.wait_for_function("() => document.querySelector('#net').textContent.includes('posisi menunggu')",
                               timeout=30000)
        queued = page.evaluate("SIGAP_STORE.Outbox.all().then(a => a.filter(i => i.kind === 'position').map(i => i.at))")
        assert len(queued) >= 1
        page.wait_for_timeout(1500)  # the fixes are sent well after they were taken
        relay.restore()
        ctx.set_offline(False)
        page.wait_for_function("() => document.querySelector('#net').dataset.waiting === '0'", timeout=30000)
        me = next(t for t in api.call("coordinator", "GET", "/api/teams")["items"]
                  if t["code"] == team)
        from datetime import datetime
        stored = datetime.fromisoformat(me["last_position_at"])
        latest = max(datetime.fromisoformat(q.replace("Z", "+00:00")) for q in queued)
        assert abs((stored - latest).total_seconds()) < 0.01, (stored, latest)
        assert me["last_position"] == [103.649, -1.624]
        page.click("#share")  # the off switch
        assert page.get_attribute("#share", "aria-pressed") == "false"
        assert "tidak dibagikan" in page.inner_text("#share-state")
        ctx.close()
    finally:
        relay.close()


# incident events reach the page's listeners 4 s late (a slow stream)
SLOW_STREAM = """(() => { const add = EventSource.prototype.addEventListener;
  EventSource.prototype.addEventListener = function (kind, fn, opts) {
    const late = kind === 'incident' ? (ev) => setTimeout(() => fn(ev), 4000) : fn;
    return add.call(this, kind, late, opts);
  }; })()"""


def test_a_new_assignment_the_list_shows_first_is_announced_once(browser, server):
    api = Api(server.base)
    team = api.call("coordinator", "GET", "/api/teams")["items"][7]["code"]
    api.dispatched("keributan", A_POINT, team, "Keributan di terminal")
    ctx = browser.new_context(**PHONE)
    ctx.add_init_script(SLOW_STREAM)
    page = login(ctx, server.base, f"tim_{team.lower()}", "/lapangan")
    page.wait_for_selector("article.assignment", timeout=20000)
    page.wait_for_timeout(500)
    page.evaluate("window.SIGAP_FIELD.metrics.alerts = 0")
    c = api.dispatched("keributan", C_POINT, team, "Tawuran pelajar di lapangan")
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the phone reads its list
    page.wait_for_selector(f"article[data-ticket='{c}']", timeout=30000)
    assert page.evaluate("window.SIGAP_FIELD.metrics.alerts") == 1  # before its event came
    page.wait_for_timeout(5000)  # the late event: known, not announced again
    assert page.evaluate("window.SIGAP_FIELD.metrics.alerts") == 1
    ctx.close()
