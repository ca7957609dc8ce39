"""Users and API tokens in storage. Tokens are stored only as SHA-256 hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geo_sigap.storage.tables import TokenRow, UserRow


def user_by_name(session: Session, username: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.username == username))


def add_user(session: Session, *, username: str, password_hash: str, role: str,
             team_code: str | None = None, full_name: str | None = None) -> UserRow:
    row = UserRow(username=username, password_hash=password_hash, role=role,
                  team_code=team_code, full_name=full_name, active=True)
    session.add(row)
    return row


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.username)))


def add_token(session: Session, user_id: int, token_hash: str, expires_at: datetime) -> TokenRow:
    row = TokenRow(user_id=user_id, token_hash=token_hash, expires_at=expires_at, revoked=False)
    session.add(row)
    return row


def user_for_token_hash(session: Session, token_hash: str, now: datetime) -> UserRow | None:
    """The active user owning an unexpired, unrevoked token (one indexed query)."""
    return session.scalar(
        select(UserRow).join(TokenRow, TokenRow.user_id == UserRow.id)
        .where(TokenRow.token_hash == token_hash, TokenRow.revoked.is_(False),
               TokenRow.expires_at > now, UserRow.active.is_(True))
    )


def revoke_token_hash(session: Session, token_hash: str) -> int:
    return session.execute(
        update(TokenRow).where(TokenRow.token_hash == token_hash).values(revoked=True)
    ).rowcount
