"""Database-level guards that hold even for raw SQL: the ledger is append-only; the
branch list's version stamp (``BRANCH_LIST_TABLES``); and the prepared statements the
ledger's hot paths use on PostgreSQL (``prepared_cursor``).

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
    """``post_migrate`` receiver: put the guards (and the branch list's version triggers)
    back if a migration dropped them.

    On SQLite, Django rebuilds a table (copy, drop, rename) for most field changes,
    and the triggers go with the old table; installing is idempotent on both vendors.
    A missing version trigger would be worse than a slow ranking: rankings would keep
    showing a renamed branch under its old name, so they are put back every time.
    """
    from django.db import connections

    if getattr(sender, "label", None) != "learning":
        return
    connection = connections[using]
    tables = set(connection.introspection.table_names())
    if LEDGER_TABLE not in tables:
        return
    statements = {"postgresql": [POSTGRESQL_INSTALL], "sqlite": SQLITE_INSTALL}
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)
        if BRANCH_LIST_VERSION_TABLE in tables:
            for statement in _branch_list_install(connection.vendor):
                cursor.execute(statement)


# --- the branch list's version ----------------------------------------------------
#
# A branch ranking needs, besides the period's totals, the subtree's branches (names,
# paths, tree order), their members and the leaderboard's minimum size. Those change
# only when the organisation tree, a membership or the settings change, so
# ``learning.points.leaderboards`` keeps them per process and checks, in the same statement
# that reads the totals, one number: the version below. Triggers change it in the
# transaction of every write to the tables those figures come from, so no code path
# (an admin edit, a migration, raw SQL) can leave a process with an old list.
#
# Every change writes a value never used before (a sequence on PostgreSQL, a random
# 64-bit number on SQLite) rather than adding one: a rolled-back transaction's value
# is never seen again, so a list read inside it cannot match a later state; and the
# state a value names is always the same one. Ledger awards write none of these
# tables: the version says nothing about points, which every ranking reads afresh.

BRANCH_LIST_VERSION_TABLE = "learning_branchlistversion"
BRANCH_LIST_SEQUENCE = "learning_branchlistversion_seq"
# What a ranking reads besides the totals: the tree, the headcounts, the settings.
BRANCH_LIST_TABLES = (
    "learning_organization",
    "learning_organizationheadcount",
    "learning_headcountchange",
    "learning_leaderboardsettings",
)
_BRANCH_LIST_FUNCTION = "learning_branch_list_changed"

_POSTGRESQL_BRANCH_LIST_FUNCTION = f"""
CREATE SEQUENCE IF NOT EXISTS {BRANCH_LIST_SEQUENCE};
CREATE OR REPLACE FUNCTION {_BRANCH_LIST_FUNCTION}() RETURNS trigger AS $$
BEGIN
    INSERT INTO {BRANCH_LIST_VERSION_TABLE} (id, version)
    VALUES (1, nextval('{BRANCH_LIST_SEQUENCE}'))
    ON CONFLICT (id) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""  # noqa: S608


def _branch_list_install(vendor: str) -> list[str]:
    """Idempotent statements that create the version's triggers (and function)."""
    if vendor == "postgresql":
        statements = [_POSTGRESQL_BRANCH_LIST_FUNCTION]
        for table in BRANCH_LIST_TABLES:
            trigger = f"{table}_branch_list"
            # Once per statement (a tree move updates many rows) and on TRUNCATE, which
            # is how the test suite empties tables on PostgreSQL.
            statements.append(
                f"DROP TRIGGER IF EXISTS {trigger} ON {table};"
                f" CREATE TRIGGER {trigger}"
                f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {_BRANCH_LIST_FUNCTION}()"
            )
        return statements
    if vendor == "sqlite":
        # SQLite has row triggers only; they are cheap next to the writes they follow.
        # Not INSERT OR REPLACE: an outer statement's conflict clause (an upsert's)
        # overrides the one in a trigger body. The row is created when a flush
        # emptied the table, then changed.
        table_name = BRANCH_LIST_VERSION_TABLE
        body = (
            f"INSERT INTO {table_name} (id, version) SELECT 1, 0"  # noqa: S608
            f" WHERE NOT EXISTS (SELECT 1 FROM {table_name} WHERE id = 1);"
            f" UPDATE {table_name} SET version = random() WHERE id = 1;"
        )
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_branch_list_{operation.lower()}"
            f" AFTER {operation} ON {table} BEGIN {body} END"
            for table in BRANCH_LIST_TABLES
            for operation in ("INSERT", "UPDATE", "DELETE")
        ]
    return []


