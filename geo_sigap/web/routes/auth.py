"""Sign-in and sessions: tokens for the API, an HttpOnly cookie for pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from geo_sigap.dispatch import users
from geo_sigap.dispatch.actors import Actor
from geo_sigap.errors import NotAuthenticated
from geo_sigap.web.auth import COOKIE, request_token, staff_actor
from geo_sigap.web.ratelimit import login_throttle, refuse_locked_login

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(..., max_length=100, examples=["operator"])
    password: str = Field(..., max_length=200, examples=["operator123"])


@router.post("/login", summary="Masuk: token API dan cookie sesi")
def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
    """Returns ``{token, token_type, expires_at, user}``; also sets the ``sigap_session``
    cookie (HttpOnly, SameSite=Strict) for pages and the event stream."""
    s = request.app.state.services
    throttle = login_throttle(request)
    wait = throttle.wait_s(body.username)
    if wait is not None:  # before the password is checked
        refuse_locked_login(wait)
    try:
        token, user, expires = users.login(s.db, body.username, body.password,
                                           ttl_hours=s.settings.token_ttl_hours)
    except NotAuthenticated:
        throttle.failed(body.username)
        raise
    throttle.succeeded(body.username)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                        secure=_https(request),
                        max_age=int(s.settings.token_ttl_hours * 3600), path="/")
    return {"token": token, "token_type": "bearer", "expires_at": expires.isoformat(),
            "user": user.to_dict()}


@router.post("/logout", summary="Keluar: token dicabut")
def logout(request: Request, response: Response) -> dict[str, Any]:
    token = request_token(request)
    revoked = users.logout(request.app.state.services.db, token) if token else False
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_https(request))
    return {"ok": True, "revoked": revoked}


def _https(request: Request) -> bool:
    """The request reached us over HTTPS (directly, or through a proxy trusted by
    uvicorn's ``--proxy-headers``, which sets the scheme)."""
    return request.url.scheme == "https"


@router.get("/me", summary="Pengguna yang sedang masuk")
def me(who: Actor = Depends(staff_actor)) -> dict[str, Any]:
    return {"username": who.username, "role": who.role.value, "role_label": who.role.label,
            "team_code": who.team_code}
