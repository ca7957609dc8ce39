"""Reports from the chat channels people already use: WhatsApp Cloud API, Telegram bot,
an SMS gateway.

Each channel module turns one webhook delivery into :class:`~geo_sigap.channels.messages.
InboundMessage` objects (parsing and signature checks only, no web framework);
:mod:`geo_sigap.channels.drafts` turns messages into draft reports on the operator queue
(status ``diterima`` — "menunggu verifikasi"); :mod:`geo_sigap.channels.outbound` fetches
photos and sends replies through a transport that is a no-op unless configured.
"""
