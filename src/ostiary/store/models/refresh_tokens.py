"""Refresh tokens (``offline_access``): opaque secrets stored only as SHA-256 digests.

Each row is one token. Rotation makes a chain: the used token gets ``rotated_at`` and
``replaced_by`` (its successor's id), and every token of the chain shares the ``family_id``
of the first one, which is what the management API calls the token's ``id``. The family's
absolute expiry (``expires_at``) is copied to every member; ``idle_expires_at`` is the
member's own deadline (its last use plus the idle window). ``successor_seal`` holds the
successor's secret encrypted with a key only the previous token's holder can derive (see
``ostiary.domain.tokens.refresh_tokens``), so a retry in the grace period answers the
same successor without any plaintext token in the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "server_id"],
            ["authorization_servers.org_id", "authorization_servers.id"],
            ondelete="CASCADE",
        ),
        Index("ix_refresh_tokens_client", "org_id", "server_id", "client_id"),
        Index("ix_refresh_tokens_user", "org_id", "user_id"),
        Index("ix_refresh_tokens_family", "family_id"),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(id_type())
    client_id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(id_type(), ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[str] = mapped_column(id_type())
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONDoc)
    amr: Mapped[list[str]] = mapped_column(JSONDoc)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    window_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    idle_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    replaced_by: Mapped[str | None] = mapped_column(id_type(), default=None)
    successor_seal: Mapped[str | None] = mapped_column(String(64), default=None)
    grace_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class FamilyAccessToken(Base):
    """An access token issued together with a token of a refresh family (by the code or the
    refresh grant), kept until it expires: revoking the family revokes it too, as on Okta
    ("any access tokens issued with these refresh tokens are also revoked")."""

    __tablename__ = "refresh_family_access_tokens"
    __table_args__ = (Index("ix_refresh_family_access_tokens_family", "org_id", "family_id"),)

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    family_id: Mapped[str] = mapped_column(id_type())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
