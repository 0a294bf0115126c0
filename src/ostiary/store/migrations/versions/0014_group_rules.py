"""group rules and the memberships they gave

Revision ID: 0014
Revises: 0013
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _id(name: str) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
        nullable=False,
    )


def _json(name: str) -> sa.Column[Any]:
    return sa.Column(
        name, sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
    )


def _time(name: str) -> sa.Column[Any]:
    return sa.Column(name, ostiary.store.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "group_rules",
        _id("id"),
        _id("org_id"),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expression", sa.String(length=1024), nullable=False),
        _json("group_ids"),
        _json("excluded_users"),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_group_rules_org", "group_rules", ["org_id", "status"])
    op.create_table(
        "group_rule_members",
        _id("rule_id"),
        _id("group_id"),
        _id("user_id"),
        _id("org_id"),
        sa.ForeignKeyConstraint(["rule_id"], ["group_rules.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("rule_id", "group_id", "user_id"),
    )
    op.create_index("ix_group_rule_members_user", "group_rule_members", ["org_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_group_rule_members_user", table_name="group_rule_members")
    op.drop_table("group_rule_members")
    op.drop_index("ix_group_rules_org", table_name="group_rules")
    op.drop_table("group_rules")
