"""apps.public_id: the management API's id of an app whose client_id was fixed on create

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch_op:
        batch_op.add_column(
            sa.Column(
                "public_id",
                sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
                nullable=True,
            )
        )
        batch_op.create_index("ix_apps_org_public_id", ["org_id", "public_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch_op:
        batch_op.drop_index("ix_apps_org_public_id")
        batch_op.drop_column("public_id")
