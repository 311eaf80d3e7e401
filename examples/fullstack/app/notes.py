"""The notes table: its models and every query the API, worker and nightly job run."""

from datetime import datetime

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel, Field

_COLUMNS = "id, body, created_at, processed_at"


class NoteIn(BaseModel):
    """A note as a client sends it."""

    body: str = Field(min_length=1, max_length=10_000)


class Note(BaseModel):
    """A stored note; ``processed_at`` is set by the worker once its job has run."""

    id: int
    body: str
    created_at: datetime
    processed_at: datetime | None = None


def insert(conn: psycopg.Connection, body: str) -> Note:
    with conn.cursor(row_factory=class_row(Note)) as cur:
        cur.execute(f"INSERT INTO notes (body) VALUES (%s) RETURNING {_COLUMNS}", (body,))
        row = cur.fetchone()
    # RETURNING on a single-row INSERT always yields a row; this narrows the type.
    assert row is not None
    return row


def get(conn: psycopg.Connection, note_id: int) -> Note | None:
    with conn.cursor(row_factory=class_row(Note)) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM notes WHERE id = %s", (note_id,))
        return cur.fetchone()


def newest(conn: psycopg.Connection, limit: int) -> list[Note]:
    with conn.cursor(row_factory=class_row(Note)) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM notes ORDER BY id DESC LIMIT %s", (limit,))
        return cur.fetchall()


def mark_processed(conn: psycopg.Connection, note_id: int) -> Note | None:
    """Set ``processed_at`` unless already set; None when there is nothing to do.

    The row lock this UPDATE takes holds off a second worker given the same job (SQS
    delivers at least once) until this transaction ends; that worker then sees the
    note processed and skips it.
    """
    with conn.cursor(row_factory=class_row(Note)) as cur:
        cur.execute(
            f"UPDATE notes SET processed_at = now() WHERE id = %s AND processed_at IS NULL "
            f"RETURNING {_COLUMNS}",
            (note_id,),
        )
        return cur.fetchone()


def delete_older_than(conn: psycopg.Connection, days: int) -> int:
    """Delete notes created more than ``days`` days ago; return how many went."""
    cur = conn.execute(
        "DELETE FROM notes WHERE created_at < now() - make_interval(days => %s)", (days,)
    )
    return cur.rowcount
