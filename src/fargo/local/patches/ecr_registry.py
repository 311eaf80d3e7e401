"""ECR's registry API asks for credentials and knows whose they are.

Gap (ministack 1.5.33): the Registry V2 endpoint takes any request unauthenticated and
picks the account from the Host header (`<account>.dkr.ecr.<region>.amazonaws.com`). A
client talking to the emulator's own 127.0.0.1:<port> sends no such host, so a push from
an isolated account (a 12-digit access key) lands in the default account, where its
repository does not exist. GetAuthorizationToken also hands every account the same token.

Now, as on AWS, GetAuthorizationToken returns a token that names the caller's account and
region, and the registry answers a request without credentials with 401 and a Basic
challenge; with the token, the request runs in the token's account and region.
"""

import base64
import binascii
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ._ministack import module, replace

_PREFIX = "ministack-ecr-"
Response = tuple[int, dict[str, str], bytes]


def _token(account: str, region: str) -> str:
    return base64.b64encode(f"AWS:{_PREFIX}{account}-{region}".encode()).decode()


def _scope(authorization: str | None) -> tuple[str, str] | None:
    """(account, region) named by a Basic header carrying one of our tokens."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, _, password = decoded.partition(":")
    if not password.startswith(_PREFIX):
        return None
    account, _, region = password[len(_PREFIX) :].partition("-")
    return (account, region) if account.isdigit() and region else None


def authenticate_registry() -> None:
    ecr = module("ministack.services.ecr")
    responses = module("ministack.core.responses")

    def get_authorization_token(data: Any) -> Any:
        del data
        account, region = ecr.get_account_id(), ecr.get_region()
        return ecr.json_response(
            {
                "authorizationData": [
                    {
                        "authorizationToken": _token(account, region),
                        "expiresAt": int(time.time()) + 43200,
                        "proxyEndpoint": f"https://{account}.dkr.ecr.{region}.amazonaws.com",
                    }
                ]
            }
        )

    replace(ecr, "_get_authorization_token", get_authorization_token)
    original: Callable[..., Awaitable[Response]] = ecr.handle_registry_request

    async def handle_registry_request(
        method: str, path: str, headers: dict[str, str], body: bytes, query_params: Any
    ) -> Response:
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        host = lowered.get("host", "")
        if ".dkr.ecr." not in host:
            scope = _scope(lowered.get("authorization"))
            if scope is None:
                return (
                    401,
                    {
                        "Content-Type": "application/json",
                        "Docker-Distribution-API-Version": "registry/2.0",
                        "WWW-Authenticate": 'Basic realm="ministack-ecr",service="ecr"',
                    },
                    b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required",'
                    b'"detail":null}]}',
                )
            responses.set_request_account_id(scope[0])
            responses.set_request_region(scope[1])
        return await original(method, path, headers, body, query_params)

    replace(ecr, "handle_registry_request", handle_registry_request)
