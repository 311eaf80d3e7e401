"""Reading a CloudWatch Logs stream as it grows: each read returns the lines written since
the last one (`nextForwardToken`). A one-off task's and a remote build's logs are read so."""

from __future__ import annotations

from typing import Any

from fargo.aws.facade import Aws
from fargo.errors import AwsError


class LogStream:
    def __init__(self, aws: Aws, group: str, stream: str) -> None:
        self._aws = aws
        self.group = group
        self.stream = stream
        self._token: str | None = None

    def read(self) -> list[str]:
        lines: list[str] = []
        while True:
            # Reading on with a nextForwardToken takes startFromHead as well, as AWS requires.
            where: dict[str, Any] = {"startFromHead": True}
            if self._token:
                where["nextToken"] = self._token
            try:
                page = self._aws.call(
                    "logs",
                    "get_log_events",
                    logGroupName=self.group,
                    logStreamName=self.stream,
                    **where,
                )
            except AwsError as error:
                if error.code == "ResourceNotFoundException":
                    return lines  # nothing written yet
                raise
            events = page.get("events") or []
            for event in events:
                lines.extend(str(event.get("message", "")).splitlines())
            token = page.get("nextForwardToken")
            # At the end of the stream CloudWatch hands back the token it was given.
            done = not events or token == self._token
            self._token = token or self._token
            if done:
                return lines
