"""The posko console in a real browser: operator queue and intake, dispatcher, coordinator.

Live updates are measured (time from the API call that changes a case to the page
showing it) and printed; click counts are counted. Screenshots go to
``artifacts/screenshots/posko_*.png``. No request may leave 127.0.0.1.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import Requests, late_answers, login, shot, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory, "posko")
    yield s
    s.stop()


def _ctx(browser, requests: Requests, **kw):
    return requests.watch(browser.new_context(
        viewport=kw.pop("viewport", {"width": 1366, "height": 768}), locale="id-ID",
        timezone_id="Asia/Jakarta", **kw))


def _citizen_report(ctx, base: str, description: str, lon=103.6628, lat=-1.6164,
                    category="pkl") -> tuple[str, float]:
    t0 = time.monotonic()
    r = ctx.request.post(f"{base}/api/public/reports", data=json.dumps(
        {"category": category, "description": description, "lon": lon, "lat": lat}),
        headers={"Content-Type": "application/json"})
    assert r.status == 201, r.text()
    return r.json()["ticket"], t0


def _errors(page) -> list[str]:
    out: list[str] = []
    page.on("pageerror", lambda e: out.append(str(e)))
    return out


def test_operator_queue_is_live_and_verifies_from_the_detail(browser, server):
    req = Requests()
    ctx = _ctx(browser, req)
    op = login(ctx, server.base, "operator", "/operator")
    errors = _errors(op)
    op.wait_for_selector("#live.on", timeout=30000)
    op.evaluate("window.__noReload = 1")
    ticket, t0 = _citizen_report(ctx, server.base, "Lapak PKL menutup trotoar depan sekolah")
    saved = time.time() * 1000  # the report is stored (the POST has answered)
    op.wait_for_selector(f"#pending li[data-ticket='{ticket}']", timeout=30000)
    latency = time.monotonic() - t0
    shown = op.evaluate(f"window.SIGAP_OPS.seen['{ticket}']")
    print(f"operator queue: new report shown {latency * 1000:.0f} ms after it was sent, "
          f"{shown - saved:.0f} ms after it was stored")
    assert op.evaluate("window.__noReload") == 1
    assert op.evaluate("window.SIGAP_OPS.alerts") >= 1
    assert ticket in op.inner_text("#toast")
    item = op.locator(f"#pending li[data-ticket='{ticket}']")
    assert "new" in item.get_attribute("class")
    assert "PKL" in item.inner_text() and "Dilaporkan" in item.inner_text()
    item.locator(".queue-open").click()
    op.wait_for_selector("#detail dl")
    detail = op.inner_text("#detail")
    for text in ("Lapak PKL menutup trotoar", "Web warga", "Kel. ", "Tidak ada laporan serupa"):
        assert text in detail, text
    shot(op, "posko_01_operator_antrean")
    op.click("#detail button.verify")
    op.wait_for_selector("#detail a.dispatch-link", timeout=20000)
    assert op.locator(f"#pending li[data-ticket='{ticket}']").count() == 0
    assert not errors, errors
    assert not req.foreign(), req.foreign()[:5]


# the queue's list is asked at once and handed over 3 s late (a slow network)
LATE_QUEUE = late_answers("p.includes('/api/incidents?status=diterima')",
                          asked="__queueAsked", answers="__queueAnswers")


def test_a_late_queue_answer_does_not_bring_back_a_verified_case(browser, server):
    req = Requests()
    ctx = _ctx(browser, req)
    ticket, _ = _citizen_report(ctx, server.base, "Keributan di depan warung, sudah bubar")
    ctx.add_init_script(LATE_QUEUE)
    op = login(ctx, server.base, "operator", "/operator")
    op.wait_for_selector("#live.on", timeout=30000)
    assert op.evaluate("window.__queueAnswers") == 0  # the lists are still on their way
    _verify(ctx, server.base, ticket)  # by a colleague: the stream says it left the queue
    op.wait_for_function("() => window.__queueAnswers >= 2", timeout=15000)
    op.wait_for_timeout(200)
    assert not op.evaluate(f"window.SIGAP_INTAKE.pending.has('{ticket}')")
    assert op.locator(f"#pending li[data-ticket='{ticket}']").count() == 0
    ctx.close()


LATE_MAP_LIST = late_answers("p.includes('/api/map/incidents')", asked="__queueAsked",
                             answers="__queueAnswers")


def test_a_report_made_while_the_map_loads_is_not_missed(browser, server):
    # the open incidents are read, then a report comes in before the map has them (a
    # slow network hands the list over 3 s late): the stream still brings it
    req = Requests()
    ctx = _ctx(browser, req, viewport={"width": 1920, "height": 1080})
    ctx.add_init_script(LATE_MAP_LIST)
    page = login(ctx, server.base, "coordinator", "/peta")
    page.wait_for_function("() => window.__queueAsked >= 1", timeout=30000)
    assert page.evaluate("window.__queueAnswers") == 0  # the list is still on its way
    ticket, _ = _citizen_report(ctx, server.base, "Pohon tumbang menutup jalan",
                                category="bencana")
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    page.wait_for_function(f"() => window.SIGAP_MAP.incidents.has('{ticket}')", timeout=30000)
    ctx.close()


def test_nothing_moves_for_a_coordinator_who_asked_for_less_motion(browser, server):
    # the system setting "reduce motion": an urgent report still raises the banner and its
    # marker is on the map, but nothing pulses or flashes and the map jumps, not glides
    ctx = _ctx(browser, Requests(), reduced_motion="reduce")
    page = login(ctx, server.base, "coordinator", "/peta")
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    page.wait_for_selector("#live.on", timeout=30000)
    assert page.evaluate("window.SIGAP_MAP.map.options.zoomAnimation") is False
    op = ctx.request.post(f"{server.base}/api/auth/login", data=json.dumps(
        {"username": "operator", "password": "operator123"}),
        headers={"Content-Type": "application/json"}).json()["token"]
    r = ctx.request.post(f"{server.base}/api/incidents", data=json.dumps(
        {"category": "keributan", "description": "Tawuran di simpang", "channel": "hotline",
         "lon": 103.6471, "lat": -1.6222, "priority": 1}),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {op}",
                 "Idempotency-Key": f"still-{time.time()}"})
    assert r.status == 201, r.text()
    ticket = r.json()["ticket"]
    page.wait_for_selector("#alert:not([hidden])", timeout=30000)
    assert ticket in page.inner_text("#alert")
    page.evaluate(f"() => window.SIGAP_MAP.focusIncident('{ticket}')")
    page.wait_for_selector(f".leaflet-marker-icon[title='{ticket}']", timeout=30000)
    assert page.evaluate("() => document.getAnimations().map((a) => a.animationName || a.id)") == []


def test_operator_intake_confirms_the_place_and_keeps_the_draft(browser, server):
    req = Requests()
    ctx = _ctx(browser, req, viewport={"width": 1440, "height": 900})
    op = login(ctx, server.base, "operator", "/operator")
    errors = _errors(op)
    op.wait_for_selector("#live.on", timeout=30000)
    # an old WhatsApp message: its time is shown in an editable field, nothing refused
    op.click(".wa-box summary")
    op.fill("#wa-text", "[05/09/24 21.14] Budi RT 05: ada keributan pemuda depan Masjid "
            "Al-Ikhlas, Jl. Lingkar Selatan")
    op.fill("#address", "depan Masjid Al-Ikhlas, Jl. Lingkar Selatan")
    op.click("#wa-fill")
    op.wait_for_selector("#candidates li button")
    assert op.input_value("#reported_at") == "2024-09-05T21:14"
    assert "5 September 2024" in op.inner_text("#time-note")
    assert op.input_value("#address") == "depan Masjid Al-Ikhlas, Jl. Lingkar Selatan"
    assert op.inner_text("#placement") == "—", "never placed without the operator"
    assert op.input_value("#reporter_name") == "Budi RT 05"
    labels = op.locator("#candidates li button").all_inner_texts()
    ikhlas = [x for x in labels if "Masjid Al-Ikhlas" in x]
    assert ikhlas and "Jalan Lingkar Selatan" in ikhlas[0], labels
    assert all(x.count("RT ") <= 1 for x in labels), labels  # no repeated RT/RW text
    shot(op, "posko_02_operator_wa_kandidat")

    # the draft survives a reload (as after a session expiry and signing in again)
    op.reload()
    op.wait_for_selector("#draft-note:not([hidden])")
    assert "keributan pemuda" in op.input_value("#description")
    assert op.input_value("#reported_at") == "2024-09-05T21:14"

    # the operator decides the time: the report came in now
    op.click("#time-now")
    assert op.input_value("#reported_at") == ""
    op.fill("#address", "depan Masjid Al-Ikhlas, Jl. Lingkar Selatan")
    op.click("#search")
    op.wait_for_selector("#candidates li button")
    op.locator("#candidates li button").first.click()
    op.wait_for_function("() => document.querySelector('#placement').textContent.includes('Kel.')")
    assert op.input_value("#address") == "depan Masjid Al-Ikhlas, Jl. Lingkar Selatan"
    op.click("#submit")
    op.wait_for_selector("#saved:not([hidden]) .ticket", timeout=30000)
    # after saving: pin and Wilayah cleared, draft gone
    assert op.inner_text("#placement") == "—"
    assert op.locator(".leaflet-marker-icon[title='Lokasi laporan']").count() == 0
    assert op.evaluate("localStorage.getItem('sigap.draft.operator')") is None
    assert op.input_value("#description") == ""
    shot(op, "posko_03_operator_tersimpan")

    # a place outside the area: warned in words, saved only after confirming
    op.fill("#description", "Tes di luar wilayah")
    box = op.locator("#map").bounding_box()
    op.evaluate("() => { window.SIGAP_INTAKE.map.setView([-1.58, 103.55], 14); }")
    op.mouse.click(box["x"] + 60, box["y"] + box["height"] - 60)
    op.wait_for_selector("#outside:not([hidden])", timeout=30000)
    assert "di luar wilayah layanan" in op.inner_text("#outside")
    assert "outside_coverage" not in op.inner_text(".ops-form")
    op.click("#submit")
    assert "centang konfirmasi" in op.inner_text("#form-error")
    shot(op, "posko_04_operator_luar_wilayah")
    first = op.inner_text("#saved .ticket")
    op.check("#outside-ok")
    op.click("#submit")
    op.wait_for_function("(t) => document.querySelector('#saved .ticket').textContent !== t", arg=first,
                         timeout=30000)
    assert op.locator("#outside").is_hidden()
    assert not errors, errors
    assert not req.foreign(), req.foreign()[:5]


def test_docs_and_404_work_offline(browser, server):
    req = Requests()
    ctx = _ctx(browser, req)
    page = ctx.new_page()
    page.goto(f"{server.base}/docs")
    # a wait, not a time limit: 2.4 s alone, over 20 s once with the other worker busy
    page.wait_for_selector(".swagger-ui .opblock", timeout=90000)
    assert "GeoSIGAP" in page.inner_text(".swagger-ui .info")
    shot(page, "posko_05_docs_offline")
    r = page.goto(f"{server.base}/tidak-ada")
    assert r.status == 404
    assert "Halaman tidak ditemukan" in page.inner_text("main")
    page.goto(f"{server.base}/tidak-ada?lang=en")
    assert "Page not found" in page.inner_text("main")
    shot(page, "posko_06_404_en")
    assert not req.foreign(), req.foreign()[:5]


def test_staff_header_is_one_line_on_a_phone(browser, server):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = login(ctx, server.base, "operator", "/operator")
    page.wait_for_selector("#whoami:not(:empty)")
    height = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
    assert height < 60, height
    shot(page, "posko_07_header_hp")


def _verify(ctx, base: str, ticket: str) -> float:
    """The operator verifies ``ticket`` through the API; returns the monotonic time."""
    inc = ctx.request.get(f"{base}/api/incidents/{ticket}").json()
    t0 = time.monotonic()
    r = ctx.request.post(f"{base}/api/incidents/{ticket}/transitions", data=json.dumps(
        {"action": "verify", "version": inc["version"], "priority": 2}),
        headers={"Content-Type": "application/json"})
    assert r.status == 200, r.text()
    return t0


def test_dispatcher_is_live_and_sends_the_message_in_three_clicks(browser, server):
    req = Requests()
    base = server.base
    op_ctx = _ctx(browser, req)
    login(op_ctx, base, "operator", "/operator").close()
    ticket, _ = _citizen_report(op_ctx, base, "Keributan pemuda di depan pasar", category="keributan",
                                lon=103.6471, lat=-1.6222)

    ctx = _ctx(browser, req)  # 1366×768
    ctx.route("https://wa.me/**", lambda route: route.fulfill(status=200, body="WhatsApp"))
    clicks = 0
    page = login(ctx, base, "dispatcher", "/operator")
    errors = _errors(page)
    page.goto(f"{base}/dispatch/{ticket}")  # click 1: the case from the queue / alert link
    clicks += 1
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    page.wait_for_selector("#live.on", timeout=30000)
    assert page.locator("#not-ready").is_visible()
    page.evaluate("window.__noReload = 1")
    t0 = _verify(op_ctx, base, ticket)
    page.wait_for_function("() => window.SIGAP_DISPATCH.seen.terverifikasi", timeout=30000)
    live_ms = (time.monotonic() - t0) * 1000
    page.wait_for_selector("#assign-suggested:not([hidden])", timeout=30000)
    print(f"dispatcher: verification arrived {live_ms:.0f} ms after it was made; decision with "
          f"routes on screen after {(time.monotonic() - t0) * 1000:.0f} ms")
    assert page.evaluate("window.__noReload") == 1
    # the decision fits the screen: every role's choice and the assign button, no scrolling
    btn = page.locator("#assign-suggested").bounding_box()
    assert btn["y"] + btn["height"] <= 768, btn
    assert page.evaluate("document.querySelector('.disp-panel').scrollTop") == 0
    roles = page.locator(".suggestion select")
    assert roles.count() >= 1
    text = page.inner_text("#decision")
    assert not __import__("re").search(r"\d{2}\.\d{2}\.\d{2}\.\d{4}", text), text  # names, not codes
    # only the chosen teams' routes are drawn (one per role), with their posts
    # routes arrive one by one: wait until every chosen team's route is drawn
    chosen = [roles.nth(i).input_value() for i in range(roles.count())]
    page.wait_for_function("n => window.SIGAP_DISPATCH.routes.length >= n", arg=len(chosen),
                           timeout=15000)
    drawn = page.evaluate("window.SIGAP_DISPATCH.routes")
    assert sorted(drawn) == sorted(chosen), (drawn, chosen)
    assert page.locator(".team-post").count() == roles.count()
    shot(page, "posko_08_dispatch_keputusan")
    page.click("#assign-suggested")  # click 2
    clicks += 1
    page.wait_for_selector("#messages:not([hidden]) a.wa-all", timeout=30000)
    assert page.locator("#assign-suggested").is_hidden(), "no second round of assigning"
    assert page.locator("#decision").is_hidden()
    href = page.locator("a.wa-all").get_attribute("href")
    assert href.startswith("https://wa.me/?text=") and ticket in __import__("urllib.parse").parse.unquote(href)
    shot(page, "posko_09_dispatch_pesan")
    with ctx.expect_page() as popup:
        page.click("a.wa-all")  # click 3: WhatsApp opens with the message for the group
    clicks += 1
    popup.value.close()
    print(f"dispatcher: {clicks} clicks from a verified report to the WhatsApp message")
    assert clicks <= 3
    # the messages are kept after a reload
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    page.wait_for_selector("#messages:not([hidden]) a.wa-all")
    assert ticket in page.locator("#messages .message pre").first.text_content()
    assert page.locator("#assign-suggested").is_hidden()
    assert not errors, errors
    foreign = [u for u in req.foreign() if not u.startswith("https://wa.me/")]
    assert not foreign, foreign[:5]


# once ``window.__late`` is set, the case's own answers (not its suggestions or routes)
# are asked at once and handed over 3 s late (a slow network)
LATE_CASE = late_answers(r"window.__late && /\/api\/incidents\/[^\/?]+$/.test(p)",
                         asked="__caseAsked", answers="__caseAnswers")


def test_a_change_made_while_the_case_reloads_is_shown(browser, server):
    """The dispatcher's case page reloads the case on each of its events. A second change
    that arrives while the first reload's (late) answer is on its way must be shown too:
    that answer was read before it. The page used to drop such an event and stay on the
    older state (here: 'ditugaskan' while the team was already on its way)."""
    req = Requests()
    base = server.base
    op_ctx = _ctx(browser, req)
    login(op_ctx, base, "operator", "/operator").close()
    ticket, _ = _citizen_report(op_ctx, base, "Pedagang menutup trotoar depan sekolah",
                                lon=103.6471, lat=-1.6222)
    _verify(op_ctx, base, ticket)
    colleague = _ctx(browser, req)
    login(colleague, base, "coordinator", "/peta").close()
    sugg = colleague.request.get(f"{base}/api/incidents/{ticket}/suggestions").json()
    team = next(r["recommended"] for r in sugg["roles"] if r.get("recommended"))

    ctx = _ctx(browser, req)
    ctx.add_init_script(LATE_CASE)
    page = login(ctx, base, "dispatcher", f"/dispatch/{ticket}")
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    page.wait_for_selector("#live.on", timeout=30000)
    page.evaluate("window.__late = true")

    def post(path, body):
        r = colleague.request.post(f"{base}/api/incidents/{ticket}/{path}", data=json.dumps(body),
                                   headers={"Content-Type": "application/json"})
        assert r.status == 200, r.text()
        return r.json()

    version = colleague.request.get(f"{base}/api/incidents/{ticket}").json()["version"]
    post("assign", {"version": version, "assignments": [{"team_code": team, "kind": "lead"}]})
    page.wait_for_function("() => window.__caseAsked >= 1", timeout=30000)  # answer held
    now = colleague.request.get(f"{base}/api/incidents/{ticket}").json()
    post("transitions", {"action": "depart", "version": now["version"]})
    final = colleague.request.get(f"{base}/api/incidents/{ticket}").json()
    assert final["status"] == "menuju_lokasi"
    page.wait_for_function("v => window.SIGAP_DISPATCH.version === v", arg=final["version"],
                           timeout=20000)
    assert page.locator("#incident .badge").first.inner_text() == page.evaluate(
        "window.SIGAP.statusLabel('menuju_lokasi')")
    for c in (ctx, colleague, op_ctx):
        c.close()


def test_a_live_change_leaves_the_opened_message_as_it_is(browser, server):
    """The dispatcher opens one team's WhatsApp message of several and copies it; the
    team then sets off, and the page reloads the case. The messages are the same, so
    they stay on screen as they were: that message still open, still "copied", the same
    element. The page used to build them again on every event, folding the message the
    dispatcher was reading (and a script holding it found it gone from the page)."""
    req = Requests()
    base = server.base
    op_ctx = _ctx(browser, req)
    login(op_ctx, base, "operator", "/operator").close()
    ticket, _ = _citizen_report(op_ctx, base, "Tawuran pelajar di simpang pasar", category="keributan",
                                lon=103.6471, lat=-1.6222)
    _verify(op_ctx, base, ticket)
    colleague = _ctx(browser, req)
    login(colleague, base, "coordinator", "/peta").close()
    sugg = colleague.request.get(f"{base}/api/incidents/{ticket}/suggestions").json()
    picks = [c["team_code"] for r in sugg["roles"] for c in r["candidates"]][:2]
    assert len(picks) == 2, sugg
    version = colleague.request.get(f"{base}/api/incidents/{ticket}").json()["version"]
    r = colleague.request.post(f"{base}/api/incidents/{ticket}/assign", data=json.dumps(
        {"version": version, "assignments": [{"team_code": picks[0], "kind": "lead"},
                                             {"team_code": picks[1], "kind": "support"}]}),
        headers={"Content-Type": "application/json"})
    assert r.status == 200, r.text()

    ctx = _ctx(browser, req, permissions=["clipboard-read", "clipboard-write"])
    page = login(ctx, base, "dispatcher", f"/dispatch/{ticket}")
    errors = _errors(page)
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    page.wait_for_selector("#live.on", timeout=30000)
    msg = page.locator(f"#messages details.message[data-team='{picks[1]}']")
    assert msg.get_attribute("open") is None  # several teams: each message folded
    # opened afresh, each team's "open WhatsApp" still goes to that team's number
    teams = {t["code"]: t for t in colleague.request.get(f"{base}/api/teams").json()["items"]}
    for code in picks:
        digits = "".join(ch for ch in teams[code]["phone"] or "" if ch.isdigit())
        assert digits, teams[code]
        number = "62" + digits[1:] if digits.startswith("0") else digits
        page.wait_for_function(
            "([c, n]) => document.querySelector(`details.message[data-team='${c}'] a.wa-link`)"
            ".href.startsWith(`https://wa.me/${n}?text=`)", arg=[code, number], timeout=10000)
    msg.locator("summary").click()
    msg.locator("button.copy").click()
    page.wait_for_function(f"() => document.querySelector(\"details.message[data-team='{picks[1]}'] button.copy\")"
                           ".textContent === window.SIGAP.t('common.copied')", timeout=10000)
    page.evaluate(f"document.querySelector(\"details.message[data-team='{picks[1]}']\").__mark = 1")

    now = colleague.request.get(f"{base}/api/incidents/{ticket}").json()
    r = colleague.request.post(f"{base}/api/incidents/{ticket}/transitions", data=json.dumps(
        {"action": "depart", "version": now["version"]}), headers={"Content-Type": "application/json"})
    assert r.status == 200, r.text()
    page.wait_for_function("v => window.SIGAP_DISPATCH.version === v", arg=r.json()["version"],
                           timeout=20000)
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#incident .badge").first.inner_text() == page.evaluate(
        "window.SIGAP.statusLabel('menuju_lokasi')")
    same = page.evaluate(f"(document.querySelector(\"details.message[data-team='{picks[1]}']\") || {{}}).__mark")
    assert same == 1, "the message was built again"
    assert msg.get_attribute("open") is not None
    assert msg.locator("button.copy").inner_text() == page.evaluate("window.SIGAP.t('common.copied')")
    assert page.locator("#messages details.message").count() == 2
    assert not errors, errors
    for c in (ctx, colleague, op_ctx):
        c.close()


# the first address search is asked at once and answered 3 s late
LATE_FIRST_SEARCH = late_answers("p.includes('/api/geocode/search')", asked="__searches",
                                 answers="__found", first_only=True)


def test_a_late_answer_of_an_earlier_search_does_not_replace_the_candidates(browser, server):
    req = Requests()
    ctx = _ctx(browser, req)
    ctx.add_init_script(LATE_FIRST_SEARCH)
    op = login(ctx, server.base, "operator", "/operator")
    first, last = "Masjid Al-Ikhlas", "Talang Bakung"
    want = ctx.request.get(f"{server.base}/api/geocode/search?limit=6&q={last}").json()
    want_first = [c["label"].split(" — ")[0] for c in want["candidates"]][0]
    op.fill("#address", first)
    op.press("#address", "Enter")
    op.wait_for_function("() => window.__searches >= 1")
    op.fill("#address", last)  # the operator corrects the address before the answer
    op.press("#address", "Enter")
    op.wait_for_function("() => window.__found >= 2", timeout=20000)
    op.wait_for_timeout(300)  # the late answer handled too
    labels = op.locator("#candidates li button b").all_inner_texts()
    assert labels and labels[0] == "1. " + want_first, (labels, want_first)
    assert not any("Masjid Al-Ikhlas" in x for x in labels), labels
    ctx.close()


def test_the_citizen_page_lists_the_places_of_the_last_search(browser, server):
    ctx = _ctx(browser, Requests())
    ctx.add_init_script(late_answers("p.includes('/api/public/places')", asked="__searches",
                                     answers="__found", first_only=True))
    page = ctx.new_page()
    page.goto(f"{server.base}/lapor")
    first, last = "Masjid Al-Ikhlas", "Talang Bakung"
    want = ctx.request.get(f"{server.base}/api/public/places?q={last}").json()["candidates"]
    page.fill("#address", first)
    page.press("#address", "Enter")
    page.wait_for_function("() => window.__searches >= 1")
    page.fill("#address", last)
    page.press("#address", "Enter")
    page.wait_for_function("() => window.__found >= 2", timeout=20000)
    page.wait_for_timeout(300)  # the late answer handled too
    shown = page.locator("#results li button").all_inner_texts()
    assert shown and shown[0].startswith(want[0]["label"]), (shown, want[0])
    assert not any("Al-Ikhlas" in x for x in shown), shown
    # each place said once (the label already names its RT/RW and kelurahan)
    page.fill("#address", first)
    page.press("#address", "Enter")
    page.wait_for_function("() => window.__found >= 3", timeout=20000)
    page.wait_for_selector("#results li button")
    shown = page.locator("#results li button").all_inner_texts()
    assert shown and all(x.count("Kel. ") <= 1 and x.count("RT ") <= 1 for x in shown), shown
    page.locator("#results").scroll_into_view_if_needed()
    shot(page, "posko_warga_cari_tempat")
    ctx.close()


def _indonesian_only() -> set[str]:
    from geo_sigap.domain.categories import load_categories
    from tests.web.test_everywhere import indonesian_only

    words = indonesian_only()
    words |= {c.name for c in load_categories() if c.name != c.name_en}
    return words


def test_every_visible_string_switches_to_english(browser, server):
    req = Requests()
    base = server.base
    ctx = _ctx(browser, req)
    page = login(ctx, base, "coordinator", "/operator?lang=en")
    ticket, _ = _citizen_report(ctx, base, "Street vendor blocks the pavement")
    page.wait_for_selector(f"#pending li[data-ticket='{ticket}']", timeout=30000)
    page.click(f"#pending li[data-ticket='{ticket}'] .queue-open")
    page.wait_for_selector("#detail dl")
    other, _ = _citizen_report(ctx, base, "Fight near the market", category="keributan",
                               lon=103.6471, lat=-1.6222)
    _verify(ctx, base, other)
    words = _indonesian_only()
    assert len(words) > 100
    seen = {}
    for path, ready in (("/operator", "#pending li"), (f"/dispatch/{other}", "#assign-suggested:not([hidden])"),
                        ("/peta", "body[data-ready='1']"), ("/tidak-ada", "main")):
        page.goto(f"{base}{path}")
        page.wait_for_selector(ready, timeout=30000)
        page.wait_for_timeout(500)
        text = page.inner_text("body")
        seen[path] = text
        left = sorted(w for w in words if w in text)
        assert not left, (path, left)
        assert "Dilaporkan" not in text and "menit" not in text, path
    assert "Reported" in seen["/operator"] and "Street vendors" in seen["/operator"]
    assert "Decision: one team per role" in seen[f"/dispatch/{other}"]
    shot(page, "posko_10_en_404")
    page.goto(f"{base}/dispatch/{other}")
    page.wait_for_selector("#assign-suggested:not([hidden])", timeout=30000)
    shot(page, "posko_11_dispatch_en")
    assert not req.foreign(), req.foreign()[:5]


def test_coordinator_boards_beside_the_map(browser, server):
    req = Requests()
    base = server.base
    ctx = _ctx(browser, req, viewport={"width": 1920, "height": 1080})
    page = login(ctx, base, "coordinator", "/peta")
    errors = _errors(page)
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    page.wait_for_selector("#live.on", timeout=30000)
    ticket, t0 = _citizen_report(ctx, base, "Ternak lepas di jalan raya", category="ternak")
    page.wait_for_selector(f"#incident-board tr[data-ticket='{ticket}']", timeout=10000)
    # the teams tab, not open, still counts its teams (it said 0 beside 65 on the map)
    page.wait_for_function("() => Number(document.querySelector('#team-count').textContent) > 0 "
                           "&& document.querySelector('#team-count').textContent === "
                           "document.querySelector('#count-teams').textContent", timeout=20000)
    print(f"coordinator board: new report shown {(time.monotonic() - t0) * 1000:.0f} ms after it was sent")
    row = page.locator(f"#incident-board tr[data-ticket='{ticket}']")
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == ticket and "Hewan ternak" in cells[1] and cells[2] != "—"
    assert "sisa" in cells[4] and cells[6] == "Diterima"
    # sortable by ticket both ways, filterable by text
    second, _ = _citizen_report(ctx, base, "Ternak di halaman sekolah", category="ternak")
    page.wait_for_selector(f"#incident-board tr[data-ticket='{second}']", timeout=10000)
    order = """(dir) => { const rows = [...document.querySelectorAll('#incident-board tbody tr')].map((r) => r.dataset.ticket);
        const sorted = rows.slice().sort(); if (dir < 0) sorted.reverse();
        return rows.length > 1 && rows.every((t, i) => t === sorted[i]); }"""
    page.click("#incident-board th[data-sort='ticket'] button")  # the board redraws when idle
    page.wait_for_function(order, arg=1, timeout=10000)
    page.click("#incident-board th[data-sort='ticket'] button")
    page.wait_for_function(order, arg=-1, timeout=10000)
    # a row moved to by keyboard stays the focused row when the board redraws
    page.focus(f"#incident-board tr[data-ticket='{second}']")
    renders = page.evaluate("window.SIGAP_BOARD.renders")
    page.evaluate("document.dispatchEvent(new Event('sigap:changed'))")
    page.wait_for_function("n => window.SIGAP_BOARD.renders > n", arg=renders, timeout=10000)
    assert page.evaluate("document.activeElement.dataset.ticket") == second
    page.fill("#board-filter", ticket)
    page.wait_for_timeout(600)
    page.wait_for_function("() => document.querySelectorAll('#incident-board tbody tr').length === 1")
    # click → the map focuses the incident and opens its popup
    page.locator(f"#incident-board tr[data-ticket='{ticket}'] td").nth(1).click()
    page.wait_for_selector(".leaflet-popup-content", timeout=30000)
    assert ticket in page.inner_text(".leaflet-popup-content")
    shot(page, "posko_12_peta_papan_kejadian")
    # team status board: every team, a state and the age of its position
    page.click("#tab-team")
    page.wait_for_function("() => document.querySelectorAll('#team-board tbody tr').length > 10")
    n_teams = page.locator("#team-board tbody tr").count()
    assert n_teams == page.evaluate("window.SIGAP_MAP.teams.size") and n_teams > 10
    states = set(page.locator("#team-board td:nth-child(3)").all_inner_texts())
    assert states <= {"Tersedia", "Ditugaskan", "Menuju lokasi", "Di lokasi", "Tidak bertugas"}, states
    shot(page, "posko_13_peta_papan_tim")
    # team clusters live in their own pane, under the incidents
    assert page.evaluate("document.querySelector('.leaflet-sigapTeams-pane .team-cluster, .leaflet-sigapTeams-pane .team') !== null")
    # the density layer switched off, then a filter change and the Gi* level: no JS error
    page.get_by_role("checkbox", name="Kepadatan kejadian aktif (langsung)", exact=True).check()
    page.get_by_role("checkbox", name="Kepadatan kejadian aktif (langsung)", exact=True).uncheck()
    page.select_option("#f-category", "ternak")
    page.select_option("#f-hotlevel", "kelurahan")
    page.get_by_role("checkbox", name="Titik panas (Gi*)", exact=True).check()
    page.wait_for_function("() => window.SIGAP_METRICS.overlays.hot && window.SIGAP_METRICS.overlays.hot.at", timeout=30000)
    assert "permutations=9999" in page.evaluate("window.SIGAP_METRICS.overlays.hot.url")
    page.get_by_role("checkbox", name="Titik panas (Gi*)", exact=True).uncheck()
    page.select_option("#f-hotlevel", "rw")
    page.get_by_role("checkbox", name="Titik panas (Gi*)", exact=True).check()
    _citizen_report(ctx, base, "Ternak lagi", category="ternak")  # a live update with heat off
    page.wait_for_timeout(1500)
    assert not errors, errors
    assert not req.foreign(), req.foreign()[:5]
