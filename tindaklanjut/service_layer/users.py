"""Users and their bearer tokens (stored as SHA-256, shown once): command
handlers for adding a user and revoking a token, and the token check."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from tindaklanjut.domain.lifecycle import Actor, DomainError, Role
from tindaklanjut.domain.users import User
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.unit_of_work import AbstractUnitOfWork

NewUnitOfWork = Callable[[], AbstractUnitOfWork]


def token_hash(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)     # tokens live in wall-clock time, whatever the business clock says


async def add(command: commands.AddUser, new_uow: NewUnitOfWork) -> str:
    """Create a user and return the bearer token (the only time it is visible)."""
    token, now = secrets.token_urlsafe(32), _now()
    user = User(name=command.name, role=command.role, token_hash=token_hash(token), created_at=now,
                agency_id=command.agency_id, region=command.region,
                expires_at=now + command.expires_in if command.expires_in else None)
    uow = new_uow()
    async with uow:
        if await uow.users.get(command.name) is not None:
            raise DomainError(f"pengguna {command.name!r} sudah ada")
        uow.users.add(user)
        await uow.commit()
    return token


async def revoke(command: commands.RevokeToken, new_uow: NewUnitOfWork) -> None:
    """Revoke a user's token at once; `users add` again gives the user a new one."""
    uow = new_uow()
    async with uow:
        user = await uow.users.get(command.name)
        if user is None:
            raise DomainError(f"pengguna {command.name!r} tidak ada")
        user.revoke(_now())
        await uow.users.save(user)
        await uow.commit()


async def add_user(new_uow: NewUnitOfWork, name: str, role: Role, *, agency_id: str | None = None,
                   region: str | None = None, expires_in: timedelta | None = None) -> str:
    """Shorthand for the `AddUser` command (scripts and tests)."""
    return await add(commands.AddUser(name=name, role=role, agency_id=agency_id, region=region,
                                      expires_in=expires_in), new_uow)


async def revoke_token(new_uow: NewUnitOfWork, name: str) -> None:
    await revoke(commands.RevokeToken(name=name), new_uow)


async def authenticate(new_uow: NewUnitOfWork, token: str, *, now: datetime | None = None) -> Actor | None:
    """The token's user, or None when it is unknown, revoked or expired."""
    if len(token) > 200:
        return None
    uow = new_uow()
    async with uow:
        user = await uow.users.by_token_hash(token_hash(token))
    if user is None or user.state(now or _now()) != "active":
        return None
    return user.actor


async def list_tokens(new_uow: NewUnitOfWork) -> list[dict]:
    """Every user's token state (never the token itself)."""
    uow = new_uow()
    async with uow:
        found = await uow.users.all()
    now = _now()
    return [{"name": u.name, "role": u.role.value, "agency_id": u.agency_id, "region": u.region,
             "created_at": u.created_at.isoformat(), "expires_at": u.expires_at.isoformat() if u.expires_at else None,
             "revoked_at": u.revoked_at.isoformat() if u.revoked_at else None, "state": u.state(now)}
            for u in found]
