"""refresh tokens: opaque, stored as digests, rotated in families

Revision ID: 0007
Revises: 0006
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _id(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
        nullable=nullable,
    )


def _json(name: str) -> sa.Column[Any]:
    return sa.Column(
        name, sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False
    )


def _time(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, ostiary.store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        _id("id"),
        _id("org_id"),
        _id("server_id"),
        _id("client_id"),
        _id("user_id"),
        _id("family_id"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _json("scopes"),
        _json("amr"),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        _time("created", nullable=False),
        _time("last_used"),
        _time("expires_at"),
        sa.Column("window_minutes", sa.Integer(), nullable=True),
        _time("idle_expires_at"),
        _time("rotated_at"),
        _id("replaced_by", nullable=True),
        sa.Column("successor_seal", sa.String(length=64), nullable=True),
        _time("grace_used_at"),
        _time("revoked_at"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["org_id", "server_id"],
            ["authorization_servers.org_id", "authorization_servers.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["client_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_refresh_tokens_client", ["org_id", "server_id", "client_id"], unique=False)
        batch_op.create_index("ix_refresh_tokens_user", ["org_id", "user_id"], unique=False)
        batch_op.create_index("ix_refresh_tokens_family", ["family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_refresh_tokens_family")
        batch_op.drop_index("ix_refresh_tokens_user")
        batch_op.drop_index("ix_refresh_tokens_client")

    op.drop_table("refresh_tokens")
