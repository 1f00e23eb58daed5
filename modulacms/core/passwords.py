"""Password hashing with scrypt (stdlib ``hashlib.scrypt``, memory-hard).

A stored hash is self-describing so parameters can be raised later without breaking old
hashes::

    scrypt$n=16384,r=8,p=1$<salt, urlsafe base64>$<key, urlsafe base64>

``n=2**14, r=8`` needs 16 MiB per hash and costs about 45 ms on one core of our
reference machine; that is what an attacker pays per guess, and what a login costs us.
Tests use the same parameters: a test suite that hashes with weaker settings would not
notice a regression in the real ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from modulacms.errors import ErrorCollector

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
SALT_BYTES = 16
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
# Accept stored hashes up to this cost (memory 128 * n * r * p bytes); anything larger in
# the database is treated as corrupt rather than allowed to exhaust memory.
_MAX_MEMORY = 256 * 1024 * 1024
_SCHEME = "scrypt"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=_MAX_MEMORY + 1024 * 1024,
        dklen=KEY_BYTES,
    )


def check_policy(password: str, errors: ErrorCollector, field: str = "password") -> None:
    """Add to ``errors`` why ``password`` is not acceptable (nothing when it is)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(field, f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.add(field, f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    elif not password.strip():
        errors.add(field, "must not be only spaces")


def hash_password(password: str) -> str:
    """A fresh salted hash of ``password`` in the stored format above."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    params = f"n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}"
    return f"{_SCHEME}${params}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    try:
        scheme, params, salt, key = stored.split("$")
        values = dict(item.split("=", 1) for item in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        if scheme != _SCHEME or min(n, r, p) < 1 or 128 * n * r * p > _MAX_MEMORY:
            return None
        return n, r, p, _unb64(salt), _unb64(key)
    except (ValueError, KeyError):
        return None


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for a wrong password or a hash
    in a format this module does not understand. The comparison is constant-time."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    return hmac.compare_digest(_derive(password, salt, n, r, p), expected)


def burn_time(password: str) -> None:
    """Spend the time of one verification without checking anything.

    Called when a login names an unknown email, so that "no such user" costs as much as
    "wrong password" and response timing does not reveal which addresses exist.
    """
    _derive(password, b"0" * SALT_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)
