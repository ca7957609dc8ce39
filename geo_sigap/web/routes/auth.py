"""Sign-in and sessions: tokens for the API, an HttpOnly cookie for pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from geo_sigap.dispatch import users
from geo_sigap.dispatch.actors import Actor
from geo_sigap.web.auth import COOKIE, request_token, staff_actor

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(..., max_length=100, examples=["operator"])
    password: str = Field(..., max_length=200, examples=["operator123"])


@router.post("/login", summary="Masuk: token API dan cookie sesi")
def login(body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
    """Returns ``{token, token_type, expires_at, user}``; also sets the ``sigap_session``
    cookie (HttpOnly, SameSite=Strict) for pages and the event stream."""
    s = request.app.state.services
    token, user, expires = users.login(s.db, body.username, body.password,
                                       ttl_hours=s.settings.token_ttl_hours)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https",
                        max_age=int(s.settings.token_ttl_hours * 3600), path="/")
    return {"token": token, "token_type": "bearer", "expires_at": expires.isoformat(),
            "user": user.to_dict()}


@router.post("/logout", summary="Keluar: token dicabut")
def logout(request: Request, response: Response) -> dict[str, Any]:
    token = request_token(request)
    revoked = users.logout(request.app.state.services.db, token) if token else False
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True, "revoked": revoked}


@router.get("/me", summary="Pengguna yang sedang masuk")
def me(who: Actor = Depends(staff_actor)) -> dict[str, Any]:
    return {"username": who.username, "role": who.role.value, "role_label": who.role.label,
            "team_code": who.team_code}
