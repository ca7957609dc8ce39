"""Refusing oversize request bodies before they are read (ASGI middleware)."""

from __future__ import annotations

import json

from geo_sigap.web.errors import error_body


class BodySizeLimit:
    """413 for a body larger than ``max_json`` (JSON/forms) or ``max_multipart`` (uploads).

    Checks ``Content-Length`` up front and counts streamed bytes for chunked bodies.
    """

    def __init__(self, app, *, max_json: int, max_multipart: int) -> None:
        self.app = app
        self.max_json = max_json
        self.max_multipart = max_multipart

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        ctype = headers.get("content-type", "")
        limit = self.max_multipart if ctype.startswith("multipart/") else self.max_json
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(send, limit, headers)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            return await self.app(scope, limited_receive, send)
        except _TooLarge:
            return await self._refuse(send, limit, headers)

    async def _refuse(self, send, limit: int, headers: dict) -> None:
        en = headers.get("accept-language", "").lower().startswith("en")
        mb = limit / 1024 / 1024
        msg = (f"Request body too large (max {mb:.1f} MB)" if en
               else f"Data yang dikirim terlalu besar (maks. {mb:.1f} MB)")
        body = json.dumps(error_body("payload_too_large", msg, {"max_bytes": limit})).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
