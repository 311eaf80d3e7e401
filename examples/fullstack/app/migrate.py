"""Schema migration, runnable as a one-off task: ``python -m app.migrate``.

It is idempotent, so running it on every deploy is safe, and the app, worker and
nightly job call the same function lazily when they find the schema missing or behind.
"""

import sys
from collections.abc import Callable
from typing import TypeVar

import psycopg

from app import db

# Any fixed number will do: it names the lock that serialises concurrent migrations.
_MIGRATION_LOCK_ID = 0x4641_5247  # "FARG"

T = TypeVar("T")

# Each statement is idempotent. Columns added after the first release get their own
# ADD COLUMN IF NOT EXISTS, so a database created by an older image catches up.
_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS notes (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        body TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    # Set by the worker when the note's job has run; NULL until then.
    "ALTER TABLE notes ADD COLUMN IF NOT EXISTS processed_at TIMESTAMPTZ",
)


def apply(conn: psycopg.Connection) -> None:
    """Bring the schema up to date, in one transaction."""
    with conn.transaction():
        # CREATE TABLE IF NOT EXISTS is not safe against itself: two tasks starting at
        # once can both pass the check and one then fails on a duplicate catalog row.
        # A transaction-scoped advisory lock makes the second wait and then do nothing.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_ID,))
        for statement in _SCHEMA:
            conn.execute(statement)


def with_schema(work: Callable[[psycopg.Connection], T]) -> T:
    """Run ``work`` on a fresh connection and commit, migrating first if need be.

    The first request against a new database (the migration task has not run yet), or
    against one an older image created, fails on a missing table or column: roll back,
    migrate, and try once more. The happy path pays nothing. An exception from ``work``
    rolls the transaction back.
    """
    with db.connect() as conn:
        try:
            return work(conn)
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
            conn.rollback()
            apply(conn)
            return work(conn)


def main() -> int:
    """Run the migration against the database named by the environment."""
    with db.connect() as conn:
        apply(conn)
    # A line in the task's log is how an operator sees the one-off task did its job.
    sys.stdout.write("migration complete\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
