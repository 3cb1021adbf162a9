"""API users and their bearer tokens (stored as SHA-256, shown once)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters.orm_followup import UserRow
from tindaklanjut.domain.lifecycle import Actor, DomainError, Role


def token_hash(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


async def add_user(sessions: async_sessionmaker, name: str, role: Role, *, agency_id: str | None = None,
                   region: str | None = None, expires_in: timedelta | None = None) -> str:
    """Create a user and return the bearer token (the only time it is visible)."""
    if role is Role.AGENCY and not agency_id:
        raise DomainError("pengguna instansi wajib memiliki --agency")
    if role is Role.SECRETARY and not region:
        raise DomainError("pengguna sekretariat wajib memiliki --region")
    token = secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    async with sessions() as session, session.begin():
        if await session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
            raise DomainError(f"pengguna {name!r} sudah ada")
        session.add(UserRow(name=name, role=role.value, agency_id=agency_id, region=region,
                            token_hash=token_hash(token), created_at=now,
                            expires_at=now + expires_in if expires_in else None))
    return token


async def authenticate(sessions: async_sessionmaker, token: str, *, now: datetime | None = None) -> Actor | None:
    """The token's user, or None when it is unknown, revoked or expired."""
    if len(token) > 200:
        return None
    async with sessions() as session:
        row = await session.scalar(select(UserRow).where(UserRow.token_hash == token_hash(token)))
    now = now or datetime.now(timezone.utc)
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return Actor(name=row.name, role=Role(row.role), agency_id=row.agency_id, region=row.region)


async def list_tokens(sessions: async_sessionmaker) -> list[dict]:
    """Every user's token state (never the token itself)."""
    async with sessions() as session:
        rows = (await session.scalars(select(UserRow).order_by(UserRow.name))).all()
    now = datetime.now(timezone.utc)
    return [{"name": r.name, "role": r.role, "agency_id": r.agency_id, "region": r.region,
             "created_at": r.created_at.isoformat(),
             "expires_at": r.expires_at.isoformat() if r.expires_at else None,
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
             "state": "revoked" if r.revoked_at else "expired" if r.expires_at and r.expires_at <= now else "active"}
            for r in rows]


async def revoke_token(sessions: async_sessionmaker, name: str) -> None:
    """Revoke a user's token at once; `users add` again gives the user a new one."""
    async with sessions() as session, session.begin():
        row = await session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise DomainError(f"pengguna {name!r} tidak ada")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(timezone.utc)
