"""Group rules (Okta's ``/api/v1/groups/rules``) and the memberships each rule gave."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import JSONDoc, UTCDateTime, id_type


class GroupRuleRow(Base):
    """A rule: users whose ``expression`` holds (and who are not excluded) join ``group_ids``."""

    __tablename__ = "group_rules"
    __table_args__ = (Index("ix_group_rules_org", "org_id", "status"),)

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16))
    expression: Mapped[str] = mapped_column(String(1024))
    group_ids: Mapped[list[Any]] = mapped_column(JSONDoc)
    excluded_users: Mapped[list[Any]] = mapped_column(JSONDoc)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class GroupRuleMember(Base):
    """A membership a rule created (a membership an admin made is never recorded, so a rule never
    removes it)."""

    __tablename__ = "group_rule_members"
    __table_args__ = (Index("ix_group_rule_members_user", "org_id", "user_id"),)

    rule_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("group_rules.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
