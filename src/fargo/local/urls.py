"""Where each HTTP service answers on this machine, through the emulated load balancer.

The load balancer's DNS name does not resolve here. The emulator serves each load balancer
under its own address instead: `<emulator>/_alb/<load balancer name>/<path>` reaches the
listener with `<path>`, whose rules route it as AWS would (ministack strips the prefix,
then matches path and Host). So `http: { path: /api/* }` answers at `.../_alb/NAME/api/`.

- A host-routed service needs its Host header: the URL comes with the curl line that sends it.
- With a domain, the rules are on the HTTPS listener (HTTP only redirects): the emulator
  picks a listener by the Host header's port, so the Host header names port 443.
- A service behind the CDN is reached only with CloudFront's origin-verify header, a secret
  that is never printed: it has no local URL, and says why.

The `<Service>Url` outputs stay what AWS serves; these are what deploy and status add on
`--local`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fargo.model.app import App
from fargo.outputs import DeployedOutputs, NetworkOutputs

ALB_PREFIX = "/_alb/"
BEHIND_CDN = (
    "behind the CDN: the load balancer answers it only with CloudFront's origin-verify "
    "header, so it has no URL on 127.0.0.1"
)


@dataclass(frozen=True)
class LocalUrl:
    service: str
    url: str | None
    # The Host header the listener rule matches on, when the URL alone does not carry it.
    host: str | None = None
    # Why there is no URL.
    note: str | None = None

    @property
    def curl(self) -> str | None:
        if self.url is None:
            return None
        header = f"-H 'Host: {self.host}' " if self.host else ""
        return f"curl {header}{self.url}"

    def describe(self) -> str:
        """One line for the user: the URL, its curl line when it needs a Host header, or
        why there is none."""
        if self.url is None:
            return self.note or "no local URL"
        return self.curl if self.host else self.url  # type: ignore[return-value]

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "host": self.host, "curl": self.curl, "note": self.note}


def load_balancer_name(network: NetworkOutputs) -> str | None:
    """The name in `LoadBalancerFullName`, `app/<name>/<id>` on AWS and the emulator."""
    parts = (network.load_balancer_full_name or "").split("/")
    return parts[1] if len(parts) == 3 and parts[1] else None


def local_urls(app: App, outputs: DeployedOutputs, endpoint_url: str) -> tuple[LocalUrl, ...]:
    """The local URL of each deployed HTTP service of `app`, on the emulator at
    `endpoint_url`, in manifest order."""
    name = load_balancer_name(outputs.network)
    if name is None:
        return ()
    base = f"{endpoint_url.rstrip('/')}{ALB_PREFIX}{name}"
    found = []
    for service in app.services:
        route = service.route
        if route is None or outputs.services.service_name(service) is None:
            continue
        if app.cdn is not None and app.cdn.fronts(route):
            found.append(LocalUrl(service.name, None, note=BEHIND_CDN))
            continue
        host = route.host
        if app.domain is not None:
            host = f"{host or app.domain.api}:443"
        found.append(LocalUrl(service.name, f"{base}{route.url_path}", host))
    return tuple(found)
