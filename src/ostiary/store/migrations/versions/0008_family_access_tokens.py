"""access tokens issued with a refresh token, by family: revoking the family revokes them

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import ostiary.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    id_type = sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql")
    op.create_table(
        "refresh_family_access_tokens",
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("org_id", id_type, nullable=False),
        sa.Column("family_id", id_type, nullable=False),
        sa.Column("expires_at", ostiary.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("jti"),
    )
    with op.batch_alter_table("refresh_family_access_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_refresh_family_access_tokens_family", ["org_id", "family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refresh_family_access_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_refresh_family_access_tokens_family")
    op.drop_table("refresh_family_access_tokens")
