"""Replace a distribution's single-page-app error pages with a function on its default
behavior (`cdn: { existing, spa_errors: function }`), and put them back. Pure functions on
the DistributionConfig boto3 returns; `stage.py` does the I/O.

A single-page app's distribution usually maps 403 and 404 to `/index.html` with a 200.
Custom error responses apply to every behavior, so every 403 and 404 of the API spliced in
under `/api/*` reaches the client as the app's shell with a 200. The viewer-request
function that the static site uses (`synth/site_function.py`) serves the shell for paths
without a file extension on the default behavior only, before the cache, and leaves the API
behavior's answers alone.

What is replaced is recorded exactly (the whole `CustomErrorResponses` block and the default
behavior's `FunctionAssociations` block as they were), so `restore` gives back the original
config field for field when nothing else changed, and otherwise puts back only the removed
error responses beside whatever else changed since.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from fargo.edge.splice import SpliceConflict

Config = dict[str, Any]

VIEWER_REQUEST = "viewer-request"
SPA_ERROR_CODES = (403, 404)


@dataclass(frozen=True)
class ReplacedErrorPages:
    """What `replace` took out of one distribution, and the function it put in."""

    distribution: str
    function_name: str
    function_arn: str
    error_responses: Config  # the CustomErrorResponses block as it was
    function_associations: Config  # the default behavior's FunctionAssociations as it was

    def to_json(self) -> dict[str, Any]:
        return {
            "distribution": self.distribution,
            "function_name": self.function_name,
            "function_arn": self.function_arn,
            "error_responses": self.error_responses,
            "function_associations": self.function_associations,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ReplacedErrorPages:
        return cls(
            body["distribution"],
            body["function_name"],
            body["function_arn"],
            dict(body["error_responses"]),
            dict(body["function_associations"]),
        )


def swallowing_error_pages(config: Config) -> list[Config]:
    """The custom error responses that replace an API's 403 or 404: a page in place of its
    body, or a 200 in place of its status. They apply to the whole distribution."""
    return [
        item
        for item in _items(config.get("CustomErrorResponses", {}))
        if int(item.get("ErrorCode", 0)) in SPA_ERROR_CODES
        and (item.get("ResponsePagePath") or str(item.get("ResponseCode", "")) == "200")
    ]


def spa_error_pages(config: Config) -> list[Config]:
    """Of those, the single-page app's routing (a page and a 200): what `replace` moves into
    the function. Any other (a 404 page that keeps its 404) stays, and still swallows."""
    return [
        item
        for item in swallowing_error_pages(config)
        if item.get("ResponsePagePath") and str(item.get("ResponseCode", "")) == "200"
    ]


def replace(
    config: Config, distribution: str, function_name: str, function_arn: str
) -> tuple[Config, ReplacedErrorPages]:
    """`config` without its SPA error pages and with the function on the default behavior's
    viewer requests, and the record of what was there; `config` itself when that is so.

    Raises `SpliceConflict` when the default behavior already runs something else on viewer
    requests: a behavior takes one function per event, and a Lambda@Edge there would run
    beside ours on the same requests.
    """
    default = config.get("DefaultCacheBehavior", {})
    associations = default.get("FunctionAssociations", {"Quantity": 0})
    record = ReplacedErrorPages(
        distribution,
        function_name,
        function_arn,
        copy.deepcopy(config.get("CustomErrorResponses", {"Quantity": 0})),
        copy.deepcopy(associations),
    )
    _check_viewer_request_free(default, function_name)
    updated = copy.deepcopy(config)
    removed = spa_error_pages(config)
    if removed:
        kept = [i for i in _items(config["CustomErrorResponses"]) if i not in removed]
        updated["CustomErrorResponses"] = _block(updated["CustomErrorResponses"], kept)
    ours = {"FunctionARN": function_arn, "EventType": VIEWER_REQUEST}
    if ours not in _items(associations):
        behavior = updated["DefaultCacheBehavior"]
        behavior["FunctionAssociations"] = _block(associations, [*_items(associations), ours])
    return updated, record


def restore(config: Config, record: ReplacedErrorPages) -> Config:
    """`config` with the recorded error responses back and our function off the default
    behavior. Blocks nobody else changed come back exactly as recorded."""
    restored = copy.deepcopy(config)
    removed = spa_error_pages({"CustomErrorResponses": record.error_responses})
    original = _items(record.error_responses)
    left = [i for i in original if i not in removed]
    current = _items(config.get("CustomErrorResponses", {}))
    if current == left:
        restored["CustomErrorResponses"] = copy.deepcopy(record.error_responses)
    else:
        back = [*current, *(i for i in removed if i not in current)]
        restored["CustomErrorResponses"] = _block(config.get("CustomErrorResponses", {}), back)
    behavior = restored.get("DefaultCacheBehavior")
    if behavior is not None:
        associations = behavior.get("FunctionAssociations", {"Quantity": 0})
        others = [a for a in _items(associations) if a.get("FunctionARN") != record.function_arn]
        if others == _items(record.function_associations):
            behavior["FunctionAssociations"] = copy.deepcopy(record.function_associations)
        else:
            behavior["FunctionAssociations"] = _block(associations, others)
    return restored


def attached_arn(config: Config, function_name: str) -> str | None:
    """The ARN of our function where the default behavior runs it, else None."""
    associations = config.get("DefaultCacheBehavior", {}).get("FunctionAssociations", {})
    for association in _items(associations):
        if _is_ours(association.get("FunctionARN", ""), function_name):
            return str(association["FunctionARN"])
    return None


def _is_ours(arn: str, function_name: str) -> bool:
    # Function ARNs end in :function/<name>; the name is fargo's per app and environment.
    return arn.endswith(f":function/{function_name}")


def _check_viewer_request_free(default: Config, function_name: str) -> None:
    functions = [
        a.get("FunctionARN")
        for a in _items(default.get("FunctionAssociations", {}))
        if a.get("EventType") == VIEWER_REQUEST
        and not _is_ours(a.get("FunctionARN", ""), function_name)
    ]
    lambdas = [
        a.get("LambdaFunctionARN")
        for a in _items(default.get("LambdaFunctionAssociations", {}))
        if a.get("EventType") == VIEWER_REQUEST
    ]
    if functions or lambdas:
        raise SpliceConflict(
            f"the distribution's default behavior already runs {(functions + lambdas)[0]} on "
            "viewer requests",
            hint="CloudFront runs one viewer-request function per behavior: remove that "
            "association first, or drop `spa_errors` from cdn in fargo.yml",
        )


def _items(block: Config) -> list[Config]:
    return list(block.get("Items") or [])


def _block(old: Config, items: list[Config]) -> Config:
    """A list block with `Quantity` right; an empty list carries no `Items`, as AWS returns."""
    rest = {k: v for k, v in old.items() if k not in ("Quantity", "Items")}
    return {"Quantity": len(items), **({"Items": items} if items else {}), **rest}
