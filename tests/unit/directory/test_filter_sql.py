"""Filter trees compiled to SQL and run on SQLite and (when configured) PostgreSQL.

A throwaway ``people`` table with a unique name holds ten rows; each test runs an
expression and checks exactly which ids match. ``profile`` is the project's JSON
document type (JSONB on PostgreSQL); ``profile_json`` holds the same data as plain JSON.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import JSON, Column, DateTime, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ostiary.domain.directory.filter_expr import (
    OPERATORS,
    USER_FILTER_POLICY,
    USER_SEARCH_POLICY,
    AttributePolicy,
    AttributeRule,
    parse_filter,
)
from ostiary.filter_ast import Comparison, Present
from ostiary.store.repositories.filter_sql import Custom, JsonPath, compile_filter, json_path
from ostiary.store.types import JSONDoc

pytestmark = pytest.mark.asyncio(loop_scope="module")

PG_URL = os.environ.get("OSTIARY_TEST_POSTGRES_URL")


def _at(month: int, day: int = 1) -> datetime:
    return datetime(2013, month, day, tzinfo=UTC)


ROWS: list[dict[str, Any]] = [
    {
        "id": "u1",
        "status": "ACTIVE",
        "type_id": "oty1",
        "created": _at(1),
        "activated": _at(1, 2),
        "profile": {
            "login": "alice@example.com",
            "email": "Alice@Example.com",
            "firstName": "Alice",
            "lastName": "Smith",
            "age": 30,
            "admin": True,
            "nickname": "al_1",
            "tags": ["red", "blue"],
            "scores": [1, 5],
            "address": {"city": "Paris"},
            "level": "high",
        },
    },
    {
        "id": "u2",
        "status": "ACTIVE",
        "type_id": "oty1",
        "created": _at(2),
        "activated": _at(2, 2),
        "profile": {
            "login": "ALICE.J@example.com",
            "email": "alice.j@example.org",
            "firstName": "alice",
            "lastName": "Jones",
            "age": 30.5,
            "admin": False,
            "nickname": "al%1",
            "tags": ["green"],
            "address": {"city": "Lyon"},
            "level": 3,
        },
    },
    {
        "id": "u3",
        "status": "STAGED",
        "type_id": "oty2",
        "created": _at(3),
        "activated": None,
        "profile": {
            "login": "bob@example.com",
            "firstName": "Bob",
            "lastName": "Brown",
            "age": "30",
            "nickname": "alx1",
            "title": "",
        },
    },
    {
        "id": "u4",
        "status": "SUSPENDED",
        "type_id": None,
        "created": _at(4),
        "activated": _at(4, 2),
        "profile": {"firstName": "Carol", "lastName": "White", "age": None, "note": "50_50", "manager": None},
    },
    {
        "id": "u5",
        "status": "DEPROVISIONED",
        "type_id": "oty1",
        "created": _at(5),
        "activated": _at(5, 2),
        "profile": {"firstName": "Dave", "lastName": "O'Neil", "nickname": "back\\slash", "title": "CTO"},
    },
    {
        "id": "u6",
        "status": "LOCKED_OUT",
        "type_id": "oty1",
        "created": _at(6),
        "activated": _at(6, 2),
        "profile": {"firstName": "Émile", "lastName": "Zola", "age": 45, "tags": []},
    },
    {
        "id": "u7",
        "status": "ACTIVE",
        "type_id": "oty1",
        "created": _at(7),
        "activated": _at(7, 2),
        "profile": {"firstName": "Eve", "lastName": "Smithers", "age": 7, "admin": "true", "scores": [2, 3]},
    },
    {
        "id": "u8",
        "status": "RECOVERY",
        "type_id": "oty1",
        "created": _at(8),
        "activated": _at(8, 2),
        "profile": {"firstName": "Frank", "lastName": "smith", "age": -3, "note": "100%"},
    },
    {
        "id": "u9",
        "status": "PROVISIONED",
        "type_id": "oty1",
        "created": _at(9),
        "activated": None,
        "profile": {"firstName": "Grace", "lastName": "Hopper", "age": 85, "tags": ["Red", 7, True]},
    },
    {
        "id": "u10",
        "status": "ACTIVE",
        "type_id": "oty2",
        "created": _at(10),
        "activated": _at(10, 2),
        "profile": None,
    },
]
ALL = {row["id"] for row in ROWS}


def _table(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("id", String(32), primary_key=True),
        Column("status", String(32), nullable=False),
        Column("type_id", String(32)),
        Column("created", DateTime(timezone=True), nullable=False),
        Column("last_updated", DateTime(timezone=True), nullable=False),
        Column("activated", DateTime(timezone=True)),
        Column("profile", JSONDoc),
        Column("profile_json", JSON(none_as_null=True)),
    )


@dataclass
class Db:
    engine: AsyncEngine
    table: Table

    def resolver(self, profile_column: str = "profile") -> Callable[[str], Any]:
        table = self.table
        columns = {
            "id": table.c.id,
            "status": table.c.status,
            "type.id": table.c.type_id,
            "created": table.c.created,
            "lastUpdated": table.c.last_updated,
            "activated": table.c.activated,
        }

        def resolve(attr: str) -> Any:
            if attr in columns:
                return columns[attr]
            if attr == "home.city":
                return table.c[profile_column]["address"]["city"]
            if attr == "first.tag":
                return table.c[profile_column]["tags"][0]
            if attr.startswith("profile."):
                return table.c[profile_column][attr.removeprefix("profile.")]
            raise KeyError(attr)

        return resolve

    async def ids(self, condition: Any) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(self.table.c.id).where(condition))
        return {row[0] for row in rows}


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Db]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("filter_sql") / "filter.db"
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    elif PG_URL:
        engine = create_async_engine(PG_URL)
    else:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    table = _table("filter_sql_people_" + secrets.token_hex(4))
    rows = [{**row, "last_updated": row["created"], "profile_json": row["profile"]} for row in ROWS]
    async with engine.begin() as conn:
        await conn.run_sync(table.create)
        await conn.execute(insert(table), rows)
    try:
        yield Db(engine, table)
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(table.drop)
        await engine.dispose()


EXACT = AttributePolicy(
    name="test",
    attributes={
        "id": AttributeRule(OPERATORS),
        "status": AttributeRule(OPERATORS),
        "type.id": AttributeRule(OPERATORS),
        "created": AttributeRule(OPERATORS, kind="datetime"),
        "activated": AttributeRule(OPERATORS, kind="datetime"),
        "home.city": AttributeRule(OPERATORS, kind="any"),
        "first.tag": AttributeRule(OPERATORS, kind="any"),
    },
    patterns={"profile.*": AttributeRule(OPERATORS, kind="any")},
    allow_not=True,
)
FOLDED = AttributePolicy(
    name="test",
    attributes={"status": AttributeRule(OPERATORS, case="ignore")},
    patterns={"profile.*": AttributeRule(OPERATORS, kind="any", case="ignore")},
    allow_not=True,
)


async def matching(db: Db, text: str, policy: AttributePolicy = EXACT, column: str = "profile") -> set[str]:
    condition = compile_filter(parse_filter(text, allowed=policy), db.resolver(column))
    return await db.ids(condition)


# --- columns --------------------------------------------------------------------------------


async def test_eq_on_a_column(db: Db) -> None:
    assert await matching(db, 'status eq "ACTIVE"') == {"u1", "u2", "u7", "u10"}


async def test_filter_eq_is_case_sensitive(db: Db) -> None:
    assert await matching(db, 'status eq "active"', USER_FILTER_POLICY) == set()


async def test_search_status_ignores_case(db: Db) -> None:
    assert await matching(db, 'status eq "active"', USER_SEARCH_POLICY) == {"u1", "u2", "u7", "u10"}


async def test_ignore_case_on_a_column_lowers_both_sides(db: Db) -> None:
    assert await matching(db, 'status eq "Locked_Out"', FOLDED) == {"u6"}


async def test_lt_or_gt_is_okta_s_ne_workaround(db: Db) -> None:
    text = '(status lt "STAGED" or status gt "STAGED")'
    assert await matching(db, text, USER_SEARCH_POLICY) == ALL - {"u3"}


async def test_string_ordering_is_bytewise(db: Db) -> None:
    assert await matching(db, 'status lt "LOCKED_OUT"') == {"u1", "u2", "u7", "u10", "u5"}
    assert await matching(db, 'status ge "S"') == {"u3", "u4"}


async def test_sw_on_a_column(db: Db) -> None:
    assert await matching(db, 'status sw "DE"') == {"u5"}


async def test_case_sensitive_sw_and_co_on_a_column(db: Db) -> None:
    assert await matching(db, 'status sw "de"') == set()
    assert await matching(db, 'status co "ovi"') == set()
    assert await matching(db, 'status co "OVI"') == {"u5", "u9"}


async def test_timestamps_compare_as_instants(db: Db) -> None:
    assert await matching(db, 'created gt "2013-08-01T00:00:00.000Z"') == {"u9", "u10"}
    assert await matching(db, 'created ge "2013-08-01T00:00:00.000Z"') == {"u8", "u9", "u10"}
    assert await matching(db, 'created lt "2013-02-01T00:00:00.000Z"') == {"u1"}
    assert await matching(db, 'created le "2013-02-01T00:00:00.000Z"') == {"u1", "u2"}


async def test_timestamps_with_offsets_compare_as_instants(db: Db) -> None:
    assert await matching(db, 'created eq "2013-03-01T02:00:00+02:00"') == {"u3"}
    assert await matching(db, 'created lt "2013-01-31T23:00:00-01:00"') == {"u1"}


async def test_a_date_range(db: Db) -> None:
    text = 'created gt "2013-02-15T00:00:00Z" and created lt "2013-05-15T00:00:00Z"'
    assert await matching(db, text, USER_SEARCH_POLICY) == {"u3", "u4", "u5"}


async def test_eq_null_on_a_column_is_is_null(db: Db) -> None:
    assert await matching(db, "activated eq null") == {"u3", "u9"}
    assert await matching(db, "activated ne null") == ALL - {"u3", "u9"}


async def test_pr_on_a_column(db: Db) -> None:
    assert await matching(db, "activated pr") == ALL - {"u3", "u9"}
    assert await matching(db, "type.id pr") == ALL - {"u4"}


async def test_ne_on_a_column_includes_nulls(db: Db) -> None:
    assert await matching(db, 'type.id ne "oty1"') == {"u3", "u4", "u10"}


# --- JSON values ----------------------------------------------------------------------------


async def test_eq_on_a_profile_string(db: Db) -> None:
    assert await matching(db, 'profile.firstName eq "alice"') == {"u2"}


async def test_search_eq_on_a_profile_string_ignores_case(db: Db) -> None:
    assert await matching(db, 'profile.firstName eq "ALICE"', USER_SEARCH_POLICY) == {"u1", "u2"}
    assert await matching(db, 'profile.email eq "alice@example.COM"', USER_SEARCH_POLICY) == {"u1"}


async def test_filter_eq_on_login_is_case_sensitive(db: Db) -> None:
    assert await matching(db, 'profile.login eq "alice.j@example.com"', USER_FILTER_POLICY) == set()
    assert await matching(db, 'profile.login eq "ALICE.J@example.com"', USER_FILTER_POLICY) == {"u2"}


async def test_sw_ignoring_case(db: Db) -> None:
    assert await matching(db, 'profile.lastName sw "SMI"', USER_SEARCH_POLICY) == {"u1", "u7", "u8"}


async def test_sw_respecting_case(db: Db) -> None:
    assert await matching(db, 'profile.lastName sw "Smi"') == {"u1", "u7"}


async def test_co_ignoring_case(db: Db) -> None:
    assert await matching(db, 'profile.email co "EXAMPLE.COM"', USER_SEARCH_POLICY) == {"u1"}
    assert await matching(db, 'profile.login co "Alice"', USER_SEARCH_POLICY) == {"u1", "u2"}


async def test_co_respecting_case(db: Db) -> None:
    assert await matching(db, 'profile.login co "ALICE"') == {"u2"}
    assert await matching(db, 'profile.login co "lice"') == {"u1"}


async def test_like_wildcards_in_values_match_literally(db: Db) -> None:
    assert await matching(db, 'profile.nickname co "%"') == {"u2"}
    assert await matching(db, 'profile.nickname sw "al_"') == {"u1"}
    assert await matching(db, 'profile.note co "_"') == {"u4"}
    assert await matching(db, 'profile.note sw "100%"') == {"u8"}


async def test_like_wildcards_match_literally_when_ignoring_case(db: Db) -> None:
    assert await matching(db, 'profile.nickname co "L%"', FOLDED) == {"u2"}
    assert await matching(db, 'profile.nickname sw "AL_"', FOLDED) == {"u1"}


async def test_backslashes_in_values_match_literally(db: Db) -> None:
    assert await matching(db, r'profile.nickname co "\\"') == {"u5"}
    assert await matching(db, r'profile.nickname eq "back\\slash"') == {"u5"}


async def test_quotes_in_values(db: Db) -> None:
    assert await matching(db, 'profile.lastName eq "O\'Neil"') == {"u5"}


async def test_non_ascii_values(db: Db) -> None:
    assert await matching(db, 'profile.firstName eq "Émile"') == {"u6"}
    assert await matching(db, 'profile.firstName sw "É"') == {"u6"}


async def test_numbers_compare_numerically_and_only_with_numbers(db: Db) -> None:
    assert await matching(db, "profile.age eq 30") == {"u1"}
    assert await matching(db, "profile.age gt 30") == {"u2", "u6", "u9"}
    assert await matching(db, "profile.age ge 30") == {"u1", "u2", "u6", "u9"}
    assert await matching(db, "profile.age lt 10") == {"u7", "u8"}
    assert await matching(db, "profile.age le -3") == {"u8"}
    assert await matching(db, "profile.age eq 30.5") == {"u2"}


async def test_numeric_comparisons_never_cast_other_types(db: Db) -> None:
    assert await matching(db, "profile.level gt 1") == {"u2"}
    assert await matching(db, 'profile.level lt "z"') == {"u1"}


async def test_a_string_that_looks_like_a_number_matches_only_as_a_string(db: Db) -> None:
    assert await matching(db, 'profile.age eq "30"') == {"u3"}


async def test_booleans_match_only_json_booleans(db: Db) -> None:
    assert await matching(db, "profile.admin eq true") == {"u1"}
    assert await matching(db, "profile.admin eq false") == {"u2"}
    assert await matching(db, 'profile.admin eq "true"', FOLDED) == {"u7"}


async def test_eq_null_matches_missing_and_json_null(db: Db) -> None:
    assert await matching(db, "profile.age eq null") == {"u4", "u5", "u10"}
    assert await matching(db, "profile.manager eq null") == ALL


async def test_pr_needs_a_non_empty_value(db: Db) -> None:
    assert await matching(db, "profile.title pr") == {"u5"}
    assert await matching(db, "profile.age pr") == ALL - {"u4", "u5", "u10"}
    assert await matching(db, "profile.tags pr") == {"u1", "u2", "u9"}
    assert await matching(db, "profile.admin pr") == {"u1", "u2", "u7"}


async def test_ne_on_json_includes_missing_and_other_types(db: Db) -> None:
    assert await matching(db, "profile.age ne 30") == ALL - {"u1"}
    assert await matching(db, 'profile.firstName ne "Alice"') == ALL - {"u1"}


async def test_array_attributes_match_when_any_element_does(db: Db) -> None:
    assert await matching(db, 'profile.tags eq "red"') == {"u1"}
    assert await matching(db, 'profile.tags eq "red"', FOLDED) == {"u1", "u9"}
    assert await matching(db, 'profile.tags sw "gr"') == {"u2"}
    assert await matching(db, "profile.scores gt 4") == {"u1"}
    assert await matching(db, "profile.tags eq 7") == {"u9"}
    assert await matching(db, "profile.tags eq true") == {"u9"}
    assert await matching(db, 'profile.tags ne "red"') == ALL - {"u1"}


async def test_nested_json_paths(db: Db) -> None:
    assert await matching(db, 'home.city eq "Paris"') == {"u1"}
    assert await matching(db, 'home.city sw "L"') == {"u2"}
    assert await matching(db, "home.city pr") == {"u1", "u2"}


async def test_json_paths_with_array_indexes(db: Db) -> None:
    assert await matching(db, 'first.tag eq "red"') == {"u1"}
    assert await matching(db, 'first.tag sw "g"') == {"u2"}


# --- logic ----------------------------------------------------------------------------------


async def test_and_binds_tighter_than_or(db: Db) -> None:
    text = 'status eq "STAGED" or status eq "ACTIVE" and profile.age eq 30'
    assert await matching(db, text) == {"u3", "u1"}


async def test_parentheses_group(db: Db) -> None:
    text = '(status eq "STAGED" or status eq "ACTIVE") and profile.firstName sw "B"'
    assert await matching(db, text) == {"u3"}


async def test_not_is_the_exact_complement(db: Db) -> None:
    assert await matching(db, 'not (status eq "ACTIVE")') == ALL - {"u1", "u2", "u7", "u10"}
    assert await matching(db, "not (profile.age gt 10)") == ALL - {"u1", "u2", "u6", "u9"}
    assert await matching(db, "not (not (profile.age gt 10))") == {"u1", "u2", "u6", "u9"}


async def test_okta_documented_search(db: Db) -> None:
    text = 'profile.lastName eq "smith" and (created lt "2013-02-01T00:00:00.000Z" or status eq "RECOVERY")'
    assert await matching(db, text, USER_SEARCH_POLICY) == {"u1", "u8"}


# --- resolvers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'profile.firstName eq "alice"',
        'profile.lastName sw "Smi"',
        'profile.nickname co "%"',
        "profile.age gt 30",
        "profile.admin eq true",
        "profile.age eq null",
        "profile.tags pr",
        'profile.tags eq "red"',
        "profile.age ne 30",
        'home.city eq "Paris"',
    ],
)
async def test_a_plain_json_column_behaves_like_the_json_document_type(db: Db, text: str) -> None:
    assert await matching(db, text, column="profile_json") == await matching(db, text, column="profile")


async def test_an_explicit_json_path(db: Db) -> None:
    path = json_path(db.table.c.profile, "address", "city")
    assert path == JsonPath(db.table.c.profile, ("address", "city"))
    condition = compile_filter(Comparison("city", "eq", "Lyon"), lambda attr: path)
    assert await db.ids(condition) == {"u2"}


async def test_a_custom_attribute_builds_its_own_sql(db: Db) -> None:
    seen: list[Comparison | Present] = []

    def build(node: Comparison | Present) -> Any:
        seen.append(node)
        return db.table.c.id.in_(["u1", "u2"])

    node = parse_filter(
        'member ne "g1"', allowed=AttributePolicy("test", {"member": AttributeRule(OPERATORS)})
    )
    assert await db.ids(compile_filter(node, lambda attr: Custom(build))) == {"u1", "u2"}
    assert seen == [Comparison("member", "ne", "g1")]


async def test_a_whole_json_column_is_refused(db: Db) -> None:
    with pytest.raises(TypeError):
        compile_filter(Present("profile"), lambda attr: db.table.c.profile)


async def test_the_compiled_statement_is_reusable_with_new_values(db: Db) -> None:
    for age, expected in ((30, {"u1"}), (45, {"u6"}), (7, {"u7"})):
        assert await matching(db, f"profile.age eq {age} or profile.scores eq {age}") == expected


async def test_the_condition_prints_without_a_database() -> None:
    table = _table("people")
    node = parse_filter('profile.tags co "x" and status lt "B"', allowed=FOLDED)
    sql = str(
        compile_filter(node, lambda attr: table.c.status if attr == "status" else table.c.profile["tags"])
    )
    assert "json_each" in sql
    assert "LIKE" in sql
