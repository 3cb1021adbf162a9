"""Users, their token and password state, and their browser sessions, as rows."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters.orm_followup import UserRow, WebSessionRow
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.domain.users import User, WebSession
from tindaklanjut.ports.repositories import AbstractUsers

# The fields a User shares with its row (the row adds only its surrogate id).
FIELDS = ("name", "agency_id", "region", "token_hash", "created_at", "expires_at", "revoked_at", "password_hash",
          "disabled_at", "failed_logins", "locked_until")


def _user(row: UserRow) -> User:
    return User(role=Role(row.role), **{name: getattr(row, name) for name in FIELDS})


def _values(user: User) -> dict:
    return {"role": user.role.value, **{name: getattr(user, name) for name in FIELDS}}


class SqlUsers(AbstractUsers):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str) -> User | None:
        row = await self.session.scalar(select(UserRow).where(UserRow.name == name))
        return _user(row) if row else None

    async def by_token_hash(self, token_hash: str) -> User | None:
        # Plain columns, no ORM object: this runs on every API request.
        row = (await self.session.execute(select(*UserRow.__table__.c)
                                          .where(UserRow.token_hash == token_hash))).first()
        return _user(row) if row else None

    async def all(self) -> list[User]:
        return [_user(row) for row in await self.session.scalars(select(UserRow).order_by(UserRow.name))]

    def add(self, user: User) -> None:
        self.session.add(UserRow(**_values(user)))

    async def save(self, user: User) -> None:
        await self.session.execute(update(UserRow).where(UserRow.name == user.name).values(**_values(user)))

    def open_session(self, session: WebSession) -> None:
        self.session.add(WebSessionRow(token_hash=session.token_hash, user_name=session.user_name,
                                       csrf_token=session.csrf_token, created_at=session.created_at,
                                       expires_at=session.expires_at))

    async def find_session(self, token_hash: str) -> WebSession | None:
        row = await self.session.get(WebSessionRow, token_hash)
        return WebSession(token_hash=row.token_hash, user_name=row.user_name, csrf_token=row.csrf_token,
                          created_at=row.created_at, expires_at=row.expires_at) if row else None

    async def close_session(self, token_hash: str) -> None:
        await self.session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash))

    async def close_sessions_of(self, name: str) -> None:
        await self.session.execute(delete(WebSessionRow).where(WebSessionRow.user_name == name))
