"""Passwords (scrypt) and the failed-login rule of an account."""

from datetime import datetime, timedelta, timezone

import pytest

from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.domain.passwords import MAX_LENGTH, MIN_LENGTH, WeakPassword, hash_password, verify_password
from tindaklanjut.domain.users import LOCK_AFTER_FAILURES, LOCK_FOR, SLOW_AFTER_FAILURES, AccountLocked, User

NOW = datetime(2025, 1, 6, 2, 0, tzinfo=timezone.utc)


def test_a_hash_verifies_its_password_only_and_is_salted():
    stored = hash_password("kata-sandi-panjang")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert verify_password("kata-sandi-panjang", stored)
    assert not verify_password("kata-sandi-panjanG", stored)
    assert hash_password("kata-sandi-panjang") != stored


@pytest.mark.parametrize("length, ok", [(MIN_LENGTH - 1, False), (MIN_LENGTH, True), (MAX_LENGTH, True),
                                        (MAX_LENGTH + 1, False)])
def test_length_limits(length, ok):
    if ok:
        assert verify_password("a" * length, hash_password("a" * length))
    else:
        with pytest.raises(WeakPassword, match="minimal|maksimal"):
            hash_password("a" * length)


@pytest.mark.parametrize("stored", [None, "", "bcrypt$1$2$3$YQ==$YQ==", "scrypt$x$8$1$YQ==$YQ==", "scrypt$16384$8",
                                    "scrypt$16384$8$1$!!$YQ=="])
def test_anything_but_a_valid_hash_verifies_nothing(stored):
    assert not verify_password("kata-sandi-panjang", stored)


def test_an_overlong_password_is_not_even_hashed():
    assert not verify_password("a" * (MAX_LENGTH + 1), hash_password("a" * MAX_LENGTH))


def user() -> User:
    account = User(name="opd", role=Role.AGENCY, agency_id="15.71", token_hash="t", created_at=NOW)
    account.set_password("kata-sandi-panjang")
    return account


def test_failures_slow_then_lock_and_the_lock_runs_out():
    account = user()
    for n in range(1, LOCK_AFTER_FAILURES):
        assert not account.log_in("salah-salah-salah", NOW)
        assert account.failed_logins == n and account.slowed is (n >= SLOW_AFTER_FAILURES)
        assert account.locked_until is None
    assert not account.log_in("salah-salah-salah", NOW)
    assert account.locked_until == NOW + LOCK_FOR and account.failed_logins == 0
    with pytest.raises(AccountLocked, match="terlalu banyak"):
        account.log_in("kata-sandi-panjang", NOW + LOCK_FOR - timedelta(seconds=1))
    assert account.log_in("kata-sandi-panjang", NOW + LOCK_FOR)
    assert (account.failed_logins, account.locked_until) == (0, None)


def test_a_success_forgets_earlier_failures_and_a_disabled_account_never_logs_in():
    account = user()
    account.log_in("salah-salah-salah", NOW)
    assert account.log_in("kata-sandi-panjang", NOW) and account.failed_logins == 0
    account.disable(NOW)
    account.disable(NOW + timedelta(days=1))
    assert account.disabled_at == NOW and account.state(NOW) == "disabled"
    assert not account.log_in("kata-sandi-panjang", NOW)


def test_a_new_password_clears_the_lock():
    account = user()
    for _ in range(LOCK_AFTER_FAILURES):
        account.log_in("salah-salah-salah", NOW)
    account.set_password("sandi-baru-0123")
    assert (account.failed_logins, account.locked_until) == (0, None)
    assert account.log_in("sandi-baru-0123", NOW)
