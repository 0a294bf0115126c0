"""integration catalog entries and API service integration installs

Revision ID: 0011
Revises: 0009
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _id(name: str) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
        nullable=False,
    )


def _json(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(
        name, sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=nullable
    )


def _time(name: str) -> sa.Column[Any]:
    return sa.Column(name, ostiary.store.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "integration_entries",
        sa.Column("type", sa.String(length=100), nullable=False),
        _id("publisher_org_id"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("logo_url", sa.String(length=1024), nullable=True),
        sa.Column("config_guide_url", sa.String(length=1024), nullable=True),
        _json("scopes"),
        _json("properties"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["publisher_org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("type"),
    )
    op.create_index("ix_integration_entries_publisher", "integration_entries", ["publisher_org_id"])
    op.create_table(
        "api_service_installs",
        _id("id"),
        _id("org_id"),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("config_guide_url", sa.String(length=1024), nullable=True),
        sa.Column("logo_url", sa.String(length=1024), nullable=True),
        _json("granted_scopes"),
        _json("properties", nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _time("created"),
        sa.ForeignKeyConstraint(["id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_service_installs_org", "api_service_installs", ["org_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_api_service_installs_org", table_name="api_service_installs")
    op.drop_table("api_service_installs")
    op.drop_index("ix_integration_entries_publisher", table_name="integration_entries")
    op.drop_table("integration_entries")
