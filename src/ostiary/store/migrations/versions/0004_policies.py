"""policies: scopes, claims, access policies and rules of authorization servers

Revision ID: 0004
Revises: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0004"
down_revision = "0003"
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


def _server_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id", "server_id"],
        ["authorization_servers.org_id", "authorization_servers.id"],
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "auth_server_claims",
        _id("id"),
        _id("org_id"),
        _id("server_id"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claim_type", sa.String(length=16), nullable=False),
        sa.Column("value_type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("group_filter_type", sa.String(length=16), nullable=True),
        sa.Column("always_include_in_token", sa.Boolean(), nullable=False),
        _json("conditions_scopes"),
        sa.Column("system", sa.Boolean(), nullable=False),
        _time("created"),
        _time("last_updated"),
        _server_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auth_server_claims", schema=None) as batch_op:
        batch_op.create_index(
            "ix_auth_server_claims_server_name", ["org_id", "server_id", "claim_type", "name"], unique=True
        )

    op.create_table(
        "auth_server_policies",
        _id("id"),
        _id("org_id"),
        _id("server_id"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("system", sa.Boolean(), nullable=False),
        _json("clients_include"),
        _time("created"),
        _time("last_updated"),
        _server_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auth_server_policies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_auth_server_policies_server", ["org_id", "server_id", "priority"], unique=False
        )

    op.create_table(
        "auth_server_scopes",
        _id("id"),
        _id("org_id"),
        _id("server_id"),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("consent", sa.String(length=16), nullable=False),
        sa.Column("default", sa.Boolean(), nullable=False),
        sa.Column("metadata_publish", sa.String(length=16), nullable=False),
        sa.Column("system", sa.Boolean(), nullable=False),
        sa.Column("optional", sa.Boolean(), nullable=False),
        _time("created"),
        _time("last_updated"),
        _server_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auth_server_scopes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_auth_server_scopes_server_name", ["org_id", "server_id", "name"], unique=True
        )

    op.create_table(
        "auth_server_policy_rules",
        _id("id"),
        _id("org_id"),
        _id("server_id"),
        _id("policy_id"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("system", sa.Boolean(), nullable=False),
        _json("users_include"),
        _json("users_exclude"),
        _json("groups_include"),
        _json("groups_exclude"),
        _json("grant_types"),
        _json("scopes"),
        sa.Column("access_token_lifetime_minutes", sa.Integer(), nullable=False),
        sa.Column("refresh_token_lifetime_minutes", sa.Integer(), nullable=False),
        sa.Column("refresh_token_window_minutes", sa.Integer(), nullable=False),
        sa.Column("inline_hook_id", sa.String(length=64), nullable=True),
        _time("created"),
        _time("last_updated"),
        _server_fk(),
        sa.ForeignKeyConstraint(["policy_id"], ["auth_server_policies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auth_server_policy_rules", schema=None) as batch_op:
        batch_op.create_index("ix_auth_server_policy_rules_policy", ["policy_id", "priority"], unique=False)
        batch_op.create_index("ix_auth_server_policy_rules_server", ["org_id", "server_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auth_server_policy_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_server_policy_rules_server")
        batch_op.drop_index("ix_auth_server_policy_rules_policy")

    op.drop_table("auth_server_policy_rules")
    with op.batch_alter_table("auth_server_scopes", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_server_scopes_server_name")

    op.drop_table("auth_server_scopes")
    with op.batch_alter_table("auth_server_policies", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_server_policies_server")

    op.drop_table("auth_server_policies")
    with op.batch_alter_table("auth_server_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_server_claims_server_name")

    op.drop_table("auth_server_claims")
