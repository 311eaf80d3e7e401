"""One JSON-over-HTTPS connection to a DNS provider: retries, and errors that say what failed.

Each provider module says what its requests are and how its error envelope reads; this
module sends them. A throttled (429) request is always sent again after a backoff: the
provider did nothing with it. A 5xx or a dropped connection is sent again only when the
request is idempotent, since a create that failed half-way may have happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from fargo import __version__
from fargo.edge.dns.errors import DnsProviderError
from fargo.images.retry import RetryPolicy, retryable

_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "PATCH"})
_REDACTED = "<redacted>"


@dataclass(frozen=True)
class Call:
    """What a request is for, to name it when it fails: `upsert` of `api.example.com`."""

    operation: str
    record: str
    zone: str


class JsonApi:
    """An httpx client for one provider's base URL.

    `auth_hint` is shown when `refused` says the credentials were refused (by default:
    on 401 and 403), with `{zone}` filled in; `message_of` reads the provider's own
    reason out of an error response. `secrets` are scrubbed from every
    message, in case a provider echoes a credential back.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        auth_hint: str,
        message_of: Callable[[httpx.Response], str],
        refused: Callable[[int | None, str], bool] | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.auth_hint = auth_hint
        self.message_of = message_of
        self.refused = refused or _denied
        self.retry = retry or RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0)
        self._secrets = tuple(s for s in secrets if s)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"User-Agent": f"fargo/{__version__}", **(headers or {})},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"JsonApi({self.provider!r}, {self.base_url!r}, credentials={_REDACTED})"

    def close(self) -> None:
        self._http.close()

    def send(
        self,
        method: str,
        path: str,
        call: Call,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send, retrying where safe; a 2xx response, else a `DnsProviderError`."""
        safe = method in _IDEMPOTENT if idempotent is None else idempotent
        attempt = 1
        while True:
            try:
                response = self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as error:
                if safe and attempt < self.retry.attempts:
                    self.retry.wait(attempt)
                    attempt += 1
                    continue
                raise self._error(call, None, f"cannot reach {self.base_url}: {error}") from None
            if response.is_success:
                return response
            throttled = response.status_code == httpx.codes.TOO_MANY_REQUESTS
            if (throttled or (safe and retryable(response))) and attempt < self.retry.attempts:
                self.retry.wait(attempt, response)
                attempt += 1
                continue
            raise self.failure(call, response)

    def failure(
        self, call: Call, response: httpx.Response, message: str | None = None
    ) -> DnsProviderError:
        """The error for a response that failed, also for a 2xx whose envelope says failure."""
        try:
            reason = message or self.message_of(response)
        except ValueError:  # an error page that is not the provider's JSON envelope
            reason = response.text[:200].strip()
        return self._error(call, response.status_code, reason or response.reason_phrase)

    def _error(self, call: Call, status: int | None, reason: str) -> DnsProviderError:
        for secret in self._secrets:
            reason = reason.replace(secret, _REDACTED)
        said = f"HTTP {status}: {reason}" if status is not None else reason
        return DnsProviderError(
            f"{self.provider}: {call.operation} {call.record} failed: {said}",
            hint=self._hint(status, reason, call.zone),
            provider=self.provider,
            operation=call.operation,
            record=call.record,
            status=status,
        )

    def _hint(self, status: int | None, reason: str, zone: str) -> str | None:
        if self.refused(status, reason):
            return self.auth_hint.format(zone=zone)
        if status == 404:
            return f"check that {zone} is a zone in this {self.provider} account"
        if status == httpx.codes.TOO_MANY_REQUESTS:
            return f"{self.provider} is throttling requests; fargo already retried, try again soon"
        if status is None or status >= 500:
            return f"{self.provider} could not answer; fargo already retried, try again soon"
        return None


def _denied(status: int | None, _reason: str) -> bool:
    return status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN)
