"""What a custom authorization server is made of: scopes, claims, access policies and their rules.

Every row belongs to one server through the composite key ``(org_id, server_id)`` and goes
with it (``ON DELETE CASCADE``); a rule also goes with its policy. List-valued conditions
(people, grant types, scopes, clients) are JSON arrays: they are read whole, never queried.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


def _server_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["org_id", "server_id"],
        ["authorization_servers.org_id", "authorization_servers.id"],
        ondelete="CASCADE",
    )


class Scope(Base):
    """``consent`` REQUIRED/IMPLICIT/FLEXIBLE; ``metadata_publish`` ALL_CLIENTS/NO_CLIENTS."""

    __tablename__ = "auth_server_scopes"
    __table_args__ = (
        _server_fk(),
        Index("ix_auth_server_scopes_server_name", "org_id", "server_id", "name", unique=True),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type())
    server_id: Mapped[str] = mapped_column(id_type())
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    display_name: Mapped[str | None] = mapped_column(String(255), default=None)
    consent: Mapped[str] = mapped_column(String(16))
    default: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_publish: Mapped[str] = mapped_column(String(16))
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class Claim(Base):
    """``claim_type`` RESOURCE (access token) or IDENTITY (ID token); ``value_type`` EXPRESSION,
    GROUPS (``value`` filtered by ``group_filter_type``) or SYSTEM (computed by Ostiary)."""

    __tablename__ = "auth_server_claims"
    __table_args__ = (
        _server_fk(),
        Index("ix_auth_server_claims_server_name", "org_id", "server_id", "claim_type", "name", unique=True),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type())
    server_id: Mapped[str] = mapped_column(id_type())
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    claim_type: Mapped[str] = mapped_column(String(16))
    value_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    group_filter_type: Mapped[str | None] = mapped_column(String(16), default=None)
    always_include_in_token: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions_scopes: Mapped[list[str]] = mapped_column(JSONDoc)
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class AccessPolicy(Base):
    """An ``OAUTH_AUTHORIZATION_POLICY``; lower ``priority`` is evaluated first (1, 2, …)."""

    __tablename__ = "auth_server_policies"
    __table_args__ = (
        _server_fk(),
        Index("ix_auth_server_policies_server", "org_id", "server_id", "priority"),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type())
    server_id: Mapped[str] = mapped_column(id_type())
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(255), default=None)
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    clients_include: Mapped[list[str]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class PolicyRule(Base):
    """A ``RESOURCE_ACCESS`` rule: who (people), how (grant types), what (scopes), for how long."""

    __tablename__ = "auth_server_policy_rules"
    __table_args__ = (
        _server_fk(),
        Index("ix_auth_server_policy_rules_policy", "policy_id", "priority"),
        Index("ix_auth_server_policy_rules_server", "org_id", "server_id"),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type())
    server_id: Mapped[str] = mapped_column(id_type())
    policy_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("auth_server_policies.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(255))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    users_include: Mapped[list[str]] = mapped_column(JSONDoc)
    users_exclude: Mapped[list[str]] = mapped_column(JSONDoc)
    groups_include: Mapped[list[str]] = mapped_column(JSONDoc)
    groups_exclude: Mapped[list[str]] = mapped_column(JSONDoc)
    grant_types: Mapped[list[str]] = mapped_column(JSONDoc)
    scopes: Mapped[list[str]] = mapped_column(JSONDoc)
    access_token_lifetime_minutes: Mapped[int] = mapped_column(Integer)
    refresh_token_lifetime_minutes: Mapped[int] = mapped_column(Integer)
    refresh_token_window_minutes: Mapped[int] = mapped_column(Integer)
    inline_hook_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
