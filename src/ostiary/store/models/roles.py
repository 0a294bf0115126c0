"""Admin role assignments (Okta's standard roles) to users, groups and client apps, and their targets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.store.models.base import Base
from ostiary.store.types import UTCDateTime, id_type


class RoleAssignment(Base):
    """One standard role given to one principal (``assignee_type`` USER, GROUP or CLIENT)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("org_id", "assignee_type", "assignee_id", "role_type", name="uq_role_assignments"),
        Index("ix_role_assignments_assignee", "org_id", "assignee_id"),
    )

    id: Mapped[str] = mapped_column(id_type(), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    assignee_type: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[str] = mapped_column(id_type())
    role_type: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class RoleTarget(Base):
    """A group (``GROUP``), an app instance (``APP``) or every app of a catalog name (``CATALOG_APP``)
    that narrows a role assignment."""

    __tablename__ = "role_targets"

    assignment_id: Mapped[str] = mapped_column(
        id_type(), ForeignKey("role_assignments.id", ondelete="CASCADE"), primary_key=True
    )
    target_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    org_id: Mapped[str] = mapped_column(id_type(), ForeignKey("orgs.id", ondelete="CASCADE"))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
