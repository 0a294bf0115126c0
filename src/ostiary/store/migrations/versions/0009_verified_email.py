"""users.verified_email_lower: which address was verified, so email_verified is truthful

Existing activated users keep their current address as verified (what ID tokens said before).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_email_lower", sa.String(length=255), nullable=True))
    op.execute(
        "UPDATE users SET verified_email_lower = email_lower "
        "WHERE email_lower IS NOT NULL AND status NOT IN ('STAGED', 'PROVISIONED')"
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("verified_email_lower")
