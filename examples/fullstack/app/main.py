"""The HTTP API: a health check for the load balancer and a tiny notes resource."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import psycopg
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from psycopg.rows import class_row
from pydantic import BaseModel, Field

from app import db, migrate

T = TypeVar("T")

app = FastAPI(title="fargo fullstack example")


@app.exception_handler(psycopg.OperationalError)
def database_unavailable(_request: Request, _exc: psycopg.OperationalError) -> JSONResponse:
    """Answer 503 while the database cannot be reached (down, restarting, failing over).

    A 503 tells clients to retry later; a 500 would say the request itself was at fault.
    """
    return JSONResponse({"detail": "database unavailable"}, status_code=503)


class NoteIn(BaseModel):
    """A note as a client sends it."""

    body: str = Field(min_length=1, max_length=10_000)


class Note(BaseModel):
    """A stored note."""

    id: int
    body: str
    created_at: datetime


def _with_schema(work: Callable[[psycopg.Connection], T]) -> T:
    """Run ``work`` on a fresh connection, creating the schema first if it is missing."""
    with db.connect() as conn:
        try:
            return work(conn)
        except psycopg.errors.UndefinedTable:
            # First request against a new database (the migration task has not run
            # yet): create the table and try once more. The happy path pays nothing.
            conn.rollback()
            migrate.apply(conn)
            return work(conn)


# Plain `def` handlers: FastAPI runs them in its thread pool, which suits the
# blocking psycopg connection and keeps the event loop free.
@app.get("/api/health")
def health() -> dict[str, str]:
    """Report the process is up, without touching the database.

    The load balancer polls this; if it depended on Postgres, a database blip would
    make ECS replace every healthy task at once.
    """
    return {"status": "ok"}


@app.get("/api/notes")
def list_notes(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Note]:
    """Return the newest notes first."""

    def work(conn: psycopg.Connection) -> list[Note]:
        with conn.cursor(row_factory=class_row(Note)) as cur:
            cur.execute(
                "SELECT id, body, created_at FROM notes ORDER BY id DESC LIMIT %s", (limit,)
            )
            return cur.fetchall()

    return _with_schema(work)


@app.post("/api/notes", status_code=201)
def create_note(note: NoteIn) -> Note:
    """Store a note and return it as saved."""

    def work(conn: psycopg.Connection) -> Note:
        with conn.cursor(row_factory=class_row(Note)) as cur:
            cur.execute(
                "INSERT INTO notes (body) VALUES (%s) RETURNING id, body, created_at",
                (note.body,),
            )
            row = cur.fetchone()
        # RETURNING on a single-row INSERT always yields a row; this narrows the type.
        assert row is not None
        return row

    # Leaving db.connect()'s `with` block commits the transaction.
    return _with_schema(work)
