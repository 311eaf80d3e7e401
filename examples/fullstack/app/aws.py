"""AWS clients (SQS, S3, SES v2) and the settings fargo injects for them.

Credentials come from the task role through the ECS container credentials endpoint, so
nothing here handles keys. Locally, AWS_ENDPOINT_URL points every client at an emulator.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, TypeVar, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    # Stubs only (boto3-stubs[s3,sesv2,sqs]); the image does not need them.
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

T = TypeVar("T")

# read_timeout must outlast the worker's 20 s SQS long poll, or every idle poll would
# end in a timeout; "standard" retries back off on throttling and 5xx answers.
_CONFIG = Config(
    connect_timeout=3, read_timeout=25, retries={"mode": "standard", "max_attempts": 3}
)

# What a failed AWS call raises: no answer (network, timeouts, credentials) or an error one.
BOTO_ERRORS = (BotoCoreError, ClientError)

_lock = threading.Lock()
_clients: dict[Hashable, object] = {}


class ConfigError(RuntimeError):
    """The environment lacks a setting fargo injects for a resource the service uses."""


def require(name: str, hint: str) -> str:
    """Return the environment variable ``name``, or say which `uses:` entry provides it."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set ({hint})")
    return value


def _region() -> str | None:
    # ECS sets AWS_REGION; botocore itself reads only AWS_DEFAULT_REGION, so pass it on.
    return os.environ.get("AWS_REGION") or None


def _cached(service: str, make: Callable[[boto3.session.Session], T]) -> T:
    """One client per service and process, created on first use.

    A boto3 Session is not thread-safe, but its clients are: FastAPI's thread pool
    shares the client, and each client gets a session of its own under a lock. The key
    includes the settings tests change between runs; in ECS they never change.
    """
    key = (
        service,
        _region(),
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get("AWS_ACCESS_KEY_ID"),
    )
    with _lock:
        if key not in _clients:
            _clients[key] = make(boto3.session.Session())
        return cast("T", _clients[key])


def sqs() -> SQSClient:
    return _cached("sqs", lambda s: s.client("sqs", region_name=_region(), config=_CONFIG))


def s3() -> S3Client:
    return _cached("s3", lambda s: s.client("s3", region_name=_region(), config=_CONFIG))


def sesv2() -> SESV2Client:
    return _cached("sesv2", lambda s: s.client("sesv2", region_name=_region(), config=_CONFIG))
