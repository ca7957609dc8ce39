"""Webhooks of the chat channels (WhatsApp Cloud API, Telegram bot, SMS gateway).

Each is off (404) until its secret is configured. They authenticate by signature or
shared secret — never by cookie — so they take no session and need no CSRF token. A
delivery with a wrong signature/secret is refused (403) before anything is read.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from geo_sigap.channels import drafts, sms, telegram, whatsapp
from geo_sigap.channels.outbound import client_for
from geo_sigap.errors import FeatureDisabled

router = APIRouter(prefix="/webhooks", tags=["kanal"])
log = logging.getLogger(__name__)


def _off(name: str) -> FeatureDisabled:
    return FeatureDisabled(f"Kanal {name} tidak diaktifkan", f"The {name} channel is off")


async def _receive(request: Request, parsed, channel: str) -> list[dict[str, Any]]:
    services = request.app.state.services
    client = client_for(channel, services.settings, services.http_transport)
    results = await anyio.to_thread.run_sync(
        lambda: drafts.receive(services, parsed, client))
    return [r.to_dict() for r in results]


@router.get("/whatsapp", response_class=PlainTextResponse,
            summary="Verifikasi webhook WhatsApp (hub.challenge)")
def whatsapp_verify(request: Request, mode: str | None = Query(None, alias="hub.mode"),
                    token: str | None = Query(None, alias="hub.verify_token"),
                    challenge: str | None = Query(None, alias="hub.challenge")):
    expected = request.app.state.settings.whatsapp_verify_token
    if not expected:
        raise _off("WhatsApp")
    return PlainTextResponse(whatsapp.check_subscription(mode, token, challenge, expected))


@router.post("/whatsapp", summary="Kiriman webhook WhatsApp Cloud API")
async def whatsapp_delivery(request: Request) -> dict[str, Any]:
    """Verified by ``X-Hub-Signature-256``; every message becomes (part of) a draft."""
    secret = request.app.state.settings.whatsapp_app_secret
    if not secret:
        raise _off("WhatsApp")
    body = await request.body()
    whatsapp.check_signature(body, request.headers.get("x-hub-signature-256"), secret)
    parsed = whatsapp.parse(body)
    for st in parsed.statuses:
        log.info("whatsapp: reply %s is %s", st.get("id"), st.get("status"))
    return {"received": await _receive(request, parsed, "whatsapp"),
            "statuses": len(parsed.statuses)}


@router.post("/telegram", summary="Update webhook bot Telegram")
async def telegram_update(request: Request) -> dict[str, Any]:
    """Checked by ``X-Telegram-Bot-Api-Secret-Token``."""
    settings = request.app.state.settings
    if not settings.telegram_webhook_secret:
        raise _off("Telegram")
    telegram.check_secret(request.headers.get("x-telegram-bot-api-secret-token"),
                          settings.telegram_webhook_secret)
    parsed = telegram.parse(await request.body(), settings.telegram_bot_username)
    return {"received": await _receive(request, parsed, "telegram"),
            "ignored": list(parsed.ignored)}


@router.post("/sms", summary="Webhook gateway SMS (form: from, text)")
async def sms_message(request: Request) -> dict[str, Any]:
    """Form-encoded ``from``, ``text`` (optional ``id``, ``sent_at``); the shared secret
    in ``X-Gateway-Secret`` or the ``secret`` field. ``reply`` is the text to send back."""
    settings = request.app.state.settings
    if not settings.sms_gateway_secret:
        raise _off("SMS")
    form = await request.form()
    sms.check_secret(request.headers.get("x-gateway-secret") or form.get("secret"),
                     settings.sms_gateway_secret)
    parsed = sms.parse({k: str(v) for k, v in form.items()})
    received = await _receive(request, parsed, "sms")
    created = next((r for r in received if r["outcome"] == "created"), None)
    reply = (drafts.reply_text(created["ticket"], drafts.status_link(settings,
                                                                     created["ticket"]))
             if created else None)
    return {"received": received, "reply": reply}
