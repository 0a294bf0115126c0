"""Client models: OAuth 2.0 / OIDC apps, their secrets and JSON Web Keys, scope grants,
user and group assignments, and the ``jti`` of used client assertions.

The app id is the OAuth ``client_id``. Client secrets are stored as SHA-256 digests; an
AES-GCM copy (under the master key) is kept only for ``client_secret_jwt`` apps, which
need the secret itself to check HMAC signatures. Client JWKs live in ``app_jwks`` only:
``settings.oauthClient.jwks`` and ``/credentials/jwks`` are two views of the same rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class App(Base):
    __tablename__ = "apps"
    __table_args__ = (
        Index("ix_apps_org_id_id", "org_id", "id"),
        Index("ix_apps_org_label", "org_id", "label_lower"),
        Index("ix_apps_org_public_id", "org_id", "public_id"),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    """The client_id (tokens, client authentication, every table that names the app)."""
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    public_id: Mapped[str | None] = mapped_column(id_type(), default=None)
    """The management API's ``id`` when the client_id was fixed on create (as in Okta, the two
    then differ); ``None``: ``id`` is both."""
    name: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(255))
    label_lower: Mapped[str] = mapped_column(String(255))
    sign_on_mode: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    application_type: Mapped[str] = mapped_column(String(16))
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    pkce_required: Mapped[bool] = mapped_column(Boolean)
    auto_key_rotation: Mapped[bool] = mapped_column(Boolean, default=True)
    redirect_uris: Mapped[list[str]] = mapped_column(JSONDoc)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSONDoc)
    response_types: Mapped[list[str]] = mapped_column(JSONDoc)
    grant_types: Mapped[list[str]] = mapped_column(JSONDoc)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    """``settings`` as given (validated), minus the members held in columns and ``jwks``."""
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class ClientSecret(Base):
    __tablename__ = "client_secrets"
    __table_args__ = (Index("ix_client_secrets_app", "app_id"),)

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64))
    secret_hint: Mapped[str] = mapped_column(String(8))
    secret_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class AppJwk(Base):
    __tablename__ = "app_jwks"
    __table_args__ = (Index("ix_app_jwks_app", "app_id"),)

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"))
    kid: Mapped[str | None] = mapped_column(String(255), default=None)
    alg: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    jwk: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    """The public members only (``kty``, ``kid``, ``alg``, ``use``, ``e``/``n`` or ``crv``/``x``/``y``)."""
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class AppGrant(Base):
    __tablename__ = "app_grants"
    __table_args__ = (UniqueConstraint("app_id", "issuer", "scope_id", name="uq_app_grants_scope"),)

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    app_id: Mapped[str] = mapped_column(id_type(), ForeignKey("apps.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(1024))
    scope_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_type: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class AppUserAssignment(Base):
    __tablename__ = "app_user_assignments"
    __table_args__ = (Index("ix_app_user_assignments_user", "org_id", "user_id"),)

    app_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(16))
    user_name: Mapped[str | None] = mapped_column(String(255), default=None)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class AppGroupAssignment(Base):
    __tablename__ = "app_group_assignments"
    __table_args__ = (Index("ix_app_group_assignments_group", "org_id", "group_id"),)

    app_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class ClientAssertionJti(Base):
    """A used client assertion (RFC 7523 §3, item 7), kept until the assertion expires.

    ``jti_digest`` is the SHA-256 (hex) of the ``jti`` claim, so any length of ``jti`` fits.
    """

    __tablename__ = "client_assertion_jtis"
    __table_args__ = (Index("ix_client_assertion_jtis_expires", "client_id", "expires_at"),)

    client_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True
    )
    jti_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
