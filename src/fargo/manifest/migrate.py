"""`migrate:`: the command that brings the database up to date, run as a one-off task from
the new image before any service rolls (DESIGN §3)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from fargo.manifest.base import Strict, invalid

_DURATION = re.compile(r"^(\d+)(s|m|h)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
# A migration that runs longer than this is a data backfill, not a gate on a deploy.
MAX_TIMEOUT_SECONDS = 6 * 3600
_TIMEOUT_HINT = "a whole number of seconds, minutes or hours: 90s, 15m, 2h (at most 6h)"


def duration_seconds(value: str) -> int:
    """`15m` → 900. The caller has validated `value`."""
    found = _DURATION.fullmatch(value)
    if found is None:
        raise ValueError(value)
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]


class MigrateSpec(Strict):
    command: list[str] = Field(
        description="the migration's command, run in the service's image: [alembic, upgrade, head]"
    )
    service: str = Field(
        description="the service whose image, environment, secrets, network and security "
        "group the migration runs with"
    )
    timeout: str = Field("15m", description="how long deploy waits for it: 90s, 15m, 2h")

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        if not value or not value[0].strip():
            raise invalid(
                "the migration has no command",
                "the argv to run in the service's image, e.g. [python, -m, app.migrate]",
            )
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str) -> str:
        if _DURATION.fullmatch(value) is None:
            raise invalid(f"`{value}` is not a duration", _TIMEOUT_HINT)
        seconds = duration_seconds(value)
        if not 1 <= seconds <= MAX_TIMEOUT_SECONDS:
            raise invalid(f"a timeout of `{value}` is out of range", _TIMEOUT_HINT)
        return value
