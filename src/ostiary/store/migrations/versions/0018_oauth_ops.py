"""pushed authorization requests (RFC 9126)

Revision ID: 0018_oauth_ops
Revises: 0015
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0018_oauth_ops"
down_revision = "0015"
branch_labels = None
depends_on = None


def _id(name: str) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "pushed_requests",
        sa.Column("uri_hash", sa.String(length=64), nullable=False),
        _id("org_id"),
        _id("server_id"),
        _id("client_id"),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("expires_at", ostiary.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["apps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("uri_hash"),
    )
    op.create_index("ix_pushed_requests_expires", "pushed_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pushed_requests_expires", table_name="pushed_requests")
    op.drop_table("pushed_requests")
