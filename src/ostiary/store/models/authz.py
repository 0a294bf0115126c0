"""Authorization servers (the org AS, ``default`` and custom ones), their signing keys, revocations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class AuthorizationServer(Base):
    """``kind`` is ORG (issuer = org URL, okta.* scopes), DEFAULT (id ``default``) or CUSTOM (``aus…``)."""

    __tablename__ = "authorization_servers"

    org_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    audiences: Mapped[list[str]] = mapped_column(JSONDoc)
    issuer_mode: Mapped[str] = mapped_column(String(32), default="ORG_URL")
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    signing_alg: Mapped[str] = mapped_column(String(8), default="RS256")
    rotation_mode: Mapped[str] = mapped_column(String(16), default="AUTO")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    last_rotated: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    next_rotation: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class SigningKeyRow(Base):
    """A signing key; the private half encrypted at rest with the master key.

    Status: NEXT (published, not yet used), ACTIVE (signs), EXPIRED (published for verification
    until ``retire_after``, then dropped from the JWKS).
    """

    __tablename__ = "signing_keys"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "server_id"],
            ["authorization_servers.org_id", "authorization_servers.id"],
            ondelete="CASCADE",
        ),
        Index("ix_signing_keys_server", "org_id", "server_id", "status"),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type())
    server_id: Mapped[str] = mapped_column(id_type())
    alg: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    private_key: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    activated: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    retire_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class RevokedToken(Base):
    """Revoked JWT access tokens by ``jti``, kept until the token would have expired (RFC 7009)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
