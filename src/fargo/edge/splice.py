"""Splice the app's API into a CloudFront distribution someone else owns, and take it out again.

`cdn: { existing: DIST_ID }` means fargo adds exactly one origin (the app's load balancer)
and one cache behavior (`/api/*` by default) to that distribution and leaves every other
field as it found it. These are pure functions on the `DistributionConfig` dict that boto3's
`get_distribution_config` returns; `distribution.py` does the I/O.

What is ours. The origin whose `Id` is ours *and* that sends our verification header
(`header_name`, matched case-insensitively as HTTP does); an origin with our id but without
that header was made by someone else, and fargo refuses to touch it. The behavior whose
path pattern is ours and whose target is our origin; the same pattern routed to any other
origin or origin group belongs to someone else, and fargo refuses too.

Where the behavior goes. CloudFront sends a request to the first behavior, in list order,
whose pattern matches it. Ours goes right before the first behavior that matches some path
ours matches without matching only such paths (`*`, `/*`, `/api*`, `*.json`, ...), so every
request under our path reaches the API; at the end when there is none. A behavior that
matches only paths under ours (`/api/admin/*`) stays ahead of ours and keeps its traffic,
as its owner meant: CloudFront's own advice is the most specific pattern first.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from fargo.edge.diff import config_diff
from fargo.edge.patterns import covers, normalize, overlaps
from fargo.errors import UnsafeChange

__all__ = [
    "ALL_VIEWER_EXCEPT_HOST_HEADER",
    "CACHING_DISABLED",
    "MAX_CACHE_BEHAVIORS",
    "MAX_ORIGINS",
    "ApiOrigin",
    "SpliceConflict",
    "api_behavior",
    "api_origin",
    "config_diff",
    "splice",
    "unsplice",
]

Config = dict[str, Any]

# AWS-managed policies: an API's answers are never cached, and the origin sees everything
# the viewer sent but the Host header (the load balancer routes on its own name).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# CloudFront's default quotas per distribution; an increase is a Service Quotas request.
MAX_CACHE_BEHAVIORS = 25
MAX_ORIGINS = 25

_ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
_CACHED_METHODS = ["GET", "HEAD"]
# The load balancer closes idle connections after 60 s, so CloudFront waits as long for a
# slow API answer; keepalive stays at CloudFront's default, well under that.
_READ_TIMEOUT = 60
_KEEPALIVE_TIMEOUT = 5


class SpliceConflict(UnsafeChange):
    """Splicing would take over or break something in a distribution fargo does not own."""


@dataclass(frozen=True)
class ApiOrigin:
    """The origin and behavior fargo adds: the app's API behind `path_pattern`."""

    origin_id: str
    domain_name: str
    https: bool
    header_name: str
    header_value: str = field(repr=False)
    path_pattern: str = "/api/*"


def api_origin(origin: ApiOrigin) -> Config:
    """Our origin, with every member CloudFront returns filled in, so a config read back
    from AWS compares equal to what was sent."""
    return {
        "Id": origin.origin_id,
        "DomainName": origin.domain_name,
        "OriginPath": "",
        "CustomHeaders": {
            "Quantity": 1,
            "Items": [{"HeaderName": origin.header_name, "HeaderValue": origin.header_value}],
        },
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only" if origin.https else "http-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            "OriginReadTimeout": _READ_TIMEOUT,
            "OriginKeepaliveTimeout": _KEEPALIVE_TIMEOUT,
        },
        "ConnectionAttempts": 3,
        "ConnectionTimeout": 10,
        "OriginShield": {"Enabled": False},
        "OriginAccessControlId": "",
    }


def api_behavior(origin: ApiOrigin) -> Config:
    """Our cache behavior: every method through, nothing cached, HTTPS for viewers."""
    return {
        "PathPattern": origin.path_pattern,
        "TargetOriginId": origin.origin_id,
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
        "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {
            "Quantity": len(_ALL_METHODS),
            "Items": list(_ALL_METHODS),
            "CachedMethods": {"Quantity": len(_CACHED_METHODS), "Items": list(_CACHED_METHODS)},
        },
        "SmoothStreaming": False,
        "Compress": True,
        "LambdaFunctionAssociations": {"Quantity": 0},
        "FunctionAssociations": {"Quantity": 0},
        "FieldLevelEncryptionId": "",
        "CachePolicyId": CACHING_DISABLED,
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
    }


