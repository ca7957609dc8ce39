"""A WhatsApp message without a location reaches the operator's queue live; the operator
opens the draft, clicks the place on the map and puts the report there, then verifies.

The server runs with the WhatsApp webhook on (app secret only: no outbound calls)."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from tests.browser.conftest import Requests, login, shot, start_server

SECRET = "browser-whatsapp-app-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    old = os.environ.get("GEO_SIGAP_WHATSAPP_APP_SECRET")
    os.environ["GEO_SIGAP_WHATSAPP_APP_SECRET"] = SECRET  # read by the server's Settings
    try:
        s = start_server(tmp_path_factory, "channel")
    finally:
        if old is None:
            os.environ.pop("GEO_SIGAP_WHATSAPP_APP_SECRET", None)
        else:
            os.environ["GEO_SIGAP_WHATSAPP_APP_SECRET"] = old
    yield s
    s.stop()


def _deliver(base: str, text: str) -> str:
    from geo_sigap.channels import whatsapp

    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "6281100001110", "phone_number_id": "1"},
            "contacts": [{"profile": {"name": "Bu Rina"}, "wa_id": "6285211112222"}],
            "messages": [{"from": "6285211112222", "id": f"wamid.browser{time.time_ns()}",
                          "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()
    r = requests.post(f"{base}/webhooks/whatsapp", data=body, timeout=20, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": whatsapp.signature(body, SECRET)})
    assert r.status_code == 200, r.text
    got = r.json()["received"][0]
    assert got["outcome"] == "created"
    return got["ticket"]


def test_operator_places_a_whatsapp_draft_and_verifies_it(browser, server):
    base, req = server.base, Requests()
    ctx = req.watch(browser.new_context(viewport={"width": 1440, "height": 900},
                                        locale="id-ID", timezone_id="Asia/Jakarta"))
    op = login(ctx, base, "operator", "/operator")
    errors: list[str] = []
    op.on("pageerror", lambda e: errors.append(str(e)))
    op.wait_for_selector("#category option", state="attached")
    op.wait_for_timeout(800)  # base map fitted, queue loaded, live stream open
    ticket = _deliver(base, "Ada pengemis anak-anak di simpang lampu merah, kasihan")
    item = f"#pending li[data-ticket='{ticket}']"
    op.wait_for_selector(item, timeout=15000)  # arrives through the live stream
    assert "Hotline WhatsApp" in op.inner_text(item)
    op.click(f"{item} button.queue-open")
    op.wait_for_selector("#detail .place-draft button", timeout=30000)
    detail = op.text_content("#detail")
    assert "+6285211112222" in detail and "Bu Rina" in detail  # the operator's side
    assert "Klik lokasi di peta" in detail  # no point yet: the hint says what to do
    shot(op, "channel_01_draft_without_point")
    pt = op.evaluate("() => { const p = window.SIGAP_INTAKE.map.latLngToContainerPoint("
                     "[-1.6222, 103.6471]); return [p.x, p.y]; }")
    box = op.locator("#map").bounding_box()
    op.mouse.click(box["x"] + pt[0], box["y"] + pt[1])
    op.wait_for_function("() => document.querySelector('#placement').textContent"
                         ".includes('Kel.')", timeout=30000)
    op.click("#detail .place-draft button")
    op.wait_for_function("() => ((document.querySelector('#detail .place-draft') || {})"
                         ".textContent || '').includes('Pindahkan laporan')", timeout=30000)
    assert "disimpan" in op.inner_text("#toast")
    assert "Kel. Talang Bakung" in op.text_content("#detail")
    shot(op, "channel_02_draft_placed")
    token = requests.post(f"{base}/api/auth/login", json={
        "username": "operator", "password": "operator123"}, timeout=10).json()["token"]
    inc = requests.get(f"{base}/api/incidents/{ticket}", timeout=10,
                       headers={"Authorization": f"Bearer {token}"}).json()
    assert inc["lon"] is not None and inc["placement"]["kelurahan_name"]
    assert inc["channel"] == "whatsapp" and inc["category"] == "gepeng"
    op.click("#detail button.verify")
    op.wait_for_selector("#detail a.dispatch-link", timeout=30000)
    assert req.foreign() == [] and errors == []
