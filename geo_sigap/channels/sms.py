"""A generic SMS gateway webhook: a form-encoded POST with ``from`` and ``text``.

Most SMS gateway apps and services (an Android phone running a gateway app, a local
provider's HTTP push) can be set to POST ``from=<number>&text=<message>`` to a URL with a
shared secret. Optional fields: ``id`` (or ``message_id``) — the gateway's message id,
used for idempotency; without it a message is identified by sender, text and day (WIB);
``sent_at`` (ISO 8601 or Unix seconds). The secret comes in ``X-Gateway-Secret`` or the
``secret`` field. The reply text is returned in the response (``reply``) for gateways
that send it back as an SMS.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from geo_sigap.channels.messages import InboundMessage, MessageKind, Parsed
from geo_sigap.dispatch.whatsapp import WIB, normalize_phone
from geo_sigap.errors import InvalidInput, InvalidSignature

CHANNEL = "sms"


def check_secret(given: str | None, secret: str) -> None:
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise InvalidSignature("Rahasia gateway SMS tidak cocok",
                               "SMS gateway secret does not match")


def parse(form: Mapping[str, str], *, now: datetime | None = None) -> Parsed:
    sender = (form.get("from") or form.get("sender") or "").strip()
    text = (form.get("text") or form.get("message") or "").strip()
    if not sender or not text:
        raise InvalidInput("Kolom 'from' dan 'text' wajib diisi",
                           "Fields 'from' and 'text' are required")
    at = _when(form.get("sent_at") or form.get("timestamp"), now or datetime.now(UTC))
    phone = normalize_phone(sender) or sender
    msg_id = (form.get("id") or form.get("message_id") or "").strip()
    if not msg_id:
        day = at.astimezone(WIB).date().isoformat()
        msg_id = "h:" + hashlib.sha256(f"{phone}\x1f{text}\x1f{day}".encode()).hexdigest()[:40]
    return Parsed(messages=(InboundMessage(
        channel=CHANNEL, message_id=msg_id[:200], sender=phone, at=at,
        kind=MessageKind.TEXT, text=text, sender_phone=_display(phone), reply_to=phone),))


def _display(phone: str) -> str:
    return ("+" + phone) if phone.isdigit() else phone


def _when(value: str | None, now: datetime) -> datetime:
    if not value:
        return now
    try:
        if value.strip().isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return at if at.tzinfo else at.replace(tzinfo=WIB)
    except ValueError:
        return now
