"""One message received on a chat channel, independent of the channel's wire format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MessageKind(StrEnum):
    TEXT = "text"
    LOCATION = "location"
    IMAGE = "image"
    UNSUPPORTED = "unsupported"  # acknowledged and logged, never a draft


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A photo held by the channel's servers: its id there (WhatsApp media id, Telegram
    file_id) and what the channel says it is (checked again on download)."""

    media_id: str
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message from a reporter.

    ``channel`` is a :class:`~geo_sigap.domain.incidents.Channel` value; ``message_id``
    is unique per channel (redeliveries repeat it); ``sender`` identifies the reporter on
    the channel (WhatsApp/SMS: the phone number; Telegram: the user id) and is private;
    ``at`` is aware; ``lon, lat`` EPSG:4326 for a shared location; ``reply_to`` is where
    a reply goes (phone number or chat id), ``reply_message_id`` the message to quote.
    ``starts_draft`` is false for group messages not addressed to the bot: they are
    added to the sender's open draft, or dropped (not stored) when there is none.
    """

    channel: str
    message_id: str
    sender: str
    at: datetime
    kind: MessageKind
    text: str = ""
    sender_name: str | None = None
    sender_phone: str | None = None
    lon: float | None = None
    lat: float | None = None
    location_label: str | None = None
    media: MediaRef | None = None
    reply_to: str | None = None
    reply_message_id: str | None = None
    forwarded: bool = False
    unsupported_type: str | None = None
    starts_draft: bool = True  # False: may only join the sender's open draft


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one webhook delivery holds: messages to act on, message ids that were
    ignored (e.g. group chatter not addressed to the bot) and delivery statuses of our
    own replies (logged only)."""

    messages: tuple[InboundMessage, ...] = ()
    ignored: tuple[str, ...] = ()
    statuses: tuple[dict, ...] = ()
