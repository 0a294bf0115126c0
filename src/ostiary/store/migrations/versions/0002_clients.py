"""clients: apps, client secrets, client JWKs, scope grants, assignments, used assertion jtis

Revision ID: 0002
Revises: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import ostiary.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _id(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
        nullable=nullable,
    )


def _json(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(
        name, sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=nullable
    )


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, ostiary.store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "apps",
        _id("id"),
        _id("org_id"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("label_lower", sa.String(length=255), nullable=False),
        sa.Column("sign_on_mode", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("application_type", sa.String(length=16), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(length=32), nullable=False),
        sa.Column("pkce_required", sa.Boolean(), nullable=False),
        sa.Column("auto_key_rotation", sa.Boolean(), nullable=False),
        _json("redirect_uris"),
        _json("post_logout_redirect_uris"),
        _json("response_types"),
        _json("grant_types"),
        _json("settings"),
        _json("profile", nullable=True),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.create_index("ix_apps_org_id_id", ["org_id", "id"], unique=False)
        batch_op.create_index("ix_apps_org_label", ["org_id", "label_lower"], unique=False)

    op.create_table(
        "app_grants",
        _id("id"),
        _id("org_id"),
        _id("app_id"),
        sa.Column("issuer", sa.String(length=1024), nullable=False),
        sa.Column("scope_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_by_type", sa.String(length=32), nullable=False),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id", "issuer", "scope_id", name="uq_app_grants_scope"),
    )

    op.create_table(
        "app_group_assignments",
        _id("app_id"),
        _id("group_id"),
        _id("org_id"),
        sa.Column("priority", sa.Integer(), nullable=False),
        _json("profile"),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("app_id", "group_id"),
    )
    with op.batch_alter_table("app_group_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_app_group_assignments_group", ["org_id", "group_id"], unique=False)

    op.create_table(
        "app_jwks",
        _id("id"),
        _id("org_id"),
        _id("app_id"),
        sa.Column("kid", sa.String(length=255), nullable=True),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _json("jwk"),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("app_jwks", schema=None) as batch_op:
        batch_op.create_index("ix_app_jwks_app", ["app_id"], unique=False)

    op.create_table(
        "app_user_assignments",
        _id("app_id"),
        _id("user_id"),
        _id("org_id"),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("user_name", sa.String(length=255), nullable=True),
        _json("profile"),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("app_id", "user_id"),
    )
    with op.batch_alter_table("app_user_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_app_user_assignments_user", ["org_id", "user_id"], unique=False)

    op.create_table(
        "client_assertion_jtis",
        _id("client_id"),
        sa.Column("jti_digest", sa.String(length=64), nullable=False),
        _id("org_id"),
        _time("expires_at"),
        sa.ForeignKeyConstraint(["client_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "jti_digest"),
    )
    with op.batch_alter_table("client_assertion_jtis", schema=None) as batch_op:
        batch_op.create_index("ix_client_assertion_jtis_expires", ["client_id", "expires_at"], unique=False)

    op.create_table(
        "client_secrets",
        _id("id"),
        _id("org_id"),
        _id("app_id"),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("secret_hint", sa.String(length=8), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _time("created"),
        _time("last_updated"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.create_index("ix_client_secrets_app", ["app_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.drop_index("ix_client_secrets_app")
    op.drop_table("client_secrets")
    with op.batch_alter_table("client_assertion_jtis", schema=None) as batch_op:
        batch_op.drop_index("ix_client_assertion_jtis_expires")
    op.drop_table("client_assertion_jtis")
    with op.batch_alter_table("app_user_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_app_user_assignments_user")
    op.drop_table("app_user_assignments")
    with op.batch_alter_table("app_jwks", schema=None) as batch_op:
        batch_op.drop_index("ix_app_jwks_app")
    op.drop_table("app_jwks")
    with op.batch_alter_table("app_group_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_app_group_assignments_group")
    op.drop_table("app_group_assignments")
    op.drop_table("app_grants")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_index("ix_apps_org_label")
        batch_op.drop_index("ix_apps_org_id_id")
    op.drop_table("apps")
