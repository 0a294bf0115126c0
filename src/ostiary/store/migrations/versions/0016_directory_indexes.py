"""users: prefix indexes for search (profile.login sw/eq) and q, on PostgreSQL

Revision ID: 0016_directory_indexes
Revises: 0015

PostgreSQL only: its ``LIKE 'abc%'`` uses a btree only with a ``*_pattern_ops`` operator class
(unless the database collation is ``C``). SQLite keeps its indexes as they were: its ``LIKE``
never uses an index on ``lower(…)``.
"""

from alembic import op

revision = "0016_directory_indexes"
down_revision = "0015"
branch_labels = None
depends_on = None

USER_PREFIX_INDEXES = (  # as in store.models.directory
    ("ix_users_org_login_prefix", "lower(login) text_pattern_ops"),
    ("ix_users_org_login_lower_prefix", "login_lower varchar_pattern_ops"),
    ("ix_users_org_email_prefix", "email_lower varchar_pattern_ops"),
    ("ix_users_org_first_name_prefix", "lower(CAST(profile ->> 'firstName' AS VARCHAR)) text_pattern_ops"),
    ("ix_users_org_last_name_prefix", "lower(CAST(profile ->> 'lastName' AS VARCHAR)) text_pattern_ops"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, expression in USER_PREFIX_INDEXES:
        op.execute(f"CREATE INDEX {name} ON users (org_id, {expression})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _ in USER_PREFIX_INDEXES:
        op.execute(f"DROP INDEX {name}")
