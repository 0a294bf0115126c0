"""Sign-in state: one-time session tokens, browser sessions, and the org's trusted origins.

Secrets (session tokens, session cookies) are stored only as SHA-256 digests: a database
dump gives nobody a way into a user's session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class SessionToken(Base):
    """A short-lived, single-use token from ``POST /api/v1/authn``.

    ``kind`` SESSION is exchanged for a session (``POST /api/v1/sessions`` or the authorize
    endpoint's ``sessionToken``); STATE is the ``stateToken`` of an unfinished transaction
    (e.g. PASSWORD_EXPIRED) and can never become a session. ``used_at`` is set on redemption.
    """

    __tablename__ = "session_tokens"
    __table_args__ = (Index("ix_session_tokens_user", "org_id", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(id_type(), ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UserSession(Base):
    """A user's browser session (Okta's Session object). The ``sid`` cookie carries a secret
    whose digest is ``secret_hash``; the public ``id`` (``102…``) is not a credential."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user", "org_id", "user_id"),)

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(id_type(), ForeignKey("users.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    amr: Mapped[list[str]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_password_verification: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TrustedOrigin(Base):
    """An origin allowed to call CORS-enabled endpoints and/or to be redirected to.

    ``origin`` is stored normalised (lower-case scheme and host, no default port) so that it
    compares equal to a browser's ``Origin`` header. ``scope_types`` repeats the scope types
    as ``,CORS,REDIRECT,`` for ``filter=type eq "CORS"``.
    """

    __tablename__ = "trusted_origins"
    __table_args__ = (
        UniqueConstraint("org_id", "origin", name="uq_trusted_origins_org_origin"),
        UniqueConstraint("org_id", "name_lower", name="uq_trusted_origins_org_name"),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    name_lower: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    scope_types: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(64), default=None)
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated_by: Mapped[str | None] = mapped_column(String(64), default=None)
