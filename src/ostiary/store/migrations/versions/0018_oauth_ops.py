"""pushed authorization requests (RFC 9126) and device codes (RFC 8628)

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
down_revision = "0017_key_credentials"
branch_labels = None
depends_on = None


def _id(name: str) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
        nullable=False,
    )


def _json(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(
        name, sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=nullable
    )


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, ostiary.store.types.UTCDateTime(timezone=True), nullable=nullable)


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
    op.create_table(
        "device_codes",
        sa.Column("device_code_hash", sa.String(length=64), nullable=False),
        _id("org_id"),
        _id("server_id"),
        _id("client_id"),
        sa.Column("user_code", sa.String(length=16), nullable=False),
        _json("scopes"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        _time("expires_at"),
        _time("last_polled_at", nullable=True),
        sa.Column(
            "user_id",
            sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column("auth_time", sa.Integer(), nullable=True),
        _json("amr", nullable=True),
        _json("granted_scopes", nullable=True),
        sa.Column("access_token_lifetime", sa.Integer(), nullable=True),
        sa.Column("refresh_token_lifetime_minutes", sa.Integer(), nullable=True),
        sa.Column("refresh_token_window_minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["apps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_code_hash"),
        sa.UniqueConstraint("org_id", "user_code", name="uq_device_codes_user_code"),
    )
    op.create_index("ix_device_codes_expires", "device_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_device_codes_expires", table_name="device_codes")
    op.drop_table("device_codes")
    op.drop_index("ix_pushed_requests_expires", table_name="pushed_requests")
    op.drop_table("pushed_requests")