def _branch_list_uninstall(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            *(
                f"DROP TRIGGER IF EXISTS {table}_branch_list ON {table}"
                for table in BRANCH_LIST_TABLES
            ),
            f"DROP FUNCTION IF EXISTS {_BRANCH_LIST_FUNCTION}()",
            f"DROP SEQUENCE IF EXISTS {BRANCH_LIST_SEQUENCE}",
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_branch_list_{operation.lower()}"
            for table in BRANCH_LIST_TABLES
            for operation in ("INSERT", "UPDATE", "DELETE")
        ]
    return []


def install_branch_list_version(schema_editor: Any) -> None:
    """Create the version's triggers and give it a first value (migration 0011)."""
    vendor = schema_editor.connection.vendor
    for statement in _branch_list_install(vendor):
        schema_editor.execute(statement, params=None)
    first = f"nextval('{BRANCH_LIST_SEQUENCE}')" if vendor == "postgresql" else "random()"
    schema_editor.execute(
        f"INSERT INTO {BRANCH_LIST_VERSION_TABLE} (id, version) VALUES (1, {first})",  # noqa: S608
        params=None,
    )


def uninstall_branch_list_version(schema_editor: Any) -> None:
    for statement in _branch_list_uninstall(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


# psycopg prepares a statement on request only while preparation is on; a threshold no
# query ever reaches leaves the automatic preparation of Django's own queries off.
_NEVER = 2**62


def prepared_cursor(db: Any, *, even_when_logged: bool = False) -> Any:
    """A cursor on connection ``db`` for a statement run very often.

    On PostgreSQL the statement is bound on the server and prepared on first use in each
    connection, so it is parsed and planned once (the award statement took longer to
    parse and plan than to run). Use it only for statements whose generic plan is as good
    as a planned one: PostgreSQL switches to it after five runs. Django turns psycopg's
    preparation
    off because it breaks transaction-mode connection poolers; this project connects to
    PostgreSQL directly. When queries are logged (DEBUG, tests counting queries) the
    statement is not prepared, so that the log shows its SQL with its values, unless
    ``even_when_logged`` (a batch of thousands: the log then shows the statement as
    written, without its values).
    Elsewhere: Django's cursor (SQLite keeps its own cache of compiled statements).
    """
    if db.vendor != "postgresql":
        return db.cursor()
    from psycopg import Cursor

    db.ensure_connection()
    raw_connection = db.connection
    if raw_connection.prepare_threshold is None:
        raw_connection.prepare_threshold = _NEVER
    if db.queries_logged:
        if even_when_logged:
            return _prepared_debug_wrapper_class()(_prepared_cursor_class()(raw_connection), db)
        return db.make_debug_cursor(Cursor(raw_connection))
    return db.make_cursor(_prepared_cursor_class()(raw_connection))


@cache
def _prepared_cursor_class() -> type:
    from psycopg import Cursor

    class PreparedCursor(Cursor):  # type: ignore[type-arg]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = True
            return super().execute(query, params, **kwargs)

    return PreparedCursor


@cache
def _prepared_debug_wrapper_class() -> type:
    from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

    class PreparedDebugWrapper(CursorDebugWrapper):
        """Logs the statement as written: psycopg knows what it sent to a prepared
        statement (or in a pipeline) only later, and Django would log nothing."""

        def execute(self, sql: Any, params: Any = None) -> Any:
            with self.debug_sql(sql, params):
                return CursorWrapper.execute(self, sql, params)

    return PreparedDebugWrapper


def branch_list_triggers_missing(connection: Any) -> list[str]:
    """The branch list version's triggers that this database lacks (``check_ledger``).

    Without one, a change to that table would not reach the branch lists processes
    keep, and rankings would show an old name, tree or headcount until they restart.
    """
    if connection.vendor == "postgresql":
        expected = [f"{table}_branch_list" for table in BRANCH_LIST_TABLES]
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    elif connection.vendor == "sqlite":
        expected = [
            f"{table}_branch_list_{operation.lower()}"
            for table in BRANCH_LIST_TABLES
            for operation in ("INSERT", "UPDATE", "DELETE")
        ]
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        return []
    with connection.cursor() as cursor:
        cursor.execute(query)
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in expected if name not in present]
