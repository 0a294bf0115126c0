"""Directory models: orgs, users, groups, memberships, API tokens, system log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class Org(Base):
    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), index=True)
    name: Mapped[str] = mapped_column(String(255))
    subdomain: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    provisioned: Mapped[bool] = mapped_column(default=False, server_default=false())
    """It got its org authorization server and ``default`` server (once: a deleted ``default``
    stays deleted)."""


class OrgDomain(Base):
    """A custom domain: ``host`` (lower case, no port) names exactly one org."""

    __tablename__ = "org_domains"

    host: Mapped[str] = mapped_column(String(253), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime())


USER_PREFIX_INDEXES: tuple[tuple[str, str], ...] = (
    ("ix_users_org_login_c", '(lower(login) COLLATE "C")'),  # search profile.login sw/eq (0019)
    ("ix_users_org_login_lower_prefix", "login_lower varchar_pattern_ops"),  # q
    ("ix_users_org_email_prefix", "email_lower varchar_pattern_ops"),  # q
    ("ix_users_org_first_name_prefix", "lower(CAST(profile ->> 'firstName' AS VARCHAR)) text_pattern_ops"),
    ("ix_users_org_last_name_prefix", "lower(CAST(profile ->> 'lastName' AS VARCHAR)) text_pattern_ops"),
)
"""PostgreSQL's btrees for ``LIKE 'prefix%'`` on users (migrations 0016 and 0019), after
``org_id``; each expression is the one the generated SQL compares, so the planner can match it."""


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("org_id", "login_lower", name="uq_users_org_login"),
        Index("ix_users_org_id_id", "org_id", "id"),
        Index("ix_users_org_status", "org_id", "status"),
        Index("ix_users_org_email", "org_id", "email_lower"),
        *(
            Index(name, "org_id", text(expression)).ddl_if(dialect="postgresql")
            for name, expression in USER_PREFIX_INDEXES
        ),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    transitioning_to_status: Mapped[str | None] = mapped_column(String(32), default=None)
    login: Mapped[str] = mapped_column(String(255))
    login_lower: Mapped[str] = mapped_column(String(255))
    email_lower: Mapped[str | None] = mapped_column(String(255), default=None)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    recovery_question: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, default=None)
    type_id: Mapped[str] = mapped_column(String(32))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    activated: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    status_changed: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    verified_email_lower: Mapped[str | None] = mapped_column(String(255), default=None)
    """The (lower-cased) address that was verified; the email is verified while it equals it."""


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("org_id", "name_lower", name="uq_groups_org_name"),
        Index("ix_groups_org_id_id", "org_id", "id"),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    name_lower: Mapped[str] = mapped_column(String(255))
    profile: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
    last_membership_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class GroupMembership(Base):
    __tablename__ = "group_memberships"
    __table_args__ = (Index("ix_group_memberships_user", "org_id", "user_id"),)

    group_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    created: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_org_id_id", "org_id", "id"),)

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(id_type(), default=None)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(16))
    client_name: Mapped[str] = mapped_column(String(255))
    network: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    token_window: Mapped[str | None] = mapped_column(String(32), default=None)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class LogEvent(Base):
    __tablename__ = "log_events"
    __table_args__ = (
        Index("ix_log_events_org_published", "org_id", "published"),
        Index("ix_log_events_org_seq", "org_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    published: Mapped[datetime] = mapped_column(UTCDateTime())
    event_type: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64), default=None)
    target_ids: Mapped[str] = mapped_column(Text, default="")
    outcome_result: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
