"""Small pieces for the hand-written SQL of the hot paths (the ledger's award, the
headcounts, the leaderboards and rankings, the screens): a table's quoted name, a date
as the database driver takes it, rows in chunks that stay under the drivers' limit on
parameters per statement, and the "insert or add to" statement of running totals.

Table and column names here come from the code, never from input; values are always
parameters.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.backends.utils import CursorWrapper

Row = TypeVar("Row")


@functools.cache
def sql_table(model: type[models.Model]) -> str:
    """The model's table name, quoted for the default database."""
    return connection.ops.quote_name(model._meta.db_table)


def sql_date(day: datetime.date) -> Any:
    """A date as a statement parameter of the default database."""
    return connection.ops.adapt_datefield_value(day)


def chunks(rows: Sequence[Row], size: int) -> Iterator[Sequence[Row]]:
    """``rows`` in consecutive slices of at most ``size``."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def rows_insert_or_add(
    cursor: CursorWrapper,
    *,
    model: type[models.Model],
    columns: Sequence[str],
    conflict: Sequence[str],
    added: str,
    rows: Sequence[Sequence[Any]],
    chunk_size: int = 300,
) -> None:
    """Insert ``rows``; where a row with the same ``conflict`` columns exists, add the new
    row's ``added`` value to it instead (PostgreSQL and SQLite ``ON CONFLICT``)."""
    table = sql_table(model)
    values = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for chunk in chunks(rows, chunk_size):
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join([values] * len(chunk))
            + f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE"
            f" SET {added} = {table}.{added} + excluded.{added}",
            [value for row in chunk for value in row],
        )
