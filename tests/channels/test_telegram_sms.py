"""Telegram bot webhook (recorded Bot API ``Update`` objects) and the SMS gateway webhook."""

from __future__ import annotations

from tests.channels.conftest import BASE_URL, JPEG, SMS_SECRET, TG_SECRET, TG_TOKEN, counts, payload
from tests.conftest import IN_RT2, KEL_A, RT_A2


def tg(client, name: str, *, secret: str | None = TG_SECRET, base: int | None = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return client.post("/webhooks/telegram", content=payload(name, base=base), headers=headers)


def incident(client, auth, ticket: str) -> dict:
    r = client.get(f"/api/incidents/{ticket}", headers=auth["operator"])
    assert r.status_code == 200, r.text
    return r.json()


def test_the_secret_token_is_checked(client, transport):
    for secret in (None, "", "wrong"):
        r = tg(client, "telegram_lapor.json", secret=secret)
        assert r.status_code == 403, secret
    assert counts(client.services)["messages"] == 0 and transport.calls == []


def test_lapor_then_location_and_photo_make_one_draft(client, auth, transport):
    r = tg(client, "telegram_lapor.json")
    assert r.status_code == 200, r.text
    (got,) = r.json()["received"]
    assert got["outcome"] == "created" and got["replied"] is True
    ticket = got["ticket"]
    # the location and the photo are not addressed to the bot, but follow the /lapor
    assert tg(client, "telegram_location.json").json()["received"][0]["outcome"] == "grouped"
    assert tg(client, "telegram_photo.json").json()["received"][0]["outcome"] == "grouped"
    inc = incident(client, auth, ticket)
    assert inc["channel"] == "telegram" and inc["status"] == "diterima"
    assert inc["category"] == "keributan"  # "tawuran"
    assert inc["description"].startswith("ada tawuran pelajar di simpang")
    assert "/lapor" not in inc["description"] and "sigap_posko_bot" not in inc["description"]
    assert (inc["lon"], inc["lat"]) == IN_RT2
    assert inc["placement"]["kelurahan_code"] == KEL_A and inc["placement"]["rt_code"] == RT_A2
    assert inc["reporter_name"] == "Andi Saputra (@andi_rt05)"
    (photo,) = [a for rep in inc["reports"] for a in rep["attachments"]]
    assert client.get(photo["url"], headers=auth["operator"]).content == JPEG
    # the largest PhotoSize was fetched through getFile
    get_file = [c for c in transport.calls if c[1].endswith("/getFile")]
    assert get_file[0][2]["params"] == {"file_id": "AgACAgUAAxkBAAIQB2dVlarge"}
    assert get_file[0][1] == f"https://api.telegram.org/bot{TG_TOKEN}/getFile"
    # one reply, in the group, quoting the /lapor message
    (sent,) = transport.sent()
    assert sent["chat_id"] == "-1001987654321"
    assert sent["reply_parameters"]["message_id"] == 4120
    assert ticket in sent["text"] and f"{BASE_URL}/status/{ticket}" in sent["text"]
    # redelivered updates store nothing new
    before = counts(client.services)
    for name in ("telegram_lapor.json", "telegram_location.json", "telegram_photo.json"):
        assert tg(client, name).json()["received"][0]["outcome"] == "duplicate"
    assert counts(client.services) == before and len(transport.sent()) == 1


def test_group_chatter_is_not_stored(client):
    r = tg(client, "telegram_chatter.json")
    assert r.status_code == 200 and r.json()["received"][0]["outcome"] == "ignored"
    assert counts(client.services) == {"incidents": 0, "messages": 0, "attachments": 0,
                                       "audit": 0}
    # a location in a group without a /lapor before it is chatter too
    assert tg(client, "telegram_location.json").json()["received"][0]["outcome"] == "ignored"


def test_a_mention_in_a_group_and_a_private_chat_start_drafts(client, auth):
    g = tg(client, "telegram_mention_group.json").json()["received"][0]
    p = tg(client, "telegram_mention_private.json").json()["received"][0]
    assert g["outcome"] == p["outcome"] == "created"
    assert incident(client, auth, g["ticket"])["category"] == "pekat"
    assert incident(client, auth, g["ticket"])["description"] == \
        "ada orang mabuk miras di pos ronda"
    assert incident(client, auth, p["ticket"])["category"] == "pkl"


def test_an_update_without_a_message_is_acknowledged(client):
    r = client.post("/webhooks/telegram", json={"update_id": 5, "my_chat_member": {}},
                    headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
    assert r.status_code == 200 and r.json() == {"received": [], "ignored": ["5"]}


def test_telegram_is_off_unless_configured(make_client):
    c = make_client(telegram_webhook_secret=None)
    assert tg(c, "telegram_lapor.json").status_code == 404


def test_sms_gateway_form(client, auth, transport):
    form = {"from": "0812-7777-1234", "text": "ada kambing lepas di jalan", "id": "sms-991",
            "secret": SMS_SECRET}
    r = client.post("/webhooks/sms", data=form)
    assert r.status_code == 200, r.text
    got = r.json()
    ticket = got["received"][0]["ticket"]
    assert got["received"][0]["outcome"] == "created"
    assert ticket in got["reply"] and f"/status/{ticket}" in got["reply"]
    inc = incident(client, auth, ticket)
    assert inc["channel"] == "sms" and inc["category"] == "ternak"
    assert inc["reporter_phone"] == "+6281277771234"
    again = client.post("/webhooks/sms", data=form).json()
    assert again["received"][0]["outcome"] == "duplicate" and again["reply"] is None
    # a follow-up from the same phone joins the draft (header secret works too)
    more = client.post("/webhooks/sms", headers={"X-Gateway-Secret": SMS_SECRET},
                       data={"from": "+62 812 7777 1234", "text": "dekat masjid Al-Ikhlas"})
    assert more.json()["received"][0] == {"message_id": more.json()["received"][0][
        "message_id"], "outcome": "grouped", "ticket": ticket, "replied": False}
    assert incident(client, auth, ticket)["description"].endswith("\ndekat masjid Al-Ikhlas")
    assert transport.calls == []  # SMS replies go back in the response


def test_sms_secret_and_fields_are_checked(client):
    assert client.post("/webhooks/sms", data={"from": "0812", "text": "x"}).status_code == 403
    assert client.post("/webhooks/sms", data={"from": "0812", "text": "x",
                                              "secret": "no"}).status_code == 403
    r = client.post("/webhooks/sms", data={"text": "x", "secret": SMS_SECRET})
    assert r.status_code == 422
    assert counts(client.services)["messages"] == 0


def test_commands_for_another_bot_are_not_ours():
    from geo_sigap.channels import telegram

    def update(text, entities):
        import json

        return json.dumps({"update_id": 1, "message": {
            "message_id": 2, "date": 1764580500, "text": text, "entities": entities,
            "from": {"id": 3, "is_bot": False, "first_name": "A"},
            "chat": {"id": -100, "type": "group"}}}).encode()

    other = telegram.parse(update("/lapor@lain_bot ada judi", [
        {"offset": 0, "length": 15, "type": "bot_command"}]), "sigap_posko_bot")
    assert other.messages[0].starts_draft is False
    ours = telegram.parse(update("/LAPOR ada judi", [
        {"offset": 0, "length": 6, "type": "bot_command"}]), "sigap_posko_bot")
    assert ours.messages[0].starts_draft is True and ours.messages[0].text == "ada judi"
    start = telegram.parse(update("/start", [
        {"offset": 0, "length": 6, "type": "bot_command"}]), "sigap_posko_bot")
    assert start.messages[0].starts_draft is False
