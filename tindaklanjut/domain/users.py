"""A user of the API and the workspace, and the state of their token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tindaklanjut.domain.lifecycle import Actor, DomainError, Role


@dataclass(kw_only=True)
class User:
    name: str
    role: Role
    token_hash: str
    created_at: datetime
    agency_id: str | None = None
    region: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.role is Role.AGENCY and not self.agency_id:
            raise DomainError("pengguna instansi wajib memiliki --agency")
        if self.role is Role.SECRETARY and not (self.region or self.agency_id):
            raise DomainError("pengguna sekretariat wajib memiliki --agency (pemerintahnya sendiri) atau "
                              "--region (pengawasan baca-saja)")
        if self.role is Role.SECRETARY and self.region and self.agency_id:
            raise DomainError("pengguna sekretariat memiliki --agency atau --region, tidak keduanya")

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def revoke(self, at: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = at

    @property
    def actor(self) -> Actor:
        return Actor(name=self.name, role=self.role, agency_id=self.agency_id, region=self.region)
