"""The user a token is for, as a plain record: what token minting, the authorize steps,
userinfo and introspection read of a user, instead of the ``User`` row (``TokenUsers.user``
and the loaders below hand it out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ostiary.domain.directory.users import email_verified
from ostiary.store.models import User


@dataclass(frozen=True, slots=True)
class TokenUser:
    id: str
    org_id: str
    login: str
    status: str
    profile: Mapping[str, Any]
    email_verified: bool
    """The profile's email is the one an admin activated the user with (``users.email_verified``)."""
    last_updated: datetime | None
    status_changed: datetime | None


def token_user(row: User) -> TokenUser:
    return TokenUser(
        id=row.id,
        org_id=row.org_id,
        login=row.login,
        status=row.status,
        profile=row.profile or {},
        email_verified=email_verified(row),
        last_updated=row.last_updated,
        status_changed=row.status_changed,
    )
