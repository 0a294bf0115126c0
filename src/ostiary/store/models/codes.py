"""Authorization codes (RFC 6749 §4.1) and users' consent to scopes.

A code is stored only as the SHA-256 digest of its value, with everything the token request
must match (client, redirect URI, PKCE challenge) and everything the tokens need (user, scopes,
nonce, the session's ``auth_time`` and ``amr``, the policy rule's lifetimes). ``used_at`` is set
when it is redeemed; ``access_token_jti`` and ``refresh_token_family_id`` remember the tokens it
became, so that a replay can revoke them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class AuthorizationCode(Base):
    __tablename__ = "authorization_codes"
    __table_args__ = (Index("ix_authorization_codes_expires", "expires_at"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(id_type())
    client_id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(id_type(), ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(JSONDoc)
    nonce: Mapped[str | None] = mapped_column(Text, default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    code_challenge_method: Mapped[str | None] = mapped_column(String(8), default=None)
    auth_time: Mapped[int] = mapped_column(Integer)
    amr: Mapped[list[str]] = mapped_column(JSONDoc)
    access_token_lifetime: Mapped[int] = mapped_column(Integer)
    refresh_token_lifetime_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    refresh_token_window_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    access_token_jti: Mapped[str | None] = mapped_column(String(128), default=None)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    refresh_token_family_id: Mapped[str | None] = mapped_column(id_type(), default=None)


class ConsentGrant(Base):
    """A user's consent to one scope for one client at one authorization server."""

    __tablename__ = "consent_grants"
    __table_args__ = (
        UniqueConstraint("org_id", "user_id", "client_id", "server_id", "scope", name="uq_consent_grants"),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(id_type(), ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(id_type())
    scope: Mapped[str] = mapped_column(String(300))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
