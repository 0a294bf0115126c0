"""users: the login prefix index in the "C" collation, so PostgreSQL can estimate prefixes

Revision ID: 0019_login_search_index
Revises: 0018_oauth_ops

``search=profile.login sw "…"`` compiles to ``lower(login) LIKE lower(:prefix)`` ordered by
``id``. Over 0016's ``lower(login) text_pattern_ops`` index PostgreSQL 15 could use the index
for the range but could not estimate how many rows a prefix matches (its statistics are in the
collation's order, the operator class's order is another), so it guessed 1 % and walked the
primary key: at 1,000,000 users ``george.wrig`` (414 matches) read 467,000 rows, 334 ms. Over
``lower(login) COLLATE "C"`` (folded in the database's collation, compared in byte order) the
range and the statistics are in the same order: the same search reads the 414 rows from the
index, 3.7 ms, and a dense prefix still walks the primary key (``j``: 1 ms). Equality
(``filter=profile.login eq``) uses it too. The search compiles the login's comparisons to
``lower(login) COLLATE "C"`` on PostgreSQL (``domain.directory.search``): equality and a prefix
mean the same in byte order as in any deterministic collation, and the case folding is still the
database's (``lower(login COLLATE "C")`` would fold ASCII only).

The migrations run in one transaction: ``users`` takes no writes from the index build (about
2 s per million users here) until the commit, which comes after ``ANALYZE users`` (about 5 s
per million users); reads go on until the old index is dropped, the last statement, whose lock
lasts until that commit. (``CONCURRENTLY`` would need steps outside the migration's
transaction.)
"""

from alembic import op

revision = "0019_login_search_index"
down_revision = "0018_oauth_ops"
branch_labels = None
depends_on = None

LOGIN_STATISTICS = 1000
"""Histogram buckets for ``lower(login) COLLATE "C"`` (PostgreSQL's default is 100). With 100,
a prefix inside one bucket (``barbara``: 1.8 % of the users) was estimated from the bucket's
ends and taken for a few rows: the planner read 17,666 rows through the index and sorted them,
78 ms, where walking the primary key finds the first 200 in 9 ms. With 1,000 every prefix in
``bench/directory_scale.py``'s sample got the cheaper plan (1-14 ms at 1,000,000 users);
``ANALYZE users`` samples 300,000 rows for it instead of 30,000 (5 s here at 1,000,000 users)."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute('CREATE INDEX ix_users_org_login_c ON users (org_id, (lower(login) COLLATE "C"))')
    op.execute(f"ALTER INDEX ix_users_org_login_c ALTER COLUMN 2 SET STATISTICS {LOGIN_STATISTICS}")
    op.execute("ANALYZE users")  # an index's expression has no statistics until the next ANALYZE
    # Last: dropping an index locks its table against reads too, until the migration commits.
    op.execute("DROP INDEX IF EXISTS ix_users_org_login_prefix")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_users_org_login_c")
    op.execute("CREATE INDEX ix_users_org_login_prefix ON users (org_id, lower(login) text_pattern_ops)")
