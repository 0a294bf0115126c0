"""``store.statements.RowValues``: an object's columns for a Core ``INSERT``, as the unit of work
would write them (``store/log_rows.py`` and the refresh token repository use it)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text

from ostiary.store.statements import RowValues


def _table(*columns: Column) -> Table:
    return Table("t", MetaData(), Column("id", Integer, primary_key=True), *columns)


def test_an_unset_attribute_gets_its_scalar_default_and_a_set_one_is_kept() -> None:
    values = RowValues(_table(Column("kind", String, default="plain"), Column("note", String)))

    assert values(SimpleNamespace(id=1, kind=None, note=None)) == {"id": 1, "kind": "plain", "note": None}
    assert values(SimpleNamespace(id=2, kind="odd", note="n")) == {"id": 2, "kind": "odd", "note": "n"}


def test_skipped_columns_are_left_to_the_database() -> None:
    values = RowValues(_table(Column("note", String)), skip=("id",))

    assert values(SimpleNamespace(id=None, note="n")) == {"note": "n"}


@pytest.mark.parametrize(
    "column",
    [Column("made", String, server_default=text("'x'")), Column("made", String, default=lambda: "x")],
    ids=["server default", "callable default"],
)
def test_a_default_a_plain_insert_would_not_write_is_refused(column: Column) -> None:
    with pytest.raises(RuntimeError, match=r"t\.made has a default"):
        RowValues(_table(column))
