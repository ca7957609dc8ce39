"""Telegram Bot API webhooks: secret-token check and ``Update`` parsing.

``setWebhook(url, secret_token=…)`` makes Telegram send the token in
``X-Telegram-Bot-Api-Secret-Token`` with every update; an update without it is refused.
An update's ``message`` holds ``text`` (with ``entities``), or ``location`` / ``venue``,
or ``photo`` (an array of ``PhotoSize``, smallest first) with a ``caption``.

In a group (privacy mode off, or the bot an admin) a message starts a draft only when it
is addressed to the bot: the ``/lapor`` command (also ``/lapor@bot``), a mention of the
bot's ``@username`` or a reply to the bot. Other group messages only join the sender's
open draft (a location or photo sent right after ``/lapor``). In a private chat with the
bot every message counts.
"""

from __future__ import annotations

import hmac
import json
import re
from datetime import UTC, datetime
from typing import Any

from geo_sigap.channels.messages import InboundMessage, MediaRef, MessageKind, Parsed
from geo_sigap.errors import InvalidInput, InvalidSignature

CHANNEL = "telegram"
COMMANDS = ("lapor", "report")


def check_secret(header: str | None, secret: str) -> None:
    if not header or not hmac.compare_digest(header.encode(), secret.encode()):
        raise InvalidSignature("Token rahasia webhook Telegram tidak cocok",
                               "Telegram webhook secret token does not match")


def parse(body: bytes, bot_username: str | None = None) -> Parsed:
    """The message of one update (``message`` or ``edited_message`` is ignored)."""
    try:
        update = json.loads(body)
    except ValueError:
        raise InvalidInput("Isi webhook Telegram bukan JSON",
                           "Telegram webhook body is not JSON") from None
    if not isinstance(update, dict) or "update_id" not in update:
        raise InvalidInput("Bukan Update Telegram", "Not a Telegram Update")
    m = update.get("message")
    if not isinstance(m, dict):
        return Parsed(ignored=(str(update["update_id"]),))
    msg = _message(m, (bot_username or "").lstrip("@").lower())
    if msg is None:
        return Parsed(ignored=(str(update["update_id"]),))
    return Parsed(messages=(msg,))


def _message(m: dict[str, Any], bot: str) -> InboundMessage | None:
    chat, sender = _d(m.get("chat")), _d(m.get("from"))
    if not chat.get("id") or not sender.get("id") or sender.get("is_bot"):
        return None
    text = str(m.get("text") or m.get("caption") or "")
    entities = m.get("entities") or m.get("caption_entities") or []
    addressed, text = _addressed(text, entities, bot)
    reply = _d(_d(m.get("reply_to_message")).get("from"))
    if bot and reply.get("is_bot") and str(reply.get("username", "")).lower() == bot:
        addressed = True
    private = chat.get("type") == "private"
    name = " ".join(str(x) for x in (sender.get("first_name"), sender.get("last_name")) if x)
    if sender.get("username"):
        name = f"{name} (@{sender['username']})".strip()
    try:
        at = datetime.fromtimestamp(int(m.get("date")), UTC)
    except (TypeError, ValueError):
        at = datetime.now(UTC)
    common = dict(channel=CHANNEL, message_id=f"{chat['id']}:{m.get('message_id')}",
                  sender=str(sender["id"]), at=at, sender_name=name or None,
                  reply_to=str(chat["id"]), reply_message_id=str(m.get("message_id")),
                  forwarded=bool(m.get("forward_origin") or m.get("forward_date")),
                  starts_draft=private or addressed)
    venue = _d(m.get("venue"))
    loc = _d(m.get("location") or venue.get("location"))
    if loc:
        try:
            lon, lat = float(loc["longitude"]), float(loc["latitude"])
        except (KeyError, TypeError, ValueError):
            return None
        label = ", ".join(str(x) for x in (venue.get("title"), venue.get("address")) if x)
        return InboundMessage(kind=MessageKind.LOCATION, lon=lon, lat=lat,
                              location_label=label or None, text=label, **common)
    photos = [p for p in (m.get("photo") or []) if isinstance(p, dict) and p.get("file_id")]
    doc = _d(m.get("document"))
    if photos:
        best = max(photos, key=lambda p: (p.get("width", 0) * p.get("height", 0)))
        return InboundMessage(kind=MessageKind.IMAGE, text=text,
                              media=MediaRef(str(best["file_id"]), "image/jpeg",
                                             best.get("file_size")), **common)
    if doc.get("file_id") and str(doc.get("mime_type", "")).startswith("image/"):
        return InboundMessage(kind=MessageKind.IMAGE, text=text,
                              media=MediaRef(str(doc["file_id"]), doc.get("mime_type"),
                                             doc.get("file_size")), **common)
    if text.strip():
        return InboundMessage(kind=MessageKind.TEXT, text=text.strip(), **common)
    if "text" in m and not text.strip() and addressed:  # a bare "/lapor"
        return InboundMessage(kind=MessageKind.TEXT, text="", **common)
    kind = next((k for k in ("sticker", "voice", "audio", "video", "animation", "contact",
                             "poll", "document") if k in m), "unknown")
    return InboundMessage(kind=MessageKind.UNSUPPORTED, unsupported_type=kind, **common)


def _addressed(text: str, entities: list, bot: str) -> tuple[bool, str]:
    """(addressed to the bot?, the text without the command and the mention)."""
    addressed = False
    cut: list[tuple[int, int]] = []
    for e in entities if isinstance(entities, list) else []:
        e = _d(e)
        off, length = int(e.get("offset", 0)), int(e.get("length", 0))
        word = text[off:off + length]  # Telegram counts UTF-16 units; fine for ASCII
        if e.get("type") == "bot_command":
            cmd, _, target = word.lstrip("/").partition("@")
            if cmd.lower() in COMMANDS and (not target or not bot or target.lower() == bot):
                addressed = True
                cut.append((off, off + length))
        elif e.get("type") == "mention" and bot and word.lstrip("@").lower() == bot:
            addressed = True
            cut.append((off, off + length))
    if not entities and bot and re.search(rf"@{re.escape(bot)}\b", text, re.I):
        addressed = True
        text = re.sub(rf"@{re.escape(bot)}\b", "", text, flags=re.I)
    for a, b in sorted(cut, reverse=True):
        text = text[:a] + text[b:]
    return addressed, re.sub(r"[ \t]+", " ", text).strip()


def _d(v: Any) -> dict:
    return v if isinstance(v, dict) else {}