def splice(config: Config, origin: ApiOrigin) -> Config:
    """`config` with our origin and behavior in it; equal to `config` when they already are.

    An origin or behavior of ours that differs (a rotated header value, a new load balancer)
    is replaced where it stands. Raises `SpliceConflict` when our id or path is someone
    else's, or when adding would pass CloudFront's quotas.
    """
    spliced = copy.deepcopy(config)
    origins = _items(spliced, "Origins")
    _check_origin_group_ids(spliced, origin)
    at = _find(origins, lambda o: o.get("Id") == origin.origin_id)
    if at is None:
        _check_quota(len(origins), MAX_ORIGINS, "origins", "Origins per distribution")
        origins.append(api_origin(origin))
    elif not _is_ours(origins[at], origin.header_name):
        raise SpliceConflict(
            f"the distribution already has an origin {origin.origin_id!r} that fargo did not "
            f"make (it does not send {origin.header_name})",
            hint="rename or remove that origin, or give this app or environment another name",
        )
    elif not _matches(api_origin(origin), origins[at]):
        origins[at] = api_origin(origin)
    _set_items(spliced, "Origins", origins)

    behaviors = _items(spliced, "CacheBehaviors")
    pattern = normalize(origin.path_pattern)
    at = _find(behaviors, lambda b: normalize(b.get("PathPattern", "")) == pattern)
    if at is None:
        _check_quota(
            len(behaviors),
            MAX_CACHE_BEHAVIORS,
            "cache behaviors",
            "Cache behaviors per distribution",
        )
        behaviors.insert(_position(behaviors, pattern), api_behavior(origin))
    elif behaviors[at].get("TargetOriginId") != origin.origin_id:
        raise SpliceConflict(
            f"the distribution already routes {behaviors[at]['PathPattern']} to "
            f"{behaviors[at].get('TargetOriginId')!r}",
            hint="choose another cdn.path in fargo.yml, or remove that cache behavior first",
        )
    elif not _matches(api_behavior(origin), behaviors[at]):
        behaviors[at] = api_behavior(origin)
    _set_items(spliced, "CacheBehaviors", behaviors)
    return spliced


def unsplice(config: Config, origin_id: str, path_pattern: str) -> Config:
    """`config` without our behavior, and without our origin once nothing else uses it.

    A behavior on our path that targets another origin is someone else's and stays. A list
    left empty takes the shape AWS returns for one, `{"Quantity": 0}`.
    """
    unspliced = copy.deepcopy(config)
    pattern = normalize(path_pattern)
    behaviors = [
        b
        for b in _items(unspliced, "CacheBehaviors")
        if not (
            normalize(b.get("PathPattern", "")) == pattern and b.get("TargetOriginId") == origin_id
        )
    ]
    if "CacheBehaviors" in unspliced:
        _set_items(unspliced, "CacheBehaviors", behaviors)
    if origin_id not in _origin_users(unspliced):
        origins = [o for o in _items(unspliced, "Origins") if o.get("Id") != origin_id]
        _set_items(unspliced, "Origins", origins)
    return unspliced


def _items(config: Config, name: str) -> list[Config]:
    return list(config.get(name, {}).get("Items") or [])


def _set_items(config: Config, name: str, items: list[Config]) -> None:
    """Keep `Quantity` equal to the number of items; an empty list carries no `Items`."""
    block = {k: v for k, v in config.get(name, {}).items() if k not in ("Quantity", "Items")}
    config[name] = {"Quantity": len(items), **({"Items": items} if items else {}), **block}


def _find(items: list[Config], wanted: Any) -> int | None:
    return next((i for i, item in enumerate(items) if wanted(item)), None)


def _is_ours(origin: Config, header_name: str) -> bool:
    headers = origin.get("CustomHeaders", {}).get("Items") or []
    return any(h.get("HeaderName", "").lower() == header_name.lower() for h in headers)


def _matches(wanted: Any, found: Any) -> bool:
    """Whether `found` holds everything in `wanted`. Members CloudFront adds on its own
    (new defaults) are not differences; neither is the order of methods or protocols,
    which CloudFront does not keep."""
    if isinstance(wanted, dict):
        return isinstance(found, dict) and all(
            k in found and _matches(v, found[k]) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        if not isinstance(found, list) or len(wanted) != len(found):
            return False
        if all(isinstance(item, str) for item in wanted + found):
            return sorted(wanted) == sorted(found)
        return all(_matches(w, f) for w, f in zip(wanted, found, strict=True))
    return bool(wanted == found and type(wanted) is type(found))


def _position(behaviors: list[Config], pattern: str) -> int:
    """Before the first behavior that would take some of our requests (module docstring)."""
    for i, behavior in enumerate(behaviors):
        theirs = behavior.get("PathPattern", "")
        if overlaps(theirs, pattern) and not covers(pattern, theirs):
            return i
    return len(behaviors)


def _check_quota(count: int, limit: int, what: str, quota: str) -> None:
    if count >= limit:
        raise SpliceConflict(
            f"the distribution already has {count} {what}, CloudFront's default limit",
            hint=f"remove one it no longer needs, or ask AWS for more "
            f"('{quota}' in Service Quotas)",
        )


def _check_origin_group_ids(config: Config, origin: ApiOrigin) -> None:
    # Behaviors target origins and origin groups by the same ids.
    if any(g.get("Id") == origin.origin_id for g in _items(config, "OriginGroups")):
        raise SpliceConflict(
            f"the distribution already has an origin group {origin.origin_id!r}",
            hint="rename that origin group, or give this app or environment another name",
        )


def _origin_users(config: Config) -> set[str]:
    """Ids of the origins (and origin groups) that a behavior or origin group refers to."""
    used = {config.get("DefaultCacheBehavior", {}).get("TargetOriginId", "")}
    used |= {b.get("TargetOriginId", "") for b in _items(config, "CacheBehaviors")}
    for group in _items(config, "OriginGroups"):
        used |= {m.get("OriginId", "") for m in group.get("Members", {}).get("Items") or []}
    return used
