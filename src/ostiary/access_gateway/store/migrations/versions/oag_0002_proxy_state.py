"""The proxy's state in the store: sessions (shared by every gateway process) and the names
of each app's org groups (for the proxy's own group check).

The assertion signing key and the sign-in seal key live sealed in ``oag_settings``.

Revision ID: oag_0002
Revises: oag_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "oag_0002"
down_revision = "oag_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oag_sessions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("app_id", sa.String(36), nullable=False, index=True),
        sa.Column("document_encrypted", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Integer, nullable=False, index=True),
    )
    with op.batch_alter_table("oag_apps") as batch:
        batch.add_column(sa.Column("group_names", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oag_apps") as batch:
        batch.drop_column("group_names")
    op.drop_table("oag_sessions")
