"""Small pieces for the hand-written SQL of the hot paths (the ledger's award, the
headcounts, the leaderboards and rankings, the screens): a table's quoted name, a date
as the database driver takes it, and rows in chunks that stay under the drivers' limit
on parameters per statement.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection, models

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
