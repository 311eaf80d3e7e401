"""Where a service answers, for deploy's report and `status`.

The services stack has a `<Service>Url` output only where it knows the host: the load
balancer's, or the site host of a distribution fargo owns with a domain. A service behind
fargo's distribution without a domain answers on the distribution's `*.cloudfront.net`
name (an edge stack output), and one behind an `existing` distribution on that
distribution's first alias, else its own name: read from CloudFront (GetDistribution,
read-only), since the distribution is in no stack.
"""

from __future__ import annotations

from collections.abc import Iterable

from fargo.aws.facade import Aws
from fargo.errors import AwsError
from fargo.model.app import App, Cdn, Service
from fargo.outputs import DeployedOutputs, EdgeOutputs


def service_urls(aws: Aws, app: App, outputs: DeployedOutputs) -> dict[str, str]:
    """Where each HTTP service answers, by name: its `<Service>Url` output, else the
    distribution in front of it. What deploy prints and `status` shows."""
    urls = {s.name: url for s in app.services if (url := outputs.services.url(s)) is not None}
    behind = cdn_urls(
        aws,
        app.cdn,
        (s for s in app.services if s.name not in urls),
        outputs.edge,
    )
    return {s.name: url for s in app.services if (url := urls.get(s.name) or behind.get(s.name))}


def cdn_urls(
    aws: Aws, cdn: Cdn | None, services: Iterable[Service], edge: EdgeOutputs
) -> dict[str, str]:
    """The URL of each of `services` that CloudFront forwards to, by service name. The
    distribution is read only when one of them is behind it."""
    fronted = {
        s.name: cdn.url_path(s.route)
        for s in services
        if cdn is not None and s.route is not None and cdn.fronts(s.route)
    }
    if cdn is None or not fronted:
        return {}
    host = (
        edge.distribution_domain_name if cdn.existing is None else _existing_host(aws, cdn.existing)
    )
    if host is None:
        return {}
    return {name: f"https://{host}{path}" for name, path in fronted.items()}


def _existing_host(aws: Aws, distribution_id: str) -> str | None:
    """The name viewers use: the distribution's first alias (its own domain, such as
    www.example.com), else its `*.cloudfront.net` name. None when it no longer exists."""
    try:
        reply = aws.call("cloudfront", "get_distribution", Id=distribution_id)
    except AwsError as error:
        if error.code == "NoSuchDistribution":
            return None
        raise
    distribution = reply["Distribution"]
    aliases = distribution["DistributionConfig"].get("Aliases", {}).get("Items") or []
    return str(aliases[0]) if aliases else str(distribution["DomainName"])
