"""Password hashing with scrypt (standard library), and the rule for failed logins.

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``, so the cost can be
raised later without invalidating stored hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P, LENGTH = 2 ** 14, 8, 1, 32
MIN_LENGTH, MAX_LENGTH = 10, 200


class WeakPassword(ValueError):
    """The password does not meet the minimum rules (message in Bahasa Indonesia)."""


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"kata sandi minimal {MIN_LENGTH} karakter")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"kata sandi maksimal {MAX_LENGTH} karakter")


def hash_password(password: str) -> str:
    check_strength(password)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=LENGTH)
    return "$".join(["scrypt", str(N), str(R), str(P), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()])


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or len(password) > MAX_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
