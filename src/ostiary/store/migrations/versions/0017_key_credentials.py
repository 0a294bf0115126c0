"""apps' X.509 key credentials and resource servers' encryption keys

Revision ID: 0017_key_credentials
Revises: 0015
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0017_key_credentials"
down_revision = "0016_directory_indexes"
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
        "app_key_credentials",
        _id("org_id"),
        _id("app_id"),
        sa.Column("kid", sa.String(length=64), nullable=False),
        _json("jwk"),
        _time("created"),
        _time("last_updated"),
        _time("expires_at"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("app_id", "kid"),
    )
    op.create_table(
        "resource_server_keys",
        _id("id"),
        _id("org_id"),
        _id("server_id"),
        sa.Column("kid", sa.String(length=255), nullable=False),
        _json("jwk"),
        sa.Column("status", sa.String(length=16), nullable=False),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_resource_server_keys_server", "resource_server_keys", ["org_id", "server_id"])


def downgrade() -> None:
    op.drop_index("ix_resource_server_keys_server", table_name="resource_server_keys")
    op.drop_table("resource_server_keys")
    op.drop_table("app_key_credentials")
