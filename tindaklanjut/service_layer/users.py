"""Users: bearer tokens for machines (stored as SHA-256, shown once) and
passwords and browser sessions for people. Command handlers, and the checks
that turn a token or a session cookie into an actor."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tindaklanjut.domain.lifecycle import Actor, DomainError, Role
from tindaklanjut.domain.passwords import WeakPassword
from tindaklanjut.domain.users import AccountLocked, User, WebSession
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.unit_of_work import AbstractUnitOfWork

NewUnitOfWork = Callable[[], AbstractUnitOfWork]
SESSION_LIFETIME = timedelta(hours=12)


def token_hash(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)     # tokens live in wall-clock time, whatever the business clock says


async def _existing(uow: AbstractUnitOfWork, name: str) -> User:
    user = await uow.users.get(name)
    if user is None:
        raise DomainError(f"pengguna {name!r} tidak ada")
    return user


async def add(command: commands.AddUser, new_uow: NewUnitOfWork) -> str:
    """Create a user and return the bearer token (the only time it is visible)."""
    token, now = secrets.token_urlsafe(32), _now()
    user = User(name=command.name, role=command.role, token_hash=token_hash(token), created_at=now,
                agency_id=command.agency_id, region=command.region,
                expires_at=now + command.expires_in if command.expires_in else None)
    if command.password is not None:
        try:
            user.set_password(command.password)
        except WeakPassword as exc:
            raise DomainError(str(exc)) from None
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
        user = await _existing(uow, command.name)
        user.revoke(_now())
        await uow.users.save(user)
        await uow.commit()


async def _change_and_log_out(new_uow: NewUnitOfWork, name: str, change: Callable[[User], None]) -> None:
    """Change an account, then end every session of it (the user logs in again, or cannot)."""
    uow = new_uow()
    async with uow:
        user = await _existing(uow, name)
        try:
            change(user)
        except WeakPassword as exc:
            raise DomainError(str(exc)) from None
        await uow.users.save(user)
        await uow.users.close_sessions_of(user.name)
        await uow.commit()


async def set_password(command: commands.SetPassword, new_uow: NewUnitOfWork) -> None:
    await _change_and_log_out(new_uow, command.name, lambda user: user.set_password(command.password))


async def disable(command: commands.DisableUser, new_uow: NewUnitOfWork) -> None:
    await _change_and_log_out(new_uow, command.name, lambda user: user.disable(_now()))


@dataclass(frozen=True)
class LoginOutcome:
    """A session token and its CSRF token, or why not; `slowed` asks the caller to delay its answer."""

    session_token: str | None = None
    csrf_token: str | None = None
    slowed: bool = False
    locked: bool = False

    @property
    def ok(self) -> bool:
        return self.session_token is not None


async def log_in(command: commands.LogIn, new_uow: NewUnitOfWork) -> LoginOutcome:
    now = _now()
    uow = new_uow()
    async with uow:
        user = await uow.users.get(command.name[:200])
        if user is None:
            return LoginOutcome()
        try:
            accepted = user.log_in(command.password, now)
        except AccountLocked:
            return LoginOutcome(locked=True, slowed=True)
        await uow.users.save(user)
        if not accepted:
            await uow.commit()
            return LoginOutcome(slowed=user.slowed, locked=user.locked_until is not None)
        session_token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        uow.users.open_session(WebSession(token_hash=token_hash(session_token), user_name=user.name,
                                          csrf_token=csrf, created_at=now, expires_at=now + SESSION_LIFETIME))
        await uow.commit()
    return LoginOutcome(session_token=session_token, csrf_token=csrf)


async def log_out(command: commands.LogOut, new_uow: NewUnitOfWork) -> None:
    uow = new_uow()
    async with uow:
        await uow.users.close_session(token_hash(command.session_token))
        await uow.commit()


async def add_user(new_uow: NewUnitOfWork, name: str, role: Role, *, agency_id: str | None = None,
                   region: str | None = None, expires_in: timedelta | None = None,
                   password: str | None = None) -> str:
    """Shorthand for the `AddUser` command (scripts and tests)."""
    return await add(commands.AddUser(name=name, role=role, agency_id=agency_id, region=region,
                                      expires_in=expires_in, password=password), new_uow)


async def revoke_token(new_uow: NewUnitOfWork, name: str) -> None:
    await revoke(commands.RevokeToken(name=name), new_uow)


async def authenticate(new_uow: NewUnitOfWork, token: str, *, now: datetime | None = None) -> Actor | None:
    """The token's user, or None when it is unknown, revoked, expired or the account is disabled."""
    if len(token) > 200:
        return None
    uow = new_uow()
    async with uow:
        user = await uow.users.by_token_hash(token_hash(token))
    if user is None or user.state(now or _now()) != "active":
        return None
    return user.actor


async def list_users(new_uow: NewUnitOfWork) -> list[dict]:
    """Every user with account and token state (never the token or the password)."""
    uow = new_uow()
    async with uow:
        found = await uow.users.all()
    now = _now()
    return [{"name": u.name, "role": u.role.value, "agency_id": u.agency_id, "region": u.region,
             "created_at": u.created_at.isoformat(), "expires_at": u.expires_at.isoformat() if u.expires_at else None,
             "revoked_at": u.revoked_at.isoformat() if u.revoked_at else None, "state": u.state(now),
             "password": "ya" if u.password_hash else "tidak",
             "account": "nonaktif" if u.disabled_at else "aktif"}
            for u in found]

