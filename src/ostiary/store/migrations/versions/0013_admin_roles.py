"""admin role assignments and their targets

Revision ID: 0013
Revises: 0011

API tokens already carry ``user_id`` (0001): tokens stored without one keep acting as super
admin, so no data changes here.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

import ostiary.store.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _id(name: str) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
        nullable=False,
    )


def _time(name: str) -> sa.Column[Any]:
    return sa.Column(name, ostiary.store.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "role_assignments",
        _id("id"),
        _id("org_id"),
        sa.Column("assignee_type", sa.String(length=16), nullable=False),
        _id("assignee_id"),
        sa.Column("role_type", sa.String(length=64), nullable=False),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "org_id", "assignee_type", "assignee_id", "role_type", name="uq_role_assignments"
        ),
    )
    op.create_index("ix_role_assignments_assignee", "role_assignments", ["org_id", "assignee_id"])
    op.create_table(
        "role_targets",
        _id("assignment_id"),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=False),
        _id("org_id"),
        _time("created"),
        sa.ForeignKeyConstraint(["assignment_id"], ["role_assignments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assignment_id", "target_type", "target_id"),
    )


def downgrade() -> None:
    op.drop_table("role_targets")
    op.drop_index("ix_role_assignments_assignee", table_name="role_assignments")
    op.drop_table("role_assignments")
