"""orgs: custom domains (one org per host) and whether an org got its built-in servers;
the cache event log (cache invalidations between processes sharing a SQLite file)

``orgs.provisioned``: the org got its org authorization server and its ``default`` server
(``domain.orgs.provision_org``) once; start-up provisions only orgs that never were, so a
deleted ``default`` stays deleted. Orgs that already have their org authorization server
count as provisioned.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import ostiary.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, never a batch copy of ``orgs``: on SQLite (foreign keys on) copying and
    # dropping the table would cascade-delete every row that references an org.
    op.add_column("orgs", sa.Column("provisioned", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE orgs SET provisioned = TRUE WHERE EXISTS "
        "(SELECT 1 FROM authorization_servers s WHERE s.org_id = orgs.id AND s.id = '$org')"
    )
    op.create_table(
        "org_domains",
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column(
            "org_id",
            sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("created", ostiary.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("host"),
    )
    with op.batch_alter_table("org_domains", schema=None) as batch_op:
        batch_op.create_index("ix_org_domains_org_id", ["org_id"], unique=False)
    op.create_table(
        "cache_event_log",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("payload", sa.String(length=1000), nullable=False),
        sa.Column("created", ostiary.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("cache_event_log", schema=None) as batch_op:
        batch_op.create_index("ix_cache_event_log_created", ["created"], unique=False)


def downgrade() -> None:
    op.drop_table("cache_event_log")
    op.drop_table("org_domains")
    op.execute("ALTER TABLE orgs DROP COLUMN provisioned")  # SQLite 3.35+: no table copy (see upgrade)
