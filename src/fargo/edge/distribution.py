"""Read, splice and write back a CloudFront distribution fargo does not own.

CloudFront takes a whole DistributionConfig per update and guards it with the ETag of the
version it replaces (If-Match). fargo reads the config and its ETag, splices, and writes
only when something changed. When someone else changed the distribution in between, the
write is refused (412 PreconditionFailed): fargo reads again and splices into the fresh
config, so their change is kept, never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fargo.aws.facade import Aws
from fargo.edge.splice import ApiOrigin, config_diff, splice, unsplice
from fargo.errors import AwsError, FargoError, InputError

__all__ = ["ATTEMPTS", "SpliceResult", "attach", "detach", "preview", "update", "wait_deployed"]

Config = dict[str, Any]

# Each attempt reads afresh; more than a few lost races means someone is editing it now.
ATTEMPTS = 5
_FIRST_DELAY = 0.5
# A change reaches every edge location in a few minutes; polls back off to this.
_LONGEST_POLL = 15.0


@dataclass(frozen=True)
class SpliceResult:
    """What a splice did (or, for a preview, would do) to one distribution."""

    changed: bool
    etag_before: str | None
    etag_after: str | None
    diff: list[str] = field(default_factory=list)
    # False when the distribution does not exist (detach reports it and carries on).
    found: bool = True


def attach(aws: Aws, distribution_id: str, origin: ApiOrigin) -> SpliceResult:
    """Put our origin and behavior into the distribution; no write when they are there."""
    with _existing(distribution_id):
        return _update(aws, distribution_id, lambda config: splice(config, origin))


def detach(aws: Aws, distribution_id: str, origin_id: str, path_pattern: str) -> SpliceResult:
    """Take our origin and behavior out again. A distribution that is gone is reported in
    the result, not raised: there is nothing of ours left in it."""
    try:
        return _update(
            aws, distribution_id, lambda config: unsplice(config, origin_id, path_pattern)
        )
    except AwsError as error:
        if error.code != "NoSuchDistribution":
            raise
        note = f"CloudFront distribution {distribution_id} no longer exists; nothing to detach"
        return SpliceResult(False, None, None, [note], found=False)


def update(aws: Aws, distribution_id: str, change: Callable[[Config], Config]) -> SpliceResult:
    """Apply `change` (a pure function of the config) with the same ETag round trip; a
    distribution that is gone is reported in the result, as `detach` does."""
    try:
        return _update(aws, distribution_id, change)
    except AwsError as error:
        if error.code != "NoSuchDistribution":
            raise
        note = f"CloudFront distribution {distribution_id} no longer exists"
        return SpliceResult(False, None, None, [note], found=False)


def preview(aws: Aws, distribution_id: str, origin: ApiOrigin) -> SpliceResult:
    """What `attach` would change, read-only (for `fargo plan`)."""
    with _existing(distribution_id):
        config, etag = _read(aws, distribution_id)
    spliced = splice(config, origin)
    return SpliceResult(spliced != config, etag, etag, config_diff(config, spliced))


def wait_deployed(
    aws: Aws, distribution_id: str, *, poll_seconds: float, timeout_seconds: float
) -> None:
    """Until the distribution's last change is on every edge location (Status `Deployed`,
    no longer `InProgress`). Until then, what the change took off it is still in use: a
    CloudFront Function it no longer names cannot be deleted yet (FunctionInUse)."""
    deadline = aws.clock() + timeout_seconds
    delay = poll_seconds
    while True:
        reply = aws.call("cloudfront", "get_distribution", Id=distribution_id)
        status = reply["Distribution"]["Status"]
        if status == "Deployed":
            return
        left = deadline - aws.clock()
        if left <= 0:
            raise AwsError(
                f"CloudFront distribution {distribution_id} is still {status} after "
                f"{timeout_seconds:.0f}s",
                hint="CloudFront is slow to deploy right now; run the command again later",
                code=status,
            )
        aws.sleep(min(delay, left))
        delay = min(delay * 2, _LONGEST_POLL)


def _read(aws: Aws, distribution_id: str) -> tuple[Config, str]:
    reply = aws.call("cloudfront", "get_distribution_config", Id=distribution_id)
    return reply["DistributionConfig"], reply["ETag"]


def _update(aws: Aws, distribution_id: str, change: Callable[[Config], Config]) -> SpliceResult:
    for attempt in range(ATTEMPTS):
        config, etag = _read(aws, distribution_id)
        updated = change(config)
        if updated == config:
            return SpliceResult(False, etag, etag, [])
        try:
            reply = aws.call(
                "cloudfront",
                "update_distribution",
                Id=distribution_id,
                IfMatch=etag,
                DistributionConfig=updated,
            )
        except AwsError as error:
            if error.code != "PreconditionFailed":
                raise
            # Someone else wrote since our read: wait a little, then read theirs.
            if attempt + 1 < ATTEMPTS:
                aws.sleep(_FIRST_DELAY * 2**attempt)
            continue
        return SpliceResult(True, etag, reply["ETag"], config_diff(config, updated))
    raise FargoError(
        f"CloudFront distribution {distribution_id} changed under fargo on each of "
        f"{ATTEMPTS} attempts to update it",
        hint="someone or something is editing it right now; run the command again when it is done",
    )


@contextmanager
def _existing(distribution_id: str) -> Iterator[None]:
    """A distribution that does not exist is a mistake in fargo.yml."""
    try:
        yield
    except AwsError as error:
        if error.code != "NoSuchDistribution":
            raise
        raise InputError(
            f"CloudFront distribution {distribution_id} does not exist",
            hint="check cdn.existing in fargo.yml against `aws cloudfront list-distributions`",
        ) from None
