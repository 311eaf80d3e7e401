"""The local URL of each HTTP service: the emulated load balancer under the emulator's
address (`/_alb/<name>`), then the route's path; the Host header where the listener rule
needs it; none behind the CDN, whose origin-verify header is a secret."""

from __future__ import annotations

import textwrap

from fargo.local.urls import BEHIND_CDN, LocalUrl, load_balancer_name, local_urls
from fargo.manifest.load import parse_manifest
from fargo.model import App, StackKind, build_app
from fargo.outputs import DeployedOutputs, NetworkOutputs
from fargo.synth.ids import logical_id

EMULATOR = "http://127.0.0.1:4566"
# `LoadBalancerFullName` as AWS (and the emulator) give it: app/<name>/<id>.
NETWORK = {"LoadBalancerFullName": "app/shop-alb-1a2b3c/50dc6c495c0c9188"}
BASE = f"{EMULATOR}/_alb/shop-alb-1a2b3c"

MANIFEST = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
  admin:
    image: nginx:1.27
    port: 8000
    http: { host: admin.example.com, healthcheck: /health }
  worker:
    image: nginx:1.27
    command: [sleep, infinity]
environments:
  domain: { domain: { name: example.com, dns: powerdns } }
"""


def app(text: str, env: str | None = None) -> App:
    return build_app(parse_manifest(textwrap.dedent(text), "fargo.yml", env, {}))


def services(built: App) -> dict[str, str]:
    return {f"{logical_id(s.name)}ServiceName": s.name for s in built.services}


def deployed(built: App) -> DeployedOutputs:
    return DeployedOutputs(built, {StackKind.NETWORK: NETWORK, StackKind.SERVICES: services(built)})


def test_a_path_route_answers_under_the_load_balancers_prefix() -> None:
    built = app(MANIFEST)
    api, admin = local_urls(built, deployed(built), EMULATOR)
    assert api == LocalUrl("api", f"{BASE}/api/")
    assert api.describe() == f"{BASE}/api/"
    # The admin rule matches on Host: the curl line sends it (port 80, the HTTP listener).
    assert admin == LocalUrl("admin", f"{BASE}/", host="admin.example.com")
    assert admin.describe() == f"curl -H 'Host: admin.example.com' {BASE}/"
    assert admin.to_json() == {
        "url": f"{BASE}/",
        "host": "admin.example.com",
        "curl": f"curl -H 'Host: admin.example.com' {BASE}/",
        "note": None,
    }


def test_with_a_domain_the_host_header_picks_the_https_listener() -> None:
    """With a domain the rules are on the HTTPS listener (443) and HTTP only redirects; the
    emulator picks the listener by the Host header's port."""
    built = app(MANIFEST, "domain")
    api, admin = local_urls(built, deployed(built), EMULATOR)
    assert api == LocalUrl("api", f"{BASE}/api/", host="api.example.com:443")
    assert admin == LocalUrl("admin", f"{BASE}/", host="admin.example.com:443")


def test_a_service_behind_the_cdn_has_no_local_url() -> None:
    built = app(
        """\
        app: shop
        services:
          web:
            image: nginx:1.27
            port: 3000
            http: { path: /*, healthcheck: /healthz }
          api:
            image: nginx:1.27
            port: 8000
            http: { host: api.example.com, healthcheck: /health }
        cdn: { app: true }
        """
    )
    web, api = local_urls(built, deployed(built), EMULATOR)
    assert web == LocalUrl("web", None, note=BEHIND_CDN)
    assert web.curl is None
    assert web.describe() == BEHIND_CDN
    # A host CloudFront never presents is reached directly, so it has one.
    assert api == LocalUrl("api", f"{BASE}/", host="api.example.com")


def test_only_deployed_services_and_only_with_a_load_balancer() -> None:
    built = app(MANIFEST)
    assert local_urls(built, DeployedOutputs(built, {StackKind.NETWORK: NETWORK}), EMULATOR) == ()
    only_services = DeployedOutputs(built, {StackKind.SERVICES: services(built)})
    assert local_urls(built, only_services, EMULATOR) == ()
    unnamed = NetworkOutputs("shop-default-network", {"LoadBalancerFullName": "not-a-full-name"})
    assert load_balancer_name(unnamed) is None
