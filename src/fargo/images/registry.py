"""A small OCI distribution client (the registry's /v2/ API): what a push needs, no more.

One `RegistryClient` per registry holds one httpx connection pool, shared by the upload
threads, so a push reuses a handful of keep-alive connections instead of a TLS handshake
per request. Each call is authorized (`auth.Authenticator`) and, when it is safe to send
again, retried on connection errors, 5xx and 429 (`retry.RetryPolicy`). Blob uploads,
which must not be sent twice blindly, resume instead (`upload.py`).
"""

from __future__ import annotations

import contextlib
import functools
import re
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import httpx

from fargo import __version__
from fargo.images.auth import Anonymous, Authenticator, Credentials
from fargo.images.errors import RegistryError
from fargo.images.oci import digest_of
from fargo.images.reference import is_loopback
from fargo.images.retry import RetryPolicy, retryable

_RANGE = re.compile(r"(\d+)-(\d+)")

# What to do about a distribution error code (the spec's list, plus what ECR answers).
_CODE_HINTS = {
    "UNAUTHORIZED": "the registry refused the credentials; an ECR token lasts 12 hours: "
    "get a fresh one with ecr get_authorization_token",
    "DENIED": "the credentials may not push here; on ECR the caller needs ecr:PutImage, "
    "ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload and "
    "ecr:BatchCheckLayerAvailability on the repository",
    "NAME_UNKNOWN": "the repository does not exist; ECR does not create repositories on "
    "push, so create it first",
    "NAME_INVALID": "the repository name is not valid for this registry",
    "TAG_INVALID": "the tag is refused; on an ECR repository with immutable tags, push a "
    "new tag instead of moving an old one",
    "MANIFEST_INVALID": "the registry does not accept this manifest; check that it "
    "supports the image's media type (OCI or Docker v2 schema 2)",
    "MANIFEST_BLOB_UNKNOWN": "a blob the manifest names is missing from the repository; push again",
    "DIGEST_INVALID": "the registry computed another digest for what was sent; push again, "
    "and rebuild the image if it keeps happening",
    "BLOB_UPLOAD_INVALID": "the registry lost or refused the upload; push again",
    "SIZE_INVALID": "the upload's size does not match; push again",
    "TOOMANYREQUESTS": "the registry is throttling; fargo already retried, try again shortly",
}
_NO_CREDENTIALS_HINT = (
    "the registry wants credentials and none were given; for ECR, pass the user and "
    "password that ecr get_authorization_token hands out"
)
_STATUS_HINTS = {
    401: _CODE_HINTS["UNAUTHORIZED"],
    403: _CODE_HINTS["DENIED"],
    404: "is this an OCI registry, and does the repository exist?",
    413: "the registry refused the request's size",
}


@dataclass(frozen=True)
class UploadStart:
    """What POST /blobs/uploads/ gave: a mounted blob, or an upload session at `location`."""

    mounted: bool
    location: httpx.URL | None


