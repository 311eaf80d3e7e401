"""Database connection settings, read from the environment fargo gives the container.

fargo sets DB_HOST, DB_PORT and DB_NAME as plain environment variables and injects
DB_USER and DB_PASSWORD from Secrets Manager as ECS container secrets, so all five
arrive as ordinary env vars. DATABASE_URL, when set, wins: it is the usual way to
point the app at a local database while developing.
"""

import os

import psycopg
from psycopg.conninfo import make_conninfo

# Required when DATABASE_URL is absent; DB_PORT alone has a sensible default.
_REQUIRED = ("DB_HOST", "DB_NAME", "DB_USER", "DB_PASSWORD")

# A task that cannot reach its database should fail the request quickly rather than
# hold a worker thread until the load balancer gives up on it.
_CONNECT_TIMEOUT_S = 5


class DatabaseConfigError(RuntimeError):
    """The environment does not say how to reach the database."""


def conninfo() -> str:
    """Return a libpq connection string built from the environment."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    missing = [name for name in _REQUIRED if not os.environ.get(name)]
    if missing:
        raise DatabaseConfigError(
            f"database settings missing from the environment: {', '.join(missing)} "
            "(set DB_HOST, DB_NAME, DB_USER, DB_PASSWORD, or DATABASE_URL)"
        )
    # make_conninfo quotes values, so a generated password with spaces or quotes is safe.
    return make_conninfo(
        host=os.environ["DB_HOST"],
        port=os.environ.get("DB_PORT") or "5432",
        dbname=os.environ["DB_NAME"],
        user=os.environ["DB_USER"],
        password=os.environ["DB_PASSWORD"],
        application_name="fargo-fullstack-example",
    )


def connect() -> psycopg.Connection:
    """Open a new connection; callers use it as a context manager so it is closed."""
    # Settings are read per call, not at import, so the module imports without a
    # database and tests can point it elsewhere by changing the environment.
    return psycopg.connect(conninfo(), connect_timeout=_CONNECT_TIMEOUT_S)
