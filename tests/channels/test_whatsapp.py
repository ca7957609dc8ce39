"""WhatsApp Cloud API webhook: recorded deliveries (tests/data/channels/whatsapp_*.json,
in the format of Meta's "messages webhook reference") become operator drafts."""

from __future__ import annotations

import json
import time

from geo_sigap.channels import whatsapp
from tests.channels.conftest import APP_SECRET, BASE_URL, JPEG, VERIFY_TOKEN, counts, payload
from tests.conftest import KEL_A, RT_A1

PHONE = "6281234567890"


def post(client, body: bytes, *, secret: str = APP_SECRET, signature: str | None = None):
    sig = signature if signature is not None else whatsapp.signature(body, secret)
    return client.post("/webhooks/whatsapp", content=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sig})


def draft(client, auth, ticket: str) -> dict:
    r = client.get(f"/api/incidents/{ticket}", headers=auth["operator"])
    assert r.status_code == 200, r.text
    return r.json()


def test_subscription_is_verified_with_the_verify_token(client):
    ok = client.get("/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = client.get("/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    assert bad.status_code == 403 and "1158201444" not in bad.text


def test_the_webhook_is_off_unless_configured(make_client):
    c = make_client(whatsapp_app_secret=None, whatsapp_verify_token=None)
    assert c.get("/webhooks/whatsapp", params={"hub.mode": "subscribe"}).status_code == 404
    assert post(c, payload("whatsapp_text.json"), secret="x").status_code == 404
    assert counts(c.services)["incidents"] == 0


def test_a_forged_signature_is_refused_and_nothing_is_stored(client, transport):
    body = payload("whatsapp_text.json")
    for sig in ("", "sha256=" + "0" * 64, whatsapp.signature(body, "another-secret"),
                whatsapp.signature(body + b" ", APP_SECRET)):
        r = post(client, body, signature=sig)
        assert r.status_code == 403, sig
        assert r.json()["error"]["code"] == "invalid_signature"
    assert counts(client.services) == {"incidents": 0, "messages": 0, "attachments": 0,
                                       "audit": 0}
    assert transport.calls == []


def test_text_location_and_photo_become_one_draft_once(client, auth, transport):
    first = post(client, payload("whatsapp_text.json"))
    assert first.status_code == 200, first.text
    (got,) = first.json()["received"]
    assert got["outcome"] == "created"
    ticket = got["ticket"]
    assert post(client, payload("whatsapp_location.json")).json()["received"][0] == {
        "message_id": json.loads(payload("whatsapp_location.json"))["entry"][0]["changes"][0][
            "value"]["messages"][0]["id"], "outcome": "grouped", "ticket": ticket,
        "replied": False}
    assert post(client, payload("whatsapp_image.json")).json()["received"][0]["outcome"] \
        == "grouped"

    inc = draft(client, auth, ticket)
    assert inc["status"] == "diterima" and inc["channel"] == "whatsapp"
    assert inc["category"] == "ternak"  # "sapi lepas"
    assert inc["description"].startswith("Assalamualaikum pak, ada sapi lepas")
    assert inc["description"].endswith("\nini sapinya")  # a caption is text too
    assert (inc["lon"], inc["lat"]) == (103.6003, -1.6198)
    assert inc["placement"]["kelurahan_code"] == KEL_A and inc["placement"]["rt_code"] == RT_A1
    assert inc["address_text"] == "Depan SD 47, Jl. Lingkar Selatan, Eka Jaya"
    assert inc["reporter_phone"] == "+" + PHONE and inc["reporter_name"] == "Budi RT 01"
    (photos,) = [r for r in inc["reports"] if r["attachments"]]
    assert photos["author"] == "kanal:whatsapp" and "ini sapinya" in photos["text"]
    photo = client.get(photos["attachments"][0]["url"], headers=auth["operator"])
    assert photo.status_code == 200 and photo.content == JPEG
    assert photo.headers["content-type"] == "image/jpeg"
    # the photo came from the Graph API with the access token
    media = [c for c in transport.calls if c[1].endswith("/1003383421387256")]
    assert media and media[0][2]["headers"]["Authorization"] == "Bearer EAAG-test"

    # one reply, to the reporter, with the ticket and the status link
    (sent,) = transport.sent()
    assert sent["to"] == PHONE and sent["messaging_product"] == "whatsapp"
    assert ticket in sent["text"]["body"] and f"{BASE_URL}/status/{ticket}" in sent["text"]["body"]

    # WhatsApp redelivers: nothing new is stored, nobody is messaged again
    before = counts(client.services)
    for name in ("whatsapp_text.json", "whatsapp_location.json", "whatsapp_image.json"):
        again = post(client, payload(name))
        assert again.status_code == 200
        assert again.json()["received"][0]["outcome"] == "duplicate"
        assert again.json()["received"][0]["ticket"] == ticket
    assert counts(client.services) == before == {"incidents": 1, "messages": 3,
                                                 "attachments": 1, "audit": 3}
    assert len(transport.sent()) == 1


def test_the_draft_waits_on_the_operator_queue_and_stays_private(client, auth):
    ticket = post(client, payload("whatsapp_text.json")).json()["received"][0]["ticket"]
    queue = client.get("/api/incidents", params={"status": "diterima"},
                       headers=auth["operator"]).json()
    assert ticket in [i["ticket"] for i in queue["items"]]
    public = client.get(f"/api/public/status/{ticket}")
    assert public.status_code == 200 and PHONE not in public.text
    assert "Budi" not in public.text
    planner = client.get(f"/api/incidents/{ticket}", headers=auth["planner"])
    if planner.status_code == 200:
        assert PHONE not in planner.text
    # the message table keeps a keyed hash of the sender, not the number
    from sqlalchemy import select

    from geo_sigap.storage.tables import ChannelMessageRow

    with client.services.db.session() as s:
        keys = list(s.scalars(select(ChannelMessageRow.sender_key)))
    assert keys and all(PHONE not in k for k in keys)


def test_a_message_after_the_burst_window_opens_a_new_draft(client):
    base = int(time.time()) - 3600
    one = post(client, payload("whatsapp_text.json", base=base)).json()["received"][0]
    late = json.loads(payload("whatsapp_location.json", base=base + 10 * 60))
    two = post(client, json.dumps(late).encode()).json()["received"][0]
    assert one["outcome"] == "created" and two["outcome"] == "created"
    assert one["ticket"] != two["ticket"]


def test_a_verified_draft_is_not_extended(client, auth):
    ticket = post(client, payload("whatsapp_text.json")).json()["received"][0]["ticket"]
    inc = draft(client, auth, ticket)
    r = client.post(f"/api/incidents/{ticket}/transitions", headers=auth["operator"],
                    json={"action": "verify", "version": inc["version"]})
    assert r.status_code == 200, r.text
    nxt = post(client, payload("whatsapp_location.json")).json()["received"][0]
    assert nxt["outcome"] == "created" and nxt["ticket"] != ticket


def test_unknown_types_and_statuses_are_acknowledged(client, transport):
    r = post(client, payload("whatsapp_unsupported.json"))
    assert r.status_code == 200 and r.json()["received"][0]["outcome"] == "unsupported"
    assert post(client, payload("whatsapp_unsupported.json")).json()["received"][0][
        "outcome"] == "duplicate"
    s = post(client, payload("whatsapp_status.json"))
    assert s.status_code == 200 and s.json() == {"received": [], "statuses": 1}
    assert counts(client.services)["incidents"] == 0
    assert transport.sent() == []


def test_a_button_reply_is_read_as_text(client, auth):
    got = post(client, payload("whatsapp_interactive.json")).json()["received"][0]
    inc = draft(client, auth, got["ticket"])
    assert inc["description"] == "Ada keributan" and inc["category"] == "keributan"
    assert inc["lon"] is None and "no_location" in inc["placement"]["flags"]


def test_without_an_access_token_nothing_is_fetched_or_sent(make_client, auth, transport):
    c = make_client(whatsapp_access_token=None)
    ticket = post(c, payload("whatsapp_image.json")).json()["received"][0]["ticket"]
    assert transport.calls == []
    r = c.get(f"/api/incidents/{ticket}", headers=auth["operator"])
    assert r.status_code == 200
    inc = r.json()
    assert inc["description"] == "ini sapinya"  # the caption; the photo stays at Meta
    assert all(not rep["attachments"] for rep in inc["reports"])


def test_not_json_or_not_whatsapp_is_refused(client):
    assert post(client, b"not json").status_code == 422
    assert post(client, b'{"object": "page", "entry": []}').status_code == 422


def test_webhooks_are_not_subject_to_the_cross_site_guard(client):
    """Meta posts from its own servers, signed, without a session cookie: an Origin or
    Sec-Fetch-Site header from elsewhere does not matter."""
    body = payload("whatsapp_text.json")
    r = client.post("/webhooks/whatsapp", content=body, headers={
        "Content-Type": "application/json", "Origin": "https://graph.facebook.com",
        "Sec-Fetch-Site": "cross-site",
        "X-Hub-Signature-256": whatsapp.signature(body, APP_SECRET)})
    assert r.status_code == 200 and r.json()["received"][0]["outcome"] == "created"


def test_a_burst_arriving_at_once_still_makes_one_draft(client):
    """Eight messages of one sender handled concurrently (as by several workers)."""
    import threading

    from geo_sigap.channels import drafts
    from geo_sigap.channels.outbound import NullClient

    base = int(time.time()) - 300
    parsed = whatsapp.parse(payload("whatsapp_text.json", base=base))
    msgs = [parsed.messages[0].__class__(**{
        **{f: getattr(parsed.messages[0], f) for f in parsed.messages[0].__slots__},
        "message_id": f"wamid.burst{i}", "text": f"pesan {i}"}) for i in range(8)]
    out, errors = [], []

    def run(m):
        try:
            out.append(drafts.receive_message(client.services, m, NullClient("whatsapp")))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in msgs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r.outcome for r in out) == ["created"] + ["grouped"] * 7
    assert len({r.ticket for r in out}) == 1
    assert counts(client.services)["incidents"] == 1


def test_no_reply_outside_the_24_hour_window(client, transport):
    """A delivery held back by Meta for more than a day: the draft is stored, but a
    free-form reply is no longer allowed, so none is sent."""
    old = post(client, payload("whatsapp_text.json", base=int(time.time()) - 25 * 3600))
    got = old.json()["received"][0]
    assert got["outcome"] == "created" and got["replied"] is False
    assert transport.sent() == []
