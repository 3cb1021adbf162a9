"""Users and their token state, as rows."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters.orm_followup import UserRow
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.domain.users import User
from tindaklanjut.ports.repositories import AbstractUsers


def _user(row: UserRow) -> User:
    return User(name=row.name, role=Role(row.role), token_hash=row.token_hash, created_at=row.created_at,
                agency_id=row.agency_id, region=row.region, expires_at=row.expires_at, revoked_at=row.revoked_at)


class SqlUsers(AbstractUsers):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str) -> User | None:
        row = await self.session.scalar(select(UserRow).where(UserRow.name == name))
        return _user(row) if row else None

    async def by_token_hash(self, token_hash: str) -> User | None:
        row = await self.session.scalar(select(UserRow).where(UserRow.token_hash == token_hash))
        return _user(row) if row else None

    async def all(self) -> list[User]:
        return [_user(row) for row in await self.session.scalars(select(UserRow).order_by(UserRow.name))]

    def add(self, user: User) -> None:
        self.session.add(UserRow(name=user.name, role=user.role.value, agency_id=user.agency_id, region=user.region,
                                 token_hash=user.token_hash, created_at=user.created_at, expires_at=user.expires_at,
                                 revoked_at=user.revoked_at))

    async def save(self, user: User) -> None:
        await self.session.execute(update(UserRow).where(UserRow.name == user.name).values(
            role=user.role.value, agency_id=user.agency_id, region=user.region, token_hash=user.token_hash,
            expires_at=user.expires_at, revoked_at=user.revoked_at))
