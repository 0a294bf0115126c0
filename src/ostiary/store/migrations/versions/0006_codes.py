"""codes: authorization codes and user consent grants

Revision ID: 0006
Revises: 0005
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0006"
down_revision = "0005"
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
        "authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _id("org_id"),
        _id("server_id"),
        _id("client_id"),
        _id("user_id"),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        _json("scopes"),
        sa.Column("nonce", sa.Text(), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=True),
        sa.Column("auth_time", sa.Integer(), nullable=False),
        _json("amr"),
        sa.Column("access_token_lifetime", sa.Integer(), nullable=False),
        sa.Column("refresh_token_lifetime_minutes", sa.Integer(), nullable=True),
        sa.Column("refresh_token_window_minutes", sa.Integer(), nullable=True),
        _time("created"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.Column("access_token_jti", sa.String(length=128), nullable=True),
        _time("access_token_expires_at", nullable=True),
        sa.Column(
            "refresh_token_family_id",
            sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["client_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    with op.batch_alter_table("authorization_codes", schema=None) as batch_op:
        batch_op.create_index("ix_authorization_codes_expires", ["expires_at"], unique=False)

    op.create_table(
        "consent_grants",
        _id("id"),
        _id("org_id"),
        _id("user_id"),
        _id("client_id"),
        _id("server_id"),
        sa.Column("scope", sa.String(length=300), nullable=False),
        _time("created"),
        sa.ForeignKeyConstraint(["client_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "user_id", "client_id", "server_id", "scope", name="uq_consent_grants"),
    )


def downgrade() -> None:
    op.drop_table("consent_grants")
    with op.batch_alter_table("authorization_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_authorization_codes_expires")

    op.drop_table("authorization_codes")
