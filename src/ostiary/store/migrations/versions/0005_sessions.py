"""sessions: one-time session tokens, user sessions and trusted origins

Revision ID: 0005
Revises: 0004
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0005"
down_revision = "0004"
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


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, ostiary.store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "trusted_origins",
        _id("id"),
        _id("org_id"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_lower", sa.String(length=255), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        _json("scopes"),
        sa.Column("scope_types", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _time("created"),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        _time("last_updated"),
        sa.Column("last_updated_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "name_lower", name="uq_trusted_origins_org_name"),
        sa.UniqueConstraint("org_id", "origin", name="uq_trusted_origins_org_origin"),
    )
    op.create_table(
        "session_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _id("org_id"),
        _id("user_id"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _time("created"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("session_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_session_tokens_user", ["org_id", "user_id"], unique=False)

    op.create_table(
        "user_sessions",
        _id("id"),
        _id("org_id"),
        _id("user_id"),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _json("amr"),
        _time("created"),
        _time("last_password_verification", nullable=True),
        _time("expires_at"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_user_sessions_user", ["org_id", "user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_user_sessions_user")

    op.drop_table("user_sessions")
    with op.batch_alter_table("session_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_session_tokens_user")

    op.drop_table("session_tokens")
    op.drop_table("trusted_origins")
