"""Password hashing (argon2id) and Okta's default password policy."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ostiary.domain.directory import password_import
from ostiary.domain.errors import Invalid

# OWASP's argon2id minimum (19 MiB, t=2, p=1): ~15 ms a hash here; run off the event loop.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """What an unknown user's password is checked against, so that the answer takes as long
    as for a known one; made on first use (a hash costs ~50 ms of start-up here)."""
    return _HASHER.hash("ostiary-dummy-password-for-constant-time")


@dataclass(frozen=True)
class PasswordPolicy:
    """Okta's default password policy ("Default Policy" of the org)."""

    min_length: int = 8
    min_lower: int = 1
    min_upper: int = 1
    min_number: int = 1
    min_symbol: int = 0
    exclude_username: bool = True
    exclude_attributes: tuple[str, ...] = ("firstName", "lastName")
    max_length: int = 256
    max_attempts: int = 10
    auto_unlock_minutes: int = 60
    """Okta's ``lockout.autoUnlockMinutes``: a lockout ends by itself this long after it began
    (0: only an admin's ``/lifecycle/unlock`` ends it)."""

    def describe(self) -> str:
        parts = [f"at least {self.min_length} characters"]
        if self.min_lower:
            parts.append("a lowercase letter")
        if self.min_upper:
            parts.append("an uppercase letter")
        if self.min_number:
            parts.append("a number")
        if self.min_symbol:
            parts.append("a symbol")
        if self.exclude_username:
            parts.append("no parts of your username")
        if self.exclude_attributes:
            parts.append("does not include your first name" if "firstName" in self.exclude_attributes else "")
            parts.append("does not include your last name" if "lastName" in self.exclude_attributes else "")
        return "Password requirements: " + ", ".join(p for p in parts if p) + "."


DEFAULT_POLICY = PasswordPolicy()


def check_password(
    password: object, profile: Mapping[str, object], policy: PasswordPolicy = DEFAULT_POLICY
) -> str:
    """Return the password if it satisfies the policy, else raise Okta's validation error."""
    if not isinstance(password, str) or not password:
        raise _invalid("password: The password is required.")
    failures = [
        len(password) < policy.min_length,
        len(password) > policy.max_length,
        sum(c.islower() for c in password) < policy.min_lower,
        sum(c.isupper() for c in password) < policy.min_upper,
        sum(c.isdigit() for c in password) < policy.min_number,
        sum(not c.isalnum() for c in password) < policy.min_symbol,
        policy.exclude_username and _contains_username(password, str(profile.get("login") or "")),
        any(
            _contains_attribute(password, str(profile.get(attr) or "")) for attr in policy.exclude_attributes
        ),
    ]
    if any(failures):
        raise _invalid(f"password: Password requirements were not met. {policy.describe()}")
    return password


def _contains_username(password: str, login: str) -> bool:
    lowered = password.lower()
    parts = [p for p in re.split(r"[@.,\-_#+]", login.lower()) if len(p) >= 3]
    return any(p in lowered for p in parts)


def _contains_attribute(password: str, value: str) -> bool:
    return len(value) >= 3 and value.lower() in password.lower()


def _invalid(cause: str) -> Invalid:
    return Invalid("Api validation failed: password", code="E0000001", causes=[cause])


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-ish time: an absent hash still costs one argon2 verification."""
    return await asyncio.to_thread(_verify_sync, password, password_hash)


def needs_upgrade(password_hash: str | None) -> bool:
    """An imported hash (bcrypt, a salted digest, PBKDF2) is replaced by argon2id at the first
    successful sign-in."""
    return password_import.is_imported(password_hash)


def _verify_sync(password: str, password_hash: str | None) -> bool:
    if password_hash is not None and password_import.is_imported(password_hash):
        return password_import.verify(password, password_hash)
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
