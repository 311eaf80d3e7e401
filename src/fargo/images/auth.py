"""Registry authentication: HTTP Basic (what ECR asks for) and the Docker token flow (what
Docker Hub, GHCR and distribution's `auth: token` ask for).

Nothing is sent until the registry asks: its 401 names the scheme. For Basic, the
credentials go on every request from then on. For Bearer, a token is fetched from the
realm in the challenge, with the credentials if there are any, for every scope the push
needs at once (its repository, and the ones it mounts from), so one token serves the
whole push.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from fargo.images.errors import RegistryError

_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


@dataclass(frozen=True)
class BasicCredentials:
    """A user name and password. For ECR: "AWS" and the password that ecr
    get_authorization_token hands out base64-encoded as "AWS:<password>"."""

    username: str
    password: str = field(repr=False)

    def for_registry(self, registry: str) -> BasicCredentials | None:
        del registry
        return self


class Credentials(Protocol):
    """Where credentials come from. Asked when a registry first challenges, and again when
    it refuses a token, so a source may hand out a fresh one (ECR tokens last 12 hours)."""

    def for_registry(self, registry: str) -> BasicCredentials | None:
        """Credentials for `registry` (host[:port]), or None to go anonymous."""


class Anonymous:
    def for_registry(self, registry: str) -> BasicCredentials | None:
        del registry
        return None


@dataclass(frozen=True)
class Challenge:
    """One WWW-Authenticate challenge: `scheme` in lower case, its parameters by name."""

    scheme: str
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        match[1].lower(): (match[2].replace('\\"', '"') if match[2] is not None else match[3])
        for match in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def basic_header(credentials: BasicCredentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class Authenticator:
    """The Authorization header requests carry, renewed on a 401. Shared by the upload
    threads: one renews while the others wait, then all resend with the new header."""

    def __init__(
        self,
        registry: str,
        credentials: Credentials,
        send: Callable[[httpx.Request], httpx.Response],
    ) -> None:
        self._registry = registry
        self._credentials = credentials
        self._send = send
        self._scopes: set[str] = set()
        self._header: str | None = None
        self._lock = threading.Lock()

    @property
    def header(self) -> str | None:
        return self._header

    def want(self, scopes: Iterable[str]) -> None:
        """Scopes the next token should cover, e.g. repository:web:pull,push."""
        with self._lock:
            self._scopes.update(scopes)

    def renew(self, refused: httpx.Response, sent: str | None) -> bool:
        """After `refused` (a 401 to a request that carried `sent`): get a header worth
        trying. False when there is none (no credentials, or these were refused)."""
        with self._lock:
            if self._header != sent:
                return True  # another thread renewed it meanwhile
            challenge = parse_challenge(refused.headers.get("WWW-Authenticate", ""))
            credentials = self._credentials.for_registry(self._registry)
            if challenge is None:
                return False
            if challenge.scheme == "basic":
                if credentials is None or basic_header(credentials) == sent:
                    return False
                self._header = basic_header(credentials)
                return True
            if challenge.scheme == "bearer" and "realm" in challenge.params:
                self._scopes.update(challenge.params.get("scope", "").split())
                self._header = "Bearer " + self._token(challenge, credentials)
                return True
            return False

    def _token(self, challenge: Challenge, credentials: BasicCredentials | None) -> str:
        realm = challenge.params["realm"]
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("scope", scope) for scope in sorted(self._scopes)
        ]
        if "service" in challenge.params:
            params.insert(0, ("service", challenge.params["service"]))
        headers = {}
        if credentials is not None:
            params.append(("account", credentials.username))
            headers["Authorization"] = basic_header(credentials)
        try:
            response = self._send(httpx.Request("GET", realm, params=params, headers=headers))
        except httpx.HTTPError as error:
            raise RegistryError(
                f"cannot reach the token service of {self._registry} at {realm} ({error})",
                hint="check the network; the registry's 401 named this address",
            ) from None
        if response.status_code != httpx.codes.OK:
            raise RegistryError(
                f"the token service of {self._registry} ({realm}) answered "
                f"{response.status_code}: {response.text[:200]}",
                hint="check the registry credentials and that they may push to the repository",
                status=response.status_code,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"the token service of {self._registry} ({realm}) sent no token")
        return token
