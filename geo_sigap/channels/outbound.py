"""Calls back to the channels: download a photo, send a reply.

A :class:`ChannelClient` per channel, built by :func:`client_for` from the settings. A
channel without credentials gets the :class:`NullClient` (no photo, no reply, a log
line), so nothing ever needs the internet unless it is configured. The HTTP calls go
through a :class:`Transport` (``httpx`` by default; tests pass a fake one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from geo_sigap.channels.messages import InboundMessage, MediaRef

log = logging.getLogger(__name__)

#: WhatsApp allows free-form replies only within 24 hours of the user's last message.
REPLY_WINDOW = timedelta(hours=24)


@dataclass(slots=True)
class Response:
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        import json

        return json.loads(self.content or b"null")


class Transport(Protocol):
    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                params: dict[str, Any] | None = None, json: Any = None,
                max_bytes: int | None = None) -> Response: ...


class HttpxTransport:
    """The real transport: ``httpx`` with a 10-second timeout; a body larger than
    ``max_bytes`` is cut off (the caller refuses it)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def request(self, method, url, *, headers=None, params=None, json=None, max_bytes=None):
        import httpx

        with httpx.Client(timeout=self.timeout, follow_redirects=True) as c, c.stream(
                method, url, headers=headers, params=params, json=json) as r:
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    break
            return Response(r.status_code, b"".join(chunks), dict(r.headers))


class ChannelClient(Protocol):
    def fetch_photo(self, ref: MediaRef, max_bytes: int) -> bytes | None: ...

    def reply(self, msg: InboundMessage, text: str, *, now: datetime) -> bool: ...


class NullClient:
    """A channel without credentials: photos are not downloaded, replies not sent."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def fetch_photo(self, ref: MediaRef, max_bytes: int) -> bytes | None:
        log.info("%s: photo %s not downloaded (no credentials configured)", self.channel,
                 ref.media_id)
        return None

    def reply(self, msg: InboundMessage, text: str, *, now: datetime) -> bool:
        log.info("%s: reply not sent (no credentials configured)", self.channel)
        return False


class WhatsAppClient:
    """Graph API: ``GET /{media-id}`` → ``url`` → the bytes (both with the bearer token);
    ``POST /{phone-number-id}/messages`` for a text reply within the 24-hour window."""

    def __init__(self, transport: Transport, graph_url: str, access_token: str,
                 phone_number_id: str | None) -> None:
        self.t, self.base = transport, graph_url.rstrip("/")
        self.auth = {"Authorization": f"Bearer {access_token}"}
        self.phone_number_id = phone_number_id

    def fetch_photo(self, ref: MediaRef, max_bytes: int) -> bytes | None:
        meta = self.t.request("GET", f"{self.base}/{ref.media_id}", headers=self.auth)
        if meta.status != 200:
            log.warning("whatsapp: media %s: HTTP %s", ref.media_id, meta.status)
            return None
        url = (meta.json() or {}).get("url")
        if not url:
            return None
        got = self.t.request("GET", url, headers=self.auth, max_bytes=max_bytes)
        return got.content if got.status == 200 else None

    def reply(self, msg: InboundMessage, text: str, *, now: datetime) -> bool:
        if not self.phone_number_id or not msg.reply_to:
            return False
        if now - msg.at > REPLY_WINDOW:
            log.info("whatsapp: outside the 24-hour window, reply not sent")
            return False
        r = self.t.request("POST", f"{self.base}/{self.phone_number_id}/messages",
                           headers=self.auth, json={
                               "messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": msg.reply_to, "type": "text",
                               "context": {"message_id": msg.message_id},
                               "text": {"preview_url": False, "body": text}})
        if r.status != 200:
            log.warning("whatsapp: reply refused: HTTP %s", r.status)
        return r.status == 200


class TelegramClient:
    """Bot API: ``getFile`` → ``/file/bot<token>/<file_path>``; ``sendMessage`` quoting
    the reporter's message."""

    def __init__(self, transport: Transport, api_url: str, bot_token: str) -> None:
        self.t = transport
        self.api = f"{api_url.rstrip('/')}/bot{bot_token}"
        self.files = f"{api_url.rstrip('/')}/file/bot{bot_token}"

    def fetch_photo(self, ref: MediaRef, max_bytes: int) -> bytes | None:
        meta = self.t.request("GET", f"{self.api}/getFile", params={"file_id": ref.media_id})
        body = meta.json() if meta.status == 200 else None
        path = ((body or {}).get("result") or {}).get("file_path")
        if not path:
            log.warning("telegram: getFile %s failed: HTTP %s", ref.media_id, meta.status)
            return None
        got = self.t.request("GET", f"{self.files}/{path}", max_bytes=max_bytes)
        return got.content if got.status == 200 else None

    def reply(self, msg: InboundMessage, text: str, *, now: datetime) -> bool:
        if not msg.reply_to:
            return False
        payload: dict[str, Any] = {"chat_id": msg.reply_to, "text": text}
        if msg.reply_message_id:
            payload["reply_parameters"] = {"message_id": int(msg.reply_message_id),
                                           "allow_sending_without_reply": True}
        r = self.t.request("POST", f"{self.api}/sendMessage", json=payload)
        return r.status == 200


def client_for(channel: str, settings: Any, transport: Transport) -> ChannelClient:
    """The client of ``channel`` (``whatsapp``, ``telegram``, ``sms``) for ``settings``."""
    if channel == "whatsapp" and settings.whatsapp_access_token:
        return WhatsAppClient(transport, settings.whatsapp_graph_url,
                              settings.whatsapp_access_token,
                              settings.whatsapp_phone_number_id)
    if channel == "telegram" and settings.telegram_bot_token:
        return TelegramClient(transport, settings.telegram_api_url,
                              settings.telegram_bot_token)
    return NullClient(channel)
