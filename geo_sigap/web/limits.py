"""Refusing oversize request bodies before they are read (ASGI middleware)."""

from __future__ import annotations

import json

from geo_sigap.web.errors import error_body


class BodySizeLimit:
    """413 for a body larger than ``max_json`` (JSON/forms) or ``max_multipart`` (uploads).

    Checks ``Content-Length`` up front and counts streamed bytes for chunked bodies
    (the app never reads more than ``limit`` bytes of a body).
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
        refused = False

        async def limited_receive():
            # The app may catch any error raised while it reads the body (FastAPI turns
            # it into a 400), so the 413 is sent from here and the app is told that the
            # client went away; whatever it answers afterwards is dropped.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    await self._refuse(send, limit, headers)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        return await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, send, limit: int, headers: dict) -> None:
        en = headers.get("accept-language", "").lower().startswith("en")
        from geo_sigap.errors import megabytes

        mb_id, mb_en = megabytes(limit)
        msg = (f"Request body too large (max {mb_en})" if en
               else f"Data yang dikirim terlalu besar (maks. {mb_id})")
        body = json.dumps(error_body("payload_too_large", msg, {"max_bytes": limit})).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class RefuseControlCharacters:
    """400 for a request whose path holds a control character (``%00``, ``%0A`` …) or
    whose query string holds a NUL: no ticket or team code contains one, and PostgreSQL
    refuses NUL in text parameters (which would otherwise be a 500). Tabs and line
    breaks in query values (a pasted address to search) are left alone."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and _has_controls(scope):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope.get("headers", [])}
            en = headers.get("accept-language", "").lower().startswith("en") or \
                b"lang=en" in scope.get("query_string", b"")
            msg = ("The address contains control characters" if en
                   else "Alamat permintaan berisi karakter kontrol yang tidak sah")
            body = json.dumps(error_body("invalid_characters", msg)).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        return await self.app(scope, receive, send)


def _has_controls(scope) -> bool:
    from urllib.parse import unquote_to_bytes

    path = scope.get("path", "")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return True
    return b"\x00" in unquote_to_bytes(scope.get("query_string", b""))


# Largest id a route accepts for a table row: INTEGER primary keys (PostgreSQL int4, and
# within SQLite's 64-bit range), so a huge number in a path is a 422, never a 500.
MAX_DB_ID = 2**31 - 1
# The event outbox's ids are BIGINT (PostgreSQL) / 64-bit (SQLite).
MAX_EVENT_ID = 2**63 - 1
