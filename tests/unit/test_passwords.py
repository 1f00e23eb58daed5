"""Password hashing (scrypt) and the password policy."""

from __future__ import annotations

import pytest

from modulacms.core import passwords
from modulacms.core.passwords import check_policy, hash_password, verify_password
from modulacms.errors import ErrorCollector


def test_hash_round_trip_and_format() -> None:
    stored = hash_password("correct horse")
    scheme, params, salt, key = stored.split("$")
    assert scheme == "scrypt"
    assert params == f"n={passwords.SCRYPT_N},r={passwords.SCRYPT_R},p={passwords.SCRYPT_P}"
    assert salt and key
    assert "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)
    assert not verify_password("", stored)


def test_same_password_gets_a_fresh_salt() -> None:
    assert hash_password("same password") != hash_password("same password")


def test_parameters_are_memory_hard() -> None:
    # 128 * n * r bytes of memory per hash: at least 16 MiB
    assert 128 * passwords.SCRYPT_N * passwords.SCRYPT_R >= 16 * 1024 * 1024


def test_hashes_made_with_other_parameters_still_verify() -> None:
    stored = hash_password("older hash")
    salt, key = stored.split("$")[2:]
    # a hash written by an older build with a cheaper cost is still understood
    cheaper = passwords._b64(passwords._derive("older hash", passwords._unb64(salt), 2**10, 8, 1))
    assert verify_password("older hash", f"scrypt$n=1024,r=8,p=1${salt}${cheaper}")
    assert not verify_password("older hash", f"scrypt$n=1024,r=8,p=1${salt}${key}")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text-password",
        "bcrypt$n=16384,r=8,p=1$c2FsdA$a2V5",
        "scrypt$n=16384,r=8$c2FsdA$a2V5",
        "scrypt$n=abc,r=8,p=1$c2FsdA$a2V5",
        "scrypt$n=0,r=8,p=1$c2FsdA$a2V5",
        # asks for 2 GiB of memory: treated as corrupt, never computed
        "scrypt$n=2097152,r=8,p=1$c2FsdA$a2V5",
        "scrypt$n=16384,r=8,p=1$!!!$a2V5",
    ],
)
def test_malformed_hashes_never_verify(stored: str) -> None:
    assert not verify_password("anything at all", stored)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8 characters"),
        ("1234567", "at least 8 characters"),
        ("        ", "only spaces"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_policy_rejects(password: str, problem: str) -> None:
    errors = ErrorCollector()
    check_policy(password, errors)
    assert [e.field for e in errors.errors] == ["password"]
    assert problem in errors.errors[0].message


def test_policy_accepts_eight_characters_and_unicode() -> None:
    for password in ("12345678", "pässwörd", "x" * 1024):
        errors = ErrorCollector()
        check_policy(password, errors)
        assert errors.errors == []
    stored = hash_password("pässwörd ☃")
    assert verify_password("pässwörd ☃", stored)
