"""Database-level guards that hold even for raw SQL: the ledger is append-only; and the
prepared statements the ledger's hot paths use on PostgreSQL (``prepared_cursor``).

A trigger refuses UPDATE and DELETE on ``learning_pointsentry`` on PostgreSQL and on
SQLite. SQLite has no session settings, so its trigger asks a function the project
registers on every connection; ``ledger_maintenance()`` lets the test suite empty the
table between tests (Django flushes SQLite with DELETE; PostgreSQL with TRUNCATE, which
row triggers do not see). A connection without the function (the sqlite3 shell) gets an
error, so it is refused as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

LEDGER_TABLE = "learning_pointsentry"
SQLITE_MAINTENANCE_FUNCTION = "dangjian_ledger_maintenance"

_maintenance = False

POSTGRESQL_INSTALL = f"""
CREATE OR REPLACE FUNCTION {LEDGER_TABLE}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the points ledger is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Add a reversal entry instead.';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {LEDGER_TABLE}_append_only ON {LEDGER_TABLE};
CREATE TRIGGER {LEDGER_TABLE}_append_only
    BEFORE UPDATE OR DELETE ON {LEDGER_TABLE}
    FOR EACH ROW EXECUTE FUNCTION {LEDGER_TABLE}_append_only();
"""

POSTGRESQL_UNINSTALL = f"""
DROP TRIGGER IF EXISTS {LEDGER_TABLE}_append_only ON {LEDGER_TABLE};
DROP FUNCTION IF EXISTS {LEDGER_TABLE}_append_only();
"""

SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {LEDGER_TABLE}_no_update BEFORE UPDATE ON {LEDGER_TABLE}
    WHEN NOT {SQLITE_MAINTENANCE_FUNCTION}()
    BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only: UPDATE refused'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS {LEDGER_TABLE}_no_delete BEFORE DELETE ON {LEDGER_TABLE}
    WHEN NOT {SQLITE_MAINTENANCE_FUNCTION}()
    BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only: DELETE refused'); END
    """,
]

SQLITE_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {LEDGER_TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {LEDGER_TABLE}_no_delete",
]


def _maintenance_allowed() -> int:
    return int(_maintenance)


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: give SQLite connections the trigger's function."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        SQLITE_MAINTENANCE_FUNCTION, 0, _maintenance_allowed, deterministic=False
    )


@contextmanager
def ledger_maintenance() -> Iterator[None]:
    """Let this process delete ledger rows on SQLite (used only to reset test databases)."""
    global _maintenance
    previous, _maintenance = _maintenance, True
    try:
        yield
    finally:
        _maintenance = previous


def install_ledger_guards(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_INSTALL, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_INSTALL:
            schema_editor.execute(statement)


def uninstall_ledger_guards(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_UNINSTALL, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_UNINSTALL:
            schema_editor.execute(statement)


def ledger_guards_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate`` receiver: put the guards back if a migration dropped them.

    On SQLite, Django rebuilds a table (copy, drop, rename) for most field changes,
    and the triggers go with the old table; installing is idempotent on both vendors.
    """
    from django.db import connections

    if getattr(sender, "label", None) != "learning":
        return
    connection = connections[using]
    if LEDGER_TABLE not in connection.introspection.table_names():
        return
    statements = {"postgresql": [POSTGRESQL_INSTALL], "sqlite": SQLITE_INSTALL}
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


# psycopg prepares a statement on request only while preparation is on; a threshold no
# query ever reaches leaves the automatic preparation of Django's own queries off.
_NEVER = 2**62


def prepared_cursor(db: Any) -> Any:
    """A cursor on connection ``db`` for a statement run very often.

    On PostgreSQL the statement is bound on the server and prepared on first use in each
    connection, so it is parsed and planned once (the award statement took longer to
    parse and plan than to run). Use it only for statements whose generic plan is as good
    as a planned one: PostgreSQL switches to it after five runs. Django turns psycopg's
    preparation
    off because it breaks transaction-mode connection poolers; this project connects to
    PostgreSQL directly. When queries are logged (DEBUG, tests counting queries) the
    statement is not prepared, so that the log shows its SQL. Elsewhere: Django's cursor
    (SQLite keeps its own cache of compiled statements).
    """
    if db.vendor != "postgresql":
        return db.cursor()
    from psycopg import Cursor

    db.ensure_connection()
    raw_connection = db.connection
    if db.queries_logged:
        return db.make_debug_cursor(Cursor(raw_connection))
    if raw_connection.prepare_threshold is None:
        raw_connection.prepare_threshold = _NEVER
    return db.make_cursor(_prepared_cursor_class()(raw_connection))


@cache
def _prepared_cursor_class() -> type:
    from psycopg import Cursor

    class PreparedCursor(Cursor):  # type: ignore[type-arg]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = True
            return super().execute(query, params, **kwargs)

    return PreparedCursor
