"""Schema migration, runnable as a one-off task: ``python -m app.migrate``.

It is idempotent, so running it on every deploy is safe, and the app calls the same
function lazily when it finds the table missing.
"""

import sys

import psycopg

from app import db

# Any fixed number will do: it names the lock that serialises concurrent migrations.
_MIGRATION_LOCK_ID = 0x4641_5247  # "FARG"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def apply(conn: psycopg.Connection) -> None:
    """Create the schema if it is missing, in one transaction."""
    with conn.transaction():
        # CREATE TABLE IF NOT EXISTS is not safe against itself: two tasks starting at
        # once can both pass the check and one then fails on a duplicate catalog row.
        # A transaction-scoped advisory lock makes the second wait and then do nothing.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_ID,))
        conn.execute(_SCHEMA)


def main() -> int:
    """Run the migration against the database named by the environment."""
    with db.connect() as conn:
        apply(conn)
    # A line in the task's log is how an operator sees the one-off task did its job.
    sys.stdout.write("migration complete\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
