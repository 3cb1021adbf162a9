"""API users and their bearer tokens (stored as SHA-256, shown once)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters.orm_followup import UserRow
from tindaklanjut.domain.lifecycle import Actor, DomainError, Role


def token_hash(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


async def add_user(sessions: async_sessionmaker, name: str, role: Role, *, agency_id: str | None = None,
                   region: str | None = None) -> str:
    """Create a user and return the bearer token (the only time it is visible)."""
    if role is Role.AGENCY and not agency_id:
        raise DomainError("pengguna instansi wajib memiliki --agency")
    if role is Role.SECRETARY and not region:
        raise DomainError("pengguna sekretariat wajib memiliki --region")
    token = secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        if await session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
            raise DomainError(f"pengguna {name!r} sudah ada")
        session.add(UserRow(name=name, role=role.value, agency_id=agency_id, region=region,
                            token_hash=token_hash(token), created_at=datetime.now(timezone.utc)))
    return token


async def authenticate(sessions: async_sessionmaker, token: str) -> Actor | None:
    async with sessions() as session:
        row = await session.scalar(select(UserRow).where(UserRow.token_hash == token_hash(token)))
    if row is None:
        return None
    return Actor(name=row.name, role=Role(row.role), agency_id=row.agency_id, region=row.region)
