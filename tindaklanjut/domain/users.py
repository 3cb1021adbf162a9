"""A user of the API and the workspace: their token, password and account state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tindaklanjut.domain.lifecycle import Actor, DomainError, Role
from tindaklanjut.domain.passwords import hash_password, verify_password

ROLE_WORDS = {Role.SECRETARY: "sekretariat", Role.VERIFIER: "verifikator"}
# Failed logins for one user: from the third on, each answer is slowed; after
# the fifth, the account refuses logins for a quarter of an hour.
SLOW_AFTER_FAILURES = 3
LOCK_AFTER_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


class AccountLocked(DomainError):
    def __init__(self, until: datetime) -> None:
        super().__init__("terlalu banyak percobaan masuk yang gagal; coba lagi setelah beberapa menit")
        self.until = until


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
    password_hash: str | None = None
    disabled_at: datetime | None = None
    failed_logins: int = 0
    locked_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.role is Role.AGENCY and not self.agency_id:
            raise DomainError("pengguna instansi wajib memiliki --agency")
        if self.role in (Role.SECRETARY, Role.VERIFIER) and not (self.region or self.agency_id):
            raise DomainError(f"pengguna {ROLE_WORDS[self.role]} wajib memiliki --agency (pemerintahnya sendiri) "
                              "atau --region (seluruh wilayah)")
        if self.role in (Role.SECRETARY, Role.VERIFIER) and self.region and self.agency_id:
            raise DomainError(f"pengguna {ROLE_WORDS[self.role]} memiliki --agency atau --region, tidak keduanya")

    def state(self, now: datetime) -> str:
        """The API token's state (a disabled account has no valid token either)."""
        if self.disabled_at is not None:
            return "disabled"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def revoke(self, at: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = at

    def disable(self, at: datetime) -> None:
        """No more logins, no valid token; the account and its history stay."""
        if self.disabled_at is None:
            self.disabled_at = at

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)
        self.failed_logins, self.locked_until = 0, None

    def log_in(self, password: str, now: datetime) -> bool:
        """Check a password; counts failures and locks the account after too many.
        Raises AccountLocked while locked (even for the right password)."""
        if self.locked_until is not None and now < self.locked_until:
            raise AccountLocked(self.locked_until)
        if self.disabled_at is None and verify_password(password, self.password_hash):
            self.failed_logins, self.locked_until = 0, None
            return True
        self.failed_logins += 1
        if self.failed_logins >= LOCK_AFTER_FAILURES:
            self.locked_until, self.failed_logins = now + LOCK_FOR, 0
        return False

    @property
    def slowed(self) -> bool:
        return self.failed_logins >= SLOW_AFTER_FAILURES

    @property
    def actor(self) -> Actor:
        return Actor(name=self.name, role=self.role, agency_id=self.agency_id, region=self.region)


@dataclass(frozen=True, kw_only=True)
class WebSession:
    """A browser session: the cookie holds the token, the database its hash."""

    token_hash: str
    user_name: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
