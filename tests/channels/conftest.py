"""Channel tests: services with every channel configured and a fake HTTP transport that
answers like the Graph API and the Telegram Bot API (nothing touches the network)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import make_settings

DATA = Path(__file__).resolve().parents[1] / "data" / "channels"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-123"
TG_SECRET = "tg-secret-token_ABC"
TG_TOKEN = "123456:TEST-token"
SMS_SECRET = "sms-shared-secret"
BASE_URL = "https://sigap.example.go.id"
# Smallest JPEG header bytes are enough: photos are recognised by their magic bytes.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


class FakeTransport:
    """Records every call; answers Graph API media look-ups and downloads, message sends,
    Telegram getFile / file downloads / sendMessage."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self.photo = JPEG

    def request(self, method, url, *, headers=None, params=None, json=None, max_bytes=None):
        from geo_sigap.channels.outbound import Response

        self.calls.append((method, url, {"headers": headers, "params": params, "json": json}))
        if "graph.facebook.com" in url and method == "GET":
            media_id = url.rsplit("/", 1)[-1]
            return Response(200, _dumps({
                "messaging_product": "whatsapp", "id": media_id, "mime_type": "image/jpeg",
                "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
                       f"?mid={media_id}"}))
        if "lookaside.fbsbx.com" in url:
            return Response(200, self.photo)
        if url.endswith("/messages") and method == "POST":
            return Response(200, _dumps({"messaging_product": "whatsapp",
                                         "messages": [{"id": "wamid.reply"}]}))
        if url.endswith("/getFile"):
            return Response(200, _dumps({"ok": True, "result": {
                "file_id": params["file_id"], "file_path": "photos/file_7.jpg"}}))
        if "/file/bot" in url:
            return Response(200, self.photo)
        if url.endswith("/sendMessage"):
            return Response(200, _dumps({"ok": True, "result": {"message_id": 999}}))
        return Response(404, b"{}")

    def sent(self) -> list[dict]:
        return [c[2]["json"] for c in self.calls
                if c[0] == "POST" and (c[1].endswith("/messages") or c[1].endswith("/sendMessage"))]


def _dumps(obj) -> bytes:
    return json.dumps(obj).encode()


def channel_settings(db_url, data_dir, **overrides):
    values = dict(whatsapp_app_secret=APP_SECRET, whatsapp_verify_token=VERIFY_TOKEN,
                  whatsapp_access_token="EAAG-test", whatsapp_phone_number_id="106540352242922",
                  telegram_webhook_secret=TG_SECRET, telegram_bot_token=TG_TOKEN,
                  telegram_bot_username="sigap_posko_bot", sms_gateway_secret=SMS_SECRET,
                  public_base_url=BASE_URL, warm_up_on_start=False)
    values.update(overrides)
    return make_settings(db_url, data_dir, **values)


@pytest.fixture
def transport():
    return FakeTransport()


@pytest.fixture
def make_client(area_db, db_url, tmp_path, transport):
    """``make_client(**settings)`` → a TestClient on the fixture area with the channels
    configured (override any setting, e.g. ``whatsapp_access_token=None``)."""
    from fastapi.testclient import TestClient

    from geo_sigap.domain.categories import load_categories
    from geo_sigap.services import Services
    from geo_sigap.web.app import create_app

    opened = []

    def make(**overrides):
        services = Services(channel_settings(db_url, tmp_path / "data", **overrides), area_db,
                            load_categories())
        services.__dict__["http_transport"] = transport
        c = TestClient(create_app(services.settings, services))
        c.__enter__()
        c.services = services
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


def payload(name: str, *, base: int | None = None) -> bytes:
    """A recorded delivery from ``tests/data/channels`` with its times moved so that the
    first message is ``base`` (Unix seconds; default: two minutes ago), keeping gaps."""
    raw = (DATA / name).read_text("utf-8")
    base = int(time.time()) - 120 if base is None else base
    first = 1764580500
    data = json.loads(raw)

    def shift(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k in ("timestamp", "date") and str(v).isdigit():
                    obj[k] = type(v)(base + int(v) - first)
                else:
                    shift(v)
        elif isinstance(obj, list):
            for v in obj:
                shift(v)

    shift(data)
    return json.dumps(data).encode()


def counts(services) -> dict[str, int]:
    from sqlalchemy import func, select

    from geo_sigap.storage.tables import (AttachmentRow, AuditRow, ChannelMessageRow,
                                          IncidentRow)

    with services.db.session() as s:
        return {name: s.scalar(select(func.count()).select_from(t)) for name, t in (
            ("incidents", IncidentRow), ("messages", ChannelMessageRow),
            ("attachments", AttachmentRow), ("audit", AuditRow))}