class RegistryClient:
    """A connection to one registry. Close it (or use `with`) to close its connections."""

    def __init__(
        self,
        registry: str,
        *,
        credentials: Credentials | None = None,
        insecure: bool | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        connections: int = 8,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`registry` is host[:port]. Plain HTTP for loopback registries, HTTPS otherwise,
        unless `insecure` says which. `transport` replaces httpx's, e.g. in tests."""
        plain = is_loopback(registry) if insecure is None else insecure
        self.registry = registry
        self.base = httpx.URL(f"{'http' if plain else 'https'}://{registry}")
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"User-Agent": f"fargo/{__version__}"},
            follow_redirects=False,
            transport=transport,
            verify=_tls_context(),
        )
        self.auth = Authenticator(registry, credentials or Anonymous(), self._http.send)
        self._retries = 0
        self._lock = threading.Lock()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def retries(self) -> int:
        """Requests sent again so far (after connection errors, 5xx, 429)."""
        return self._retries

    def count_retry(self) -> None:
        with self._lock:
            self._retries += 1

    def url(self, path: str) -> httpx.URL:
        return self.base.join(path)

    # -- requests -------------------------------------------------------------------------

    def send(
        self,
        method: str,
        url: httpx.URL,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request, authorized; renewed and sent once more on a 401. Connection
        failures are left to the caller as httpx.TransportError."""
        sent = self.auth.header
        response = self._send(method, url, sent, content, headers)
        if response.status_code == httpx.codes.UNAUTHORIZED and self.auth.renew(response, sent):
            response = self._send(method, url, self.auth.header, content, headers)
        return response

    def _send(
        self,
        method: str,
        url: httpx.URL,
        authorization: str | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        request = self._http.build_request(method, url, content=content, headers=headers)
        # Credentials stay with the registry: an upload Location may point at storage.
        if authorization and url.host == self.base.host:
            request.headers["Authorization"] = authorization
        return self._http.send(request)

    def call(
        self,
        method: str,
        url: httpx.URL,
        *,
        what: str,
        ok: tuple[int, ...],
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """`send`, retried on connection errors, 5xx and 429 within the retry policy; an
        answer whose status is not in `ok` is a RegistryError. Only for requests that may
        be sent twice."""
        attempts = self.retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                response = self.send(method, url, content=content, headers=headers)
            except httpx.TransportError as error:
                if attempt == attempts:
                    raise self.unreachable(what, error) from None
                self.count_retry()
                self.retry.wait(attempt)
                continue
            if response.status_code in ok:
                return response
            if retryable(response) and attempt < attempts:
                self.count_retry()
                self.retry.wait(attempt, response)
                continue
            raise self.error(response, what)
        raise AssertionError("unreachable: the last attempt returns or raises")

    # -- endpoints ------------------------------------------------------------------------

    def ping(self) -> None:
        """GET /v2/: is it a registry, can we reach it, and which auth does it want."""
        self.call("GET", self.url("/v2/"), what=f"GET {self.base}/v2/", ok=(200,))

    def blob_exists(self, repository: str, digest: str) -> bool:
        response = self.call(
            "HEAD",
            self.url(f"/v2/{repository}/blobs/{digest}"),
            what=f"check for blob {digest} in {repository}",
            ok=(200, 404),
        )
        return response.status_code == httpx.codes.OK

    def start_upload(
        self, repository: str, *, digest: str | None = None, source: str | None = None
    ) -> UploadStart:
        """Open an upload session; with `source`, first ask to mount `digest` from there
        (the registry opens a session instead when it cannot)."""
        url = self.url(f"/v2/{repository}/blobs/uploads/")
        if source is not None and digest is not None:
            url = url.copy_merge_params({"mount": digest, "from": source})
        response = self.call(
            "POST", url, what=f"start an upload to {repository}", ok=(201, 202), content=b""
        )
        if response.status_code == httpx.codes.CREATED:
            return UploadStart(mounted=True, location=None)
        return UploadStart(mounted=False, location=self.upload_location(response, repository))

    def upload_location(self, response: httpx.Response, repository: str) -> httpx.URL:
        """Where the upload goes on: Location (relative or absolute, and it changes from
        request to request on some registries), else the session's Docker-Upload-UUID."""
        location = response.headers.get("Location")
        if location:
            return response.request.url.join(location)
        session = response.headers.get("Docker-Upload-UUID")
        if session:
            return self.url(f"/v2/{repository}/blobs/uploads/{session}")
        raise RegistryError(
            f"{self.registry} answered {response.request.method} {response.request.url.path} "
            "without telling where the upload continues (no Location header)",
            hint="the registry does not follow the OCI distribution spec",
        )

    def upload_status(self, location: httpx.URL, repository: str) -> tuple[int, httpx.URL] | None:
        """How many bytes of the session the registry holds, and where to go on; None when
        the session is gone."""
        response = self.call(
            "GET", location, what=f"ask for the upload status in {repository}", ok=(200, 204, 404)
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        match = _RANGE.search(response.headers.get("Range", ""))
        # Range is inclusive, and distribution also says "0-0" for an empty session: read
        # it as empty. (A session that really holds 1 byte then fails the next chunk with
        # a 416 and the upload starts over; bytes arrive in far larger pieces than that.)
        offset = int(match[2]) + 1 if match and match[2] != "0" else 0
        if _has_location(response):
            location = self.upload_location(response, repository)
        return offset, location

    def cancel_upload(self, location: httpx.URL) -> None:
        """Best effort: the registry expires abandoned sessions anyway."""
        with contextlib.suppress(httpx.TransportError):
            self.send("DELETE", location)

    def put_manifest(self, repository: str, reference: str, media_type: str, content: bytes) -> str:
        """PUT a manifest or index under a tag or its digest; returns its digest."""
        digest = digest_of(content)
        response = self.call(
            "PUT",
            self.url(f"/v2/{repository}/manifests/{reference}"),
            what=f"push manifest {digest} to {repository}:{reference}",
            ok=(200, 201),
            content=content,
            headers={"Content-Type": media_type},
        )
        answered = response.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise RegistryError(
                f"{self.registry} stored manifest {digest} of {repository} as {answered}",
                hint="the registry rewrote the manifest; it will not match the image's digest",
            )
        return digest

    # -- errors ---------------------------------------------------------------------------

    def error(self, response: httpx.Response, what: str) -> RegistryError:
        code, message = _first_error(response)
        detail = f" {code}: {message}" if code else (f": {message}" if message else "")
        hint = _CODE_HINTS.get(code or "") or _STATUS_HINTS.get(response.status_code)
        if response.status_code == httpx.codes.UNAUTHORIZED and self.auth.header is None:
            hint = _NO_CREDENTIALS_HINT
        return RegistryError(
            f"{what}: {self.registry} answered {response.status_code}{detail}",
            hint=hint,
            status=response.status_code,
            code=code,
        )

    def unreachable(self, what: str, error: Exception) -> RegistryError:
        hint = "check the registry address and the network"
        if self.base.scheme == "https" and "SSL" in str(error).upper():
            hint = "the registry's TLS certificate is not trusted, or it speaks plain HTTP"
        elif is_loopback(self.registry):
            hint = "is the local registry running?"
        return RegistryError(
            f"{what}: cannot reach {self.registry} after {self.retry.attempts} attempts "
            f"({type(error).__name__}: {error})",
            hint=hint,
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (its CA bundle, SSL_CERT_FILE honoured), made once per
    process and shared by every client: making one costs about 30 ms, as much as a whole
    push of an image whose blobs the registry mounts, and deploy opens a client per image."""
    return httpx.create_ssl_context()


def _has_location(response: httpx.Response) -> bool:
    return "Location" in response.headers or "Docker-Upload-UUID" in response.headers


def _first_error(response: httpx.Response) -> tuple[str | None, str]:
    """The first {code, message} of a distribution error body, if the body is one."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("code") or "") or None, str(errors[0].get("message") or "")
    return None, response.text[:200].strip()
