"""Who is calling: a bearer token (API) or the ``sigap_session`` cookie (pages).

Both carry the same opaque token issued by ``POST /api/auth/login``. No token: the
anonymous citizen. Use :func:`actor` for routes open to citizens and :func:`staff_actor`
for routes that need a signed-in user.
"""

from __future__ import annotations

from fastapi import Request

from geo_sigap.dispatch.actors import Actor
from geo_sigap.dispatch.users import user_for_token
from geo_sigap.errors import NotAuthenticated

COOKIE = "sigap_session"


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE) or None


def actor(request: Request) -> Actor:
    """The signed-in user, or the anonymous citizen when no token is sent.

    A token that is sent but invalid/expired is refused (401), not downgraded.
    """
    token = request_token(request)
    if token is None:
        return Actor.citizen()
    return user_for_token(request.app.state.services.db, token).actor


def staff_actor(request: Request) -> Actor:
    a = actor(request)
    if a.username == "warga" and a.role.value == "citizen":
        raise NotAuthenticated("Perlu masuk (login) terlebih dahulu", "Authentication required")
    return a
