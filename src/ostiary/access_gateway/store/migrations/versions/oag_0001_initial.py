"""The access gateway's first schema: settings, API clients, tokens, certificates, IdPs, apps.

Revision ID: oag_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "oag_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oag_settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "oag_api_clients",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("public_jwk", sa.JSON, nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
    )
    op.create_table(
        "oag_access_tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("expires_at", sa.Integer, nullable=False, index=True),
    )
    op.create_table(
        "oag_used_assertions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Integer, nullable=False, index=True),
    )
    op.create_table(
        "oag_certificates",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("common_name", sa.String(255), nullable=False),
        sa.Column("san", sa.JSON, nullable=False),
        sa.Column("self_signed", sa.Boolean, nullable=False),
        sa.Column("valid_from", sa.Integer, nullable=False),
        sa.Column("expires_on", sa.Integer, nullable=False),
        sa.Column("cert_pem", sa.Text, nullable=False),
        sa.Column("key_encrypted", sa.Text, nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
    )
    op.create_table(
        "oag_idps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("domain", sa.String(255), nullable=False, unique=True),
        sa.Column("api_token_encrypted", sa.Text, nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
    )
    op.create_table(
        "oag_apps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("label", sa.String(255), nullable=False, unique=True),
        sa.Column("public_domain", sa.String(255), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idp_id", sa.String(36), sa.ForeignKey("oag_idps.id"), nullable=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("session", sa.JSON, nullable=False),
        sa.Column("behavior", sa.JSON, nullable=False),
        sa.Column("health_check", sa.JSON, nullable=False),
        sa.Column("org_app_id", sa.String(64), nullable=True),
        sa.Column("org_client_secret_encrypted", sa.Text, nullable=True),
        sa.Column("created", sa.Integer, nullable=False),
    )
    op.create_table(
        "oag_app_parts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "app_id",
            sa.String(36),
            sa.ForeignKey("oag_apps.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )
    op.create_table(
        "oag_authentication_service",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("secrets_encrypted", sa.Text, nullable=True),
    )


def downgrade() -> None:
    for name in (
        "oag_authentication_service",
        "oag_app_parts",
        "oag_apps",
        "oag_idps",
        "oag_certificates",
        "oag_used_assertions",
        "oag_access_tokens",
        "oag_api_clients",
        "oag_settings",
    ):
        op.drop_table(name)
