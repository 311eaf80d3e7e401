"""`cdn-distribution`: the distribution `cdn.existing` names exists and is enabled; and the
`cdn-error-pages` warning when its custom error responses would swallow the API's errors.

A custom error response applies to the whole distribution, /api/* included: a 403 or 404
mapped to a page (the single-page-app habit: /index.html with 200) replaces every API 403
and 404 body, and with 200 its status too.
"""

from __future__ import annotations

from typing import Any

from fargo.edge.spa_errors import spa_error_pages, swallowing_error_pages
from fargo.errors import AwsError
from fargo.plan.checks import Check, Findings, PlanWarning
from fargo.preflight.context import Preflight

NAME = "cdn-distribution"
ERROR_PAGES = "cdn-error-pages"


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
    # `spa_errors: function` moves the single-page app's pages into a function at deploy;
    # what it leaves (a 404 page that keeps its 404) still swallows the API's errors.
    moved = spa_error_pages(config) if cdn.spa_errors else []
    pages = [page for page in swallowing_error_pages(config) if page not in moved]
    warnings = [error_pages_warning(distribution, pages, moved=bool(moved))] if pages else []
    return Findings.of(Check(NAME, "OK", f"{looked}: exists, enabled"), warnings=warnings)


def error_pages_warning(
    distribution: str, pages: list[dict[str, Any]], *, moved: bool = False
) -> PlanWarning:
    shown = ", ".join(_describe(item) for item in pages)
    fix = (
        "`spa_errors: function` moves only pages answered with status 200; take these out "
        "of the distribution, or give the API a path the site never errors on"
        if moved
        else "`spa_errors: function` in `cdn:` moves those pages into a function on the "
        "site's paths only"
    )
    return PlanWarning(
        ERROR_PAGES,
        f"distribution {distribution} answers {shown} for every path, the API's included: "
        f"the API's own 403 and 404 responses will not reach its clients; {fix}",
    )


def _describe(item: dict[str, Any]) -> str:
    page = item.get("ResponsePagePath") or "its own body"
    code = str(item.get("ResponseCode") or item["ErrorCode"])
    return f"{item['ErrorCode']} with {page} (status {code})"
