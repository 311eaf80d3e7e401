"""botocore errors → fargo errors that say which call failed and what to try."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from fargo.errors import AwsError, FargoError

_HINTS = {
    "ExpiredToken": "your AWS session expired; log in again (aws sso login, or refresh the keys)",
    "ExpiredTokenException": "your AWS session expired; log in again",
    "AccessDenied": "the credentials lack this permission; check the IAM policy of the caller",
    "AccessDeniedException": "the credentials lack this permission; check the IAM policy",
    "InvalidClientTokenId": "the access key is not valid in this account or partition",
    "Throttling": "AWS is throttling requests; fargo already retried, try again shortly",
    "ThrottlingException": "AWS is throttling requests; fargo already retried, try again shortly",
    "InsufficientCapabilitiesException": "the stack creates IAM resources; fargo passes "
    "CAPABILITY_IAM, so this indicates an unexpected template",
}


def translate(error: Exception, service: str, operation: str) -> FargoError:
    call = f"{service}:{operation}"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = error.response.get("Error", {}).get("Message", str(error))
        return AwsError(f"{call} failed: {code}: {message}", hint=_HINTS.get(code), code=code)
    if isinstance(error, NoCredentialsError):
        return AwsError(
            f"{call}: no AWS credentials found",
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use --local",
        )
    if isinstance(error, NoRegionError):
        return AwsError(f"{call}: no region", hint="set `region:` in fargo.yml")
    if isinstance(error, EndpointConnectionError | ReadTimeoutError):
        return AwsError(
            f"{call}: cannot reach the endpoint ({error})",
            hint="check the network, or that the emulator at --endpoint-url is running",
        )
    return AwsError(f"{call} failed: {error}")
