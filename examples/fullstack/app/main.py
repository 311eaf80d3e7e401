"""The HTTP API: a health check for the load balancer, notes, and uploads."""

from typing import Annotated

import psycopg
from botocore.exceptions import BotoCoreError
from fastapi import FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app import cache, jobs, migrate, notes, uploads
from app.notes import Note, NoteIn

# A cached note can lag the database by this much: the worker, which sets processed_at,
# does not use the cache, and the nightly job deletes notes without it.
NOTE_TTL_S = 60
# Uploads are held in memory on their way to S3; this bounds what one request may cost.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

app = FastAPI(title="fargo fullstack example")


@app.exception_handler(psycopg.OperationalError)
def database_unavailable(_request: Request, _exc: psycopg.OperationalError) -> JSONResponse:
    """Answer 503 while the database cannot be reached (down, restarting, failing over).

    A 503 tells clients to retry later; a 500 would say the request itself was at fault.
    """
    return JSONResponse({"detail": "database unavailable"}, status_code=503)


@app.exception_handler(BotoCoreError)
def aws_unavailable(_request: Request, _exc: BotoCoreError) -> JSONResponse:
    """Answer 503 when SQS or S3 cannot be reached (network, timeouts, credentials)."""
    return JSONResponse({"detail": "AWS service unavailable"}, status_code=503)


class Stored(BaseModel):
    """Where an upload was stored."""

    key: str
    size: int
    content_type: str


def _note_key(note_id: int) -> str:
    # The version in the key lets a release that changes Note ignore older entries.
    return f"note:v1:{note_id}"


# Plain `def` handlers: FastAPI runs them in its thread pool, which suits the
# blocking psycopg, boto3 and redis clients and keeps the event loop free.
@app.get("/api/health")
def health() -> dict[str, str]:
    """Report the process is up, touching no database, cache, queue or bucket.

    The load balancer polls this; if it depended on Postgres, a database blip would
    make ECS replace every healthy task at once.
    """
    return {"status": "ok"}


@app.get("/api/notes")
def list_notes(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Note]:
    """Return the newest notes first."""
    return migrate.with_schema(lambda conn: notes.newest(conn, limit))


@app.post("/api/notes", status_code=201)
def create_note(note: NoteIn) -> Note:
    """Store a note, enqueue a job for the worker, and return the note as saved."""

    def work(conn: psycopg.Connection) -> Note:
        saved = notes.insert(conn, note.body)
        # Enqueued before the commit: if SQS refuses, the insert rolls back and the
        # client retries, so no note is left without a job. If the commit fails after
        # the send, the worker finds no note and drops the job.
        jobs.enqueue(saved.id)
        return saved

    return migrate.with_schema(work)


# Says where a note came from: `hit`, the cache; `miss`, Postgres (no cache, a cache that
# failed, or one that did not hold it), so a client can see the cache work.
CACHE_HEADER = "X-Cache"


@app.get("/api/notes/{note_id}")
def get_note(note_id: int, response: Response) -> Note:
    """Return one note: from the cache when it holds it, else from Postgres (cache-aside)."""
    key = _note_key(note_id)
    cached = cache.get(key)
    if cached is not None:
        response.headers[CACHE_HEADER] = "hit"
        return Note.model_validate_json(cached)
    found = migrate.with_schema(lambda conn: notes.get(conn, note_id))
    if found is None:
        raise HTTPException(status_code=404, detail="note not found")
    cache.put(key, found.model_dump_json(), NOTE_TTL_S)
    response.headers[CACHE_HEADER] = "miss"
    return found


@app.post("/api/uploads", status_code=201)
async def create_upload(request: Request) -> Stored:
    """Store the raw request body in the uploads bucket under a new key."""
    # async, to read the body as it streams in and stop at the limit rather than
    # buffer whatever a client sends; the S3 call then runs in the thread pool.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise HTTPException(status_code=413, detail="upload too large")
        chunks.append(chunk)
    if size == 0:
        raise HTTPException(status_code=400, detail="empty upload")
    content_type = request.headers.get("content-type") or "application/octet-stream"
    key = await run_in_threadpool(uploads.store, b"".join(chunks), content_type)
    return Stored(key=key, size=size, content_type=content_type)


@app.get("/api/uploads/{key}")
def read_upload(key: Annotated[str, Path(pattern=uploads.KEY_PATTERN)]) -> Response:
    """Return a stored upload's bytes with the content type it was stored with."""
    found = uploads.fetch(key)
    if found is None:
        raise HTTPException(status_code=404, detail="upload not found")
    # Uploads are client-supplied: served as attachments with sniffing off, an HTML
    # upload cannot run as a page on the API's origin.
    headers = {"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"}
    return Response(found.body, media_type=found.content_type, headers=headers)
