"""botocore errors → fargo errors that say which call failed and what to try.

Every error translated here carries a hint: one for the code when it is a common one, else a
fallback that names the call and what to do next.
"""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from fargo.errors import AwsError, FargoError

# The request may have reached AWS and taken effect, but its answer never came back (the
# connection closed or timed out while waiting). A write with this code is settled by reading
# the state back (fargo.aws.settle), never by assuming it failed.
RESPONSE_LOST = "ResponseLost"
# The request never reached the endpoint: nothing happened.
UNREACHABLE = "EndpointUnreachable"

_SESSION = "your AWS session expired; log in again (aws sso login, or refresh the keys)"
_DENIED = "the credentials lack this permission; check the IAM policy of the caller"
_THROTTLED = "AWS is throttling requests; fargo already retried, try again shortly"
_AWS_FAULT = "AWS answered with an internal error; fargo already retried, run the command again"
_HINTS = {
    "ExpiredToken": _SESSION,
    "ExpiredTokenException": _SESSION,
    "RequestExpired": "the request's signature is too old: check this machine's clock",
    "AccessDenied": _DENIED,
    "AccessDeniedException": _DENIED,
    "UnauthorizedOperation": _DENIED,
    "AuthFailure": "AWS did not accept the credentials; check AWS_PROFILE or the access keys",
    "InvalidClientTokenId": "the access key is not valid in this account or partition",
    "UnrecognizedClientException": "the access key is not valid in this account or partition",
    "SignatureDoesNotMatch": "the secret access key does not match the key id; check both",
    "InvalidSignatureException": "the secret access key does not match the key id; check both",
    "OptInRequired": "the account is not subscribed to this service or region; enable it first",
    "Throttling": _THROTTLED,
    "ThrottlingException": _THROTTLED,
    "TooManyRequestsException": _THROTTLED,
    "RequestLimitExceeded": _THROTTLED,
    "SlowDown": _THROTTLED,
    "LimitExceededException": "an account quota is reached; raise it in Service Quotas or "
    "remove what is no longer used",
    "ServiceUnavailable": _AWS_FAULT,
    "ServiceUnavailableException": _AWS_FAULT,
    "InternalFailure": _AWS_FAULT,
    "InternalError": _AWS_FAULT,
    "InternalServiceError": _AWS_FAULT,
    "InsufficientCapabilitiesException": "the stack creates IAM resources; fargo passes "
    "CAPABILITY_IAM, so this indicates an unexpected template",
    "ValidationError": "AWS refused the request's values; the message says which. For a "
    "stack, `fargo render` shows the template fargo sent",
    "AlreadyExistsException": "something with this name already exists; run `fargo status` to "
    "see what is deployed, or wait for another deploy to finish",
    "InvalidChangeSetStatus": "the change set or its stack is busy (another deploy, or one "
    "still settling); wait for it to finish and run the command again",
    "ChangeSetNotFound": "the change set was removed (by another run, or when its stack "
    "changed); run the command again",
    "ChangeSetNotFoundException": "the change set was removed (by another run, or when its "
    "stack changed); run the command again",
    "TokenAlreadyExistsException": "another request used the same client token; run the "
    "command again",
    "ResourceNotFoundException": "the resource does not exist (in this account and region); "
    "check the name and `region:` in fargo.yml",
    "ResourceInUseException": "the resource is in use or busy; wait a moment and run again",
    "ConflictException": "the resource was being changed by another request; run again",
    "InvalidParameterValue": "AWS refused a value fargo sent; the message says which",
    "InvalidParameterException": "AWS refused a value fargo sent; the message says which",
    "ParameterNotFound": "the SSM parameter does not exist in this account and region",
}


def translate(error: Exception, service: str, operation: str) -> FargoError:
    call = f"{service}:{operation}"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = error.response.get("Error", {}).get("Message", str(error))
        return AwsError(
            f"{call} failed: {code}: {message}",
            hint=_HINTS.get(code) or _fallback_hint(service, operation, code),
            code=code,
        )
    if isinstance(error, NoCredentialsError):
        return AwsError(
            f"{call}: no AWS credentials found",
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use --local",
        )
    if isinstance(error, NoRegionError):
        return AwsError(f"{call}: no region", hint="set `region:` in fargo.yml")
    if isinstance(error, ConnectionClosedError | ReadTimeoutError | ResponseStreamingError):
        return AwsError(
            f"{call}: the answer was lost on every attempt ({error})",
            hint="the network dropped AWS's answers; check the connection (a proxy or VPN), "
            "then run the command again: it resumes from what AWS holds",
            code=RESPONSE_LOST,
        )
    if isinstance(error, EndpointConnectionError):
        return AwsError(
            f"{call}: cannot reach the endpoint ({error})",
            hint="check the network, or that the emulator at --endpoint-url is running",
            code=UNREACHABLE,
        )
    return AwsError(
        f"{call} failed: {error}",
        hint=_fallback_hint(service, operation, type(error).__name__),
    )


def _fallback_hint(service: str, operation: str, code: str) -> str:
    return (
        f"{service} refused {operation} ({code}); the message above is AWS's reason. Fix "
        "what it names, or run the command again if the cause was passing: fargo resumes "
        "from what AWS holds"
    )
