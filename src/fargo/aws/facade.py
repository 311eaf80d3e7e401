"""Sessions, clients, retries, error translation and call counting, in one place.

No module holds a client at import time: an `Aws` is built by the deployer factory and
passed down, so tests and the emulator get their own.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fargo.aws.errors import translate

# Read-only operations by prefix; anything else counts as a write (for `bench/` and tests).
_READ_PREFIXES = ("Describe", "Get", "List", "Head", "Validate", "Estimate")
# Access key used against emulators: 12 digits select an isolated emulator account.
EMULATOR_ACCESS_KEY = "000000000000"


@dataclass(frozen=True)
class AwsConfig:
    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    # Emulators accept any credentials; real AWS never gets these.
    static_credentials: tuple[str, str] | None = None
    retry_mode: Literal["legacy", "standard", "adaptive"] = "adaptive"
    max_attempts: int = 8


@dataclass
class CallCounter:
    """Counts AWS calls by service and operation."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            self.calls[(service, operation)] += 1

    @property
    def writes(self) -> list[tuple[str, str]]:
        return sorted(k for k in self.calls if not k[1].startswith(_READ_PREFIXES))

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class Aws:
    def __init__(
        self,
        config: AwsConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        counter: CallCounter | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self.counter = counter or CallCounter()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        # botocore's own session, not boto3's: the same clients and credential chain,
        # without importing boto3's resource layer and s3transfer on every command.
        static = config.static_credentials
        self._session = botocore.session.Session(
            profile=config.profile if static is None and config.profile else None
        )
        self._session.set_config_variable("region", config.region)
        if static is not None:
            self._session.set_credentials(static[0], static[1])

    def client(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._session.create_client(
                    service,
                    endpoint_url=self.config.endpoint_url,
                    config=Config(
                        retries={
                            "mode": self.config.retry_mode,
                            "max_attempts": self.config.max_attempts,
                        },
                        connect_timeout=10,
                        read_timeout=60,
                        user_agent_extra="fargo",
                    ),
                )
                client.meta.events.register("before-call", self._count)
                self._clients[service] = client
            return client

    def call(self, service: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Call `service.operation` (snake_case) and translate failures into fargo errors."""
        method = getattr(self.client(service), operation)
        try:
            result: dict[str, Any] = method(**kwargs)
        except (ClientError, BotoCoreError) as error:
            raise translate(error, service, operation) from None
        return result

    def paginate(self, service: str, operation: str, key: str, **kwargs: Any) -> list[Any]:
        paginator = self.client(service).get_paginator(operation)
        items: list[Any] = []
        try:
            for page in paginator.paginate(**kwargs):
                items.extend(page.get(key, []))
        except (ClientError, BotoCoreError) as error:
            raise translate(error, service, operation) from None
        return items

    def _count(self, model: Any, **_: Any) -> None:
        self.counter.record(model.service_model.service_name, model.name)
