"""`cdn-distribution`: the distribution `cdn.existing` names exists and is enabled; and the
`cdn-error-pages` warning when its custom error responses would swallow the API's errors.

A custom error response applies to the whole distribution, /api/* included: a 403 or 404
mapped to a page (the single-page-app habit: /index.html with 200) replaces every API 403
and 404 body, and with 200 its status too.
"""

from __future__ import annotations

from typing import Any

from fargo.errors import AwsError
from fargo.plan.checks import Check, Findings, PlanWarning
from fargo.preflight.context import Preflight

NAME = "cdn-distribution"
ERROR_PAGES = "cdn-error-pages"
# The statuses an API answers with that SPAs map to their index page.
_API_STATUSES = (403, 404)


def cdn_distribution(preflight: Preflight) -> Findings:
    cdn = preflight.app.cdn
    if cdn is None or cdn.existing is None:
        return Findings()
    distribution = cdn.existing
    looked = f"CloudFront distribution {distribution}"
    try:
        config = preflight.aws.call("cloudfront", "get_distribution_config", Id=distribution)[
            "DistributionConfig"
        ]
    except AwsError as error:
        if error.code == "NoSuchDistribution":
            return Findings.of(
                Check(
                    NAME,
                    "FAILED",
                    f"{looked}: no such distribution in this account",
                    "set cdn.existing to the Id `aws cloudfront list-distributions` shows for "
                    "the site's distribution (E followed by 13 letters and digits)",
                )
            )
        return Findings.of(Check(NAME, "FAILED", f"{looked}: {error.message}", error.hint))
    if not config.get("Enabled", False):
        return Findings.of(
            Check(
                NAME,
                "FAILED",
                f"{looked}: disabled, so it serves nothing",
                "enable it (CloudFront console, or update-distribution with Enabled true), "
                "or set cdn.existing to the distribution that serves the site",
            )
        )
    # `spa_errors: function` replaces those pages at deploy: nothing left to warn about.
    pages = [] if cdn.spa_errors else swallowing_error_pages(config)
    warnings = [] if not pages else [error_pages_warning(distribution, pages)]
    return Findings.of(Check(NAME, "OK", f"{looked}: exists, enabled"), warnings=warnings)


def swallowing_error_pages(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The custom error responses that would replace an API 403 or 404."""
    items = (config.get("CustomErrorResponses") or {}).get("Items") or []
    return [
        item
        for item in items
        if int(item.get("ErrorCode", 0)) in _API_STATUSES
        and (item.get("ResponsePagePath") or str(item.get("ResponseCode", "")) == "200")
    ]


def error_pages_warning(distribution: str, pages: list[dict[str, Any]]) -> PlanWarning:
    shown = ", ".join(_describe(item) for item in pages)
    return PlanWarning(
        ERROR_PAGES,
        f"distribution {distribution} answers {shown} for every path, the API's included: "
        "the API's own 403 and 404 responses will not reach its clients; "
        "`spa_errors: function` in `cdn:` moves those pages into a function on the site's "
        "paths only",
    )


def _describe(item: dict[str, Any]) -> str:
    page = item.get("ResponsePagePath") or "its own body"
    code = str(item.get("ResponseCode") or item["ErrorCode"])
    return f"{item['ErrorCode']} with {page} (status {code})"
