"""CloudFront distributions: a stale If-Match is refused in AWS's words.

fargo splices its API into a distribution someone else owns, and relies on CloudFront's
optimistic locking to keep their concurrent edits. ministack 1.5.33 keeps most of that
contract: it stores a DistributionConfig as the request's XML, every member included,
answers GetDistribution and GetDistributionConfig with the ETag, refuses an
UpdateDistribution without If-Match (InvalidIfMatchVersion, 400) and issues a new ETag on
every update. tests/emulator/test_cloudfront_splice.py holds it to all of that.

Gap (ministack 1.5.33): an UpdateDistribution or DeleteDistribution whose If-Match is not
the current ETag is refused with PreconditionFailed (412) but a message AWS never sends
("The precondition given in one or more of the request-header fields evaluated to
false."). Both now answer with AWS's message before ministack's handler runs.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, replace

Response = tuple[int, dict[str, str], bytes]

STALE_IF_MATCH = (
    "The request failed because it didn't meet the preconditions in one or more "
    "request-header fields."
)
_HANDLERS = ("_update_distribution", "_delete_distribution")


def _guarded(
    handler: Callable[..., Response], distributions: Any, error: Callable[..., Response]
) -> Callable[..., Response]:
    def guarded(dist_id: str, headers: Any, *rest: Any) -> Response:
        dist = distributions.get(dist_id)
        if_match = (headers or {}).get("if-match", "")
        # A missing distribution or If-Match is ministack's to answer, as AWS does.
        if dist is not None and if_match and if_match != dist.get("ETag"):
            return error("PreconditionFailed", STALE_IF_MATCH, 412)
        return handler(dist_id, headers, *rest)

    return guarded


def refuse_stale_if_match() -> None:
    """Closes the gap in the module docstring. ministack's router calls the handlers by
    their module names, so it reaches the guarded ones."""
    cloudfront = module("ministack.services.cloudfront")
    distributions = attr(cloudfront, "_distributions")
    error = attr(cloudfront, "_error")
    for name in _HANDLERS:
        replace(cloudfront, name, _guarded(attr(cloudfront, name), distributions, error))
