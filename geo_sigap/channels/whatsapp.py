"""WhatsApp Cloud API webhooks: subscription check, signature check, payload parsing.

A delivery is ``{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {"metadata", "contacts", "messages", "statuses"}}]}]}``. Messages
of type ``text``, ``location``, ``image`` and ``interactive`` (a button or list reply)
are read; every other type (``unsupported``, stickers, audio …) becomes an
:attr:`MessageKind.UNSUPPORTED` message that is acknowledged and logged. ``statuses``
report the delivery of our own replies.

Every POST carries ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body
with the Meta app secret; nothing is read from a delivery whose signature does not match.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from geo_sigap.channels.messages import InboundMessage, MediaRef, MessageKind, Parsed
from geo_sigap.errors import InvalidInput, InvalidSignature

CHANNEL = "whatsapp"


def check_subscription(mode: str | None, token: str | None, challenge: str | None,
                       verify_token: str) -> str:
    """The ``hub.challenge`` to echo when Meta verifies the webhook URL.

    Raises :class:`InvalidSignature` when ``hub.mode`` is not ``subscribe`` or the token
    differs from ``verify_token``."""
    if mode != "subscribe" or not token or not hmac.compare_digest(
            token.encode(), verify_token.encode()) or challenge is None:
        raise InvalidSignature("Token verifikasi webhook WhatsApp tidak cocok",
                               "WhatsApp webhook verify token does not match")
    return challenge


def signature(body: bytes, app_secret: str) -> str:
    """``sha256=<hex>``: what Meta sends in ``X-Hub-Signature-256`` for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(body: bytes, header: str | None, app_secret: str) -> None:
    """Raise :class:`InvalidSignature` unless ``header`` is the signature of ``body``."""
    if not header or not hmac.compare_digest(header.strip().lower().encode(),
                                             signature(body, app_secret).encode()):
        raise InvalidSignature("Tanda tangan X-Hub-Signature-256 tidak sah",
                               "Invalid X-Hub-Signature-256 signature")


def parse(body: bytes) -> Parsed:
    """The messages and statuses of one (already verified) delivery, oldest first.

    Raises :class:`InvalidInput` for a body that is not a WhatsApp Business Account
    delivery."""
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidInput("Isi webhook WhatsApp bukan JSON",
                           "WhatsApp webhook body is not JSON") from None
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise InvalidInput("Bukan kiriman WhatsApp Business Account",
                           "Not a WhatsApp Business Account delivery")
    messages: list[InboundMessage] = []
    statuses: list[dict] = []
    for entry in _list(data.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            change = _dict(change)
            if change.get("field") != "messages":
                continue
            value = _dict(change.get("value"))
            names = {str(_dict(c).get("wa_id")): _dict(_dict(c).get("profile")).get("name")
                     for c in _list(value.get("contacts"))}
            for m in _list(value.get("messages")):
                msg = _message(_dict(m), names)
                if msg is not None:
                    messages.append(msg)
            for st in _list(value.get("statuses")):
                st = _dict(st)
                statuses.append({"id": st.get("id"), "status": st.get("status"),
                                 "timestamp": st.get("timestamp"),
                                 "errors": st.get("errors") or []})
    messages.sort(key=lambda m: m.at)
    return Parsed(tuple(messages), (), tuple(statuses))


def _message(m: dict[str, Any], names: dict[str, Any]) -> InboundMessage | None:
    msg_id, sender = m.get("id"), m.get("from")
    if not msg_id or not sender:
        return None
    sender = str(sender)
    try:
        at = datetime.fromtimestamp(int(m.get("timestamp")), UTC)
    except (TypeError, ValueError):
        at = datetime.now(UTC)
    kind = m.get("type")
    common = dict(channel=CHANNEL, message_id=str(msg_id), sender=sender, at=at,
                  sender_name=names.get(sender), sender_phone="+" + sender.lstrip("+"),
                  reply_to=sender, forwarded=bool(_dict(m.get("context")).get("forwarded")))
    if kind == "text":
        return InboundMessage(kind=MessageKind.TEXT,
                              text=str(_dict(m.get("text")).get("body") or ""), **common)
    if kind == "location":
        loc = _dict(m.get("location"))
        label = ", ".join(str(x) for x in (loc.get("name"), loc.get("address")) if x)
        try:
            lon, lat = float(loc["longitude"]), float(loc["latitude"])
        except (KeyError, TypeError, ValueError):
            return InboundMessage(kind=MessageKind.UNSUPPORTED, unsupported_type="location",
                                  **common)
        return InboundMessage(kind=MessageKind.LOCATION, lon=lon, lat=lat,
                              location_label=label or None, text=label, **common)
    if kind == "image":
        img = _dict(m.get("image"))
        if not img.get("id"):
            return InboundMessage(kind=MessageKind.UNSUPPORTED, unsupported_type="image",
                                  **common)
        return InboundMessage(kind=MessageKind.IMAGE, text=str(img.get("caption") or ""),
                              media=MediaRef(str(img["id"]), img.get("mime_type")), **common)
    if kind == "interactive":
        inter = _dict(m.get("interactive"))
        reply = _dict(inter.get("button_reply") or inter.get("list_reply"))
        title = reply.get("title")
        if title:
            return InboundMessage(kind=MessageKind.TEXT, text=str(title), **common)
    return InboundMessage(kind=MessageKind.UNSUPPORTED, unsupported_type=str(kind), **common)


def _dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list:
    return v if isinstance(v, list) else []
