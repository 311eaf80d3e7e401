"""The records a domain should hold (pure), and the ledger's stored form."""

from __future__ import annotations

from fargo.edge.dns.records import DnsRecord
from fargo.edge.ledger import EdgeLedger, SplicedOrigin
from fargo.edge.wanted import SPF, wanted_records
from fargo.manifest.load import parse_manifest
from fargo.model import App, StackKind, build_app
from fargo.outputs import DeployedOutputs

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
  partner:
    image: nginx:1.27
    port: 8000
    http: { host: partner.example.org, healthcheck: /health }
mail: { domain: example.com, from: no-reply@example.com }
domain: { name: example.com, dns: cloudflare }
cdn: { static: ./site }
"""

OUTPUTS = {
    StackKind.NETWORK: {"LoadBalancerDnsName": "shop-123.us-east-1.elb.amazonaws.com"},
    StackKind.EDGE: {"DistributionDomainName": "d111.cloudfront.net"},
    StackKind.DATA: {
        **{f"MailDkim{i}Name": f"t{i}._domainkey.example.com" for i in (1, 2, 3)},
        **{f"MailDkim{i}Value": f"t{i}.dkim.amazonses.com" for i in (1, 2, 3)},
    },
}


def _app(text: str = MANIFEST) -> App:
    return build_app(parse_manifest(text, "fargo.yml", None, {}))


def _wanted(app: App, outputs: dict[StackKind, dict[str, str]]) -> list[DnsRecord]:
    return wanted_records(app, DeployedOutputs(app, outputs))


def test_every_record_the_domain_needs() -> None:
    alb = "shop-123.us-east-1.elb.amazonaws.com"
    assert _wanted(_app(), OUTPUTS) == [
        DnsRecord("api.example.com", "CNAME", alb),
        # An in-zone host route is the load balancer's too; an out-of-zone one is not ours.
        DnsRecord("admin.example.com", "CNAME", alb),
        DnsRecord("www.example.com", "CNAME", "d111.cloudfront.net"),
        *(
            DnsRecord(f"t{i}._domainkey.example.com", "CNAME", f"t{i}.dkim.amazonses.com")
            for i in (1, 2, 3)
        ),
        DnsRecord("mail.example.com", "MX", "10 feedback-smtp.us-east-1.amazonses.com"),
        DnsRecord("mail.example.com", "TXT", SPF),
    ]
    assert _app().api_hosts == ("api.example.com", "admin.example.com")


def test_records_wait_for_the_outputs_they_point_at() -> None:
    assert [r.type for r in _wanted(_app(), {})] == ["MX", "TXT"]


def test_no_domain_no_records_and_mail_outside_the_zone_is_left_alone() -> None:
    assert (
        _wanted(
            _app(MANIFEST.replace("domain: { name: example.com, dns: cloudflare }\n", "")), OUTPUTS
        )
        == []
    )
    other = MANIFEST.replace(
        "domain: example.com, from: no-reply@example.com",
        "domain: example.net, from: a@example.net",
    )
    names = {r.name for r in _wanted(_app(other), OUTPUTS)}
    assert not any(n.endswith("example.net") for n in names)
    assert _app(other).mail_from_domain is None


def test_ledger_round_trips_through_its_json() -> None:
    ledger = EdgeLedger(
        certificates={"regional": "arn:aws:acm:us-east-1:1:certificate/x"},
        records=[DnsRecord("api.example.com", "CNAME", "alb.example.net")],
        zone="example.com",
        dns="powerdns",
        splice=SplicedOrigin("E2ABCDEF123456", "fargo-shop-default-api", "/api/*"),
    )
    assert EdgeLedger.from_json(ledger.to_json()) == ledger
    ledger.forget(ledger.records)
    ledger.certificates.clear()
    ledger.splice = None
    assert ledger.empty


ROUTE53_OUTPUTS = {
    **OUTPUTS,
    StackKind.NETWORK: {
        "LoadBalancerDnsName": "shop-123.us-east-1.elb.amazonaws.com",
        "LoadBalancerHostedZoneId": "Z35SXDOTRQ7X7K",
    },
    StackKind.EDGE: {
        "DistributionDomainName": "d111.cloudfront.net",
        "DistributionIpv6Enabled": "true",
    },
}


def test_route53_points_every_aws_target_by_alias_and_dkim_stays_cname() -> None:
    app = _app(MANIFEST.replace("dns: cloudflare", "dns: route53"))
    alb = "shop-123.us-east-1.elb.amazonaws.com"

    records = _wanted(app, ROUTE53_OUTPUTS)

    by_name = {r.name: r for r in records if r.type in ("ALIAS", "CNAME")}
    assert [
        (r.type, r.data) for r in (by_name["api.example.com"], by_name["admin.example.com"])
    ] == [
        ("ALIAS", (alb, "Z35SXDOTRQ7X7K", False)),
        ("ALIAS", (alb, "Z35SXDOTRQ7X7K", False)),
    ]
    # CloudFront's alias zone is the same for every distribution; IPv6 on: an AAAA too.
    assert (by_name["www.example.com"].type, by_name["www.example.com"].data) == (
        "ALIAS",
        ("d111.cloudfront.net", "Z2FDTNDATAQYW2", True),
    )
    assert {by_name[f"t{i}._domainkey.example.com"].type for i in (1, 2, 3)} == {"CNAME"}


def test_a_distribution_without_ipv6_gets_no_aaaa() -> None:
    app = _app(MANIFEST.replace("dns: cloudflare", "dns: route53"))
    outputs = {
        **ROUTE53_OUTPUTS,
        StackKind.EDGE: {
            "DistributionDomainName": "d111.cloudfront.net",
            "DistributionIpv6Enabled": "false",
        },
    }

    (site,) = [r for r in _wanted(app, outputs) if r.name == "www.example.com"]

    assert site.dual_stack is False


def test_elsewhere_only_the_apex_is_an_alias() -> None:
    app = _app(
        MANIFEST.replace(
            "name: example.com, dns: cloudflare",
            "name: example.com, site: example.com, dns: cloudflare",
        )
    )

    types = {r.name: r.type for r in _wanted(app, OUTPUTS) if r.type in ("ALIAS", "CNAME")}

    assert types["example.com"] == "ALIAS"
    assert types["api.example.com"] == "CNAME"
    assert types["admin.example.com"] == "CNAME"


def test_an_alias_round_trips_through_the_ledger() -> None:
    alias = DnsRecord(
        "example.com", "ALIAS", "d111.cloudfront.net", target_zone="Z2FDTNDATAQYW2", dual_stack=True
    )
    ledger = EdgeLedger(records=[alias, DnsRecord("api.example.com", "CNAME", "alb.example.net")])

    (read, cname) = EdgeLedger.from_json(ledger.to_json()).records

    assert read.data == alias.data
    assert "target_zone" not in ledger.to_json()["records"][1]
    # Remembered again as written now (IPv6 turned off): one entry, the new one.
    ipv4 = DnsRecord("example.com", "ALIAS", "d111.cloudfront.net", target_zone="Z2FDTNDATAQYW2")
    ledger.remember([ipv4])
    assert [r.data for r in ledger.records] == [ipv4.data, cname.data]
