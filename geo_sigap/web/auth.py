"""Who is calling: a bearer token (API) or the ``sigap_session`` cookie (pages).

Both carry the same opaque token issued by ``POST /api/auth/login``. No token: the
anonymous citizen. Use :func:`actor` for routes open to citizens and :func:`staff_actor`
for routes that need a signed-in user (:func:`staff_actor_async` is the same check as an
``async`` dependency, for hot routes: a cached token costs no thread hop).

Writes authenticated by the cookie must come from this site's own pages:
:class:`CrossSiteWriteGuard` refuses a cookie-carrying POST/PUT/PATCH/DELETE (and any
sign-in) whose ``Sec-Fetch-Site`` is not ``same-origin``/``none`` or, from browsers that
do not send it, whose ``Origin`` (else ``Referer``) is another host — a 403 with
``cross_site_request``. Bearer-token calls are not affected (a browser never adds a
bearer token on its own).

Token lookups are cached in memory for :data:`TOKEN_CACHE_TTL_S` seconds, keyed by the
token's SHA-256 (the token itself is never kept). Only valid tokens are cached. Any
write to the ``users`` or ``api_tokens`` tables through SQLAlchemy in this process
(logout, role change, deactivation) empties the cache at once; a write made by *another*
process (a second uvicorn worker, the CLI) is seen within the TTL, and a token that
expires is refused at most that long after its ``expires_at``.
"""

from __future__ import annotations

import threading
import time
import weakref

from fastapi import Request

from geo_sigap.dispatch.actors import Actor
from geo_sigap.dispatch.users import UserInfo, hash_token, user_for_token
from geo_sigap.errors import CrossSiteRequest, NotAuthenticated
from geo_sigap.storage.tables import TokenRow, UserRow
from geo_sigap.storage.watch import watch_tables

COOKIE = "sigap_session"
TOKEN_CACHE_TTL_S = 5.0
_CACHE_MAX = 10_000


class _TokenCache:
    """token hash → (user, monotonic deadline, generation), per database engine."""

    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, engine, key: str) -> UserInfo | None:
        entries = self._by_engine.get(engine)
        hit = entries.get(key) if entries is not None else None
        if hit is None or hit[2] != self.generation or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, engine, key: str, user: UserInfo, generation: int) -> None:
        with self._lock:
            if generation != self.generation:  # a write happened during the lookup
                return
            entries = self._by_engine.get(engine)
            if entries is None:
                entries = self._by_engine[engine] = {}
            elif len(entries) >= _CACHE_MAX:
                entries.clear()
            entries[key] = (user, time.monotonic() + TOKEN_CACHE_TTL_S, generation)

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._by_engine.clear()


_CACHE = _TokenCache()


def forget_tokens() -> None:
    """Drop every cached token lookup (after users/tokens were changed outside
    SQLAlchemy's ORM in this process)."""
    _CACHE.invalidate()


# logout, deactivation or a role change in this process: forget cached lookups at once
watch_tables((UserRow, TokenRow), _CACHE.invalidate)


def _cached_user(db, token: str) -> tuple[UserInfo | None, str, int]:
    key = hash_token(token)
    generation = _CACHE.generation
    return _CACHE.get(db.engine, key), key, generation


def _lookup(db, token: str, key: str, generation: int) -> UserInfo:
    user = user_for_token(db, token)  # raises NotAuthenticated
    _CACHE.put(db.engine, key, user, generation)
    return user


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
    db = request.app.state.services.db
    user, key, generation = _cached_user(db, token)
    if user is None:
        user = _lookup(db, token, key, generation)
    return user.actor


def _require_staff(a: Actor) -> Actor:
    if a.username == "warga" and a.role.value == "citizen":
        raise NotAuthenticated("Perlu masuk (login) terlebih dahulu", "Authentication required")
    return a


def staff_actor(request: Request) -> Actor:
    return _require_staff(actor(request))


async def staff_actor_async(request: Request) -> Actor:
    """:func:`staff_actor` as an ``async`` dependency: a cached token is answered on the
    event loop; only a cache miss queries the database, in a worker thread."""
    import anyio.to_thread

    token = request_token(request)
    if token is None:
        return _require_staff(Actor.citizen())
    db = request.app.state.services.db
    user, key, generation = _cached_user(db, token)
    if user is None:
        user = await anyio.to_thread.run_sync(_lookup, db, token, key, generation)
    return _require_staff(user.actor)


async def still_signed_in(request: Request, who: Actor) -> bool:
    """Whether the token of ``request`` still belongs to ``who`` (not signed out, not
    expired, same role and team) — for long-lived answers such as the event stream.
    Answered from the token cache when possible (a logout in this process empties it at
    once; in another worker it is seen within :data:`TOKEN_CACHE_TTL_S`)."""
    import anyio.to_thread

    token = request_token(request)
    if token is None:
        return False
    db = request.app.state.services.db
    user, key, generation = _cached_user(db, token)
    if user is None:
        try:
            user = await anyio.to_thread.run_sync(_lookup, db, token, key, generation)
        except NotAuthenticated:
            return False
    return user.actor == who


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SAME_SITE_FETCH = frozenset({"same-origin", "none"})
LOGIN_PATH = "/api/auth/login"


def cross_site_reason(headers: dict[str, str]) -> str | None:
    """Why a write with these (lower-cased) request headers comes from another site, or
    ``None`` when it is same-origin or not from a browser at all."""
    from urllib.parse import urlsplit

    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return None if fetch_site.strip().lower() in _SAME_SITE_FETCH else \
            f"Sec-Fetch-Site: {fetch_site}"
    host = headers.get("host", "").strip().lower()
    for name in ("origin", "referer"):
        value = headers.get(name)
        if value is None:
            continue
        if value.strip().lower() == "null":
            return f"{name}: null"
        netloc = urlsplit(value.strip()).netloc.lower()
        return None if netloc and netloc == host else f"{name}: {value[:100]}"
    return None  # no browser header at all: a script or an API client


class CrossSiteWriteGuard:
    """ASGI middleware: 403 for a cookie-authenticated write from another site, before
    the body is read (see the module docstring)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        bearer = headers.get("authorization", "").lower().startswith("bearer ")
        cookie = f"{COOKIE}=" in headers.get("cookie", "")
        if (cookie and not bearer) or scope.get("path") == LOGIN_PATH:
            reason = cross_site_reason(headers)
            if reason is not None:
                return await self._refuse(scope, send, reason)
        return await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope, send, reason: str) -> None:
        from starlette.requests import Request as StarletteRequest
        from starlette.responses import JSONResponse

        from geo_sigap.web.errors import error_body, request_locale, status_for

        exc = CrossSiteRequest(
            "Permintaan ditolak: perubahan data hanya boleh dikirim dari halaman GeoSIGAP "
            "sendiri, bukan dari situs lain. Muat ulang halaman GeoSIGAP lalu coba lagi.",
            "Request refused: changes may only be sent from GeoSIGAP's own pages, not "
            "from another site. Reload the GeoSIGAP page and try again.", reason=reason)
        loc = request_locale(StarletteRequest(scope))
        response = JSONResponse(error_body(exc.code, exc.message(loc), exc.details),
                                status_code=status_for(exc))
        await response(scope, _no_receive, send)


async def _no_receive():
    return {"type": "http.disconnect"}
