"""The DNS records an app's domain should hold, from the model and the stacks' outputs (pure)."""

from __future__ import annotations

from fargo.edge.dns.aliases import host_record
from fargo.edge.dns.records import DnsRecord, in_zone
from fargo.model.app import App
from fargo.outputs import DeployedOutputs
from fargo.status import mail_records

# SES's MAIL FROM subdomain says which servers may send for it.
SPF = "v=spf1 include:amazonses.com ~all"
# The hosted zone of every CloudFront distribution, for Route 53 alias targets (AWS's
# AliasTarget reference names it: it is the same in every account).
CLOUDFRONT_HOSTED_ZONE = "Z2FDTNDATAQYW2"


def wanted_records(app: App, outputs: DeployedOutputs) -> list[DnsRecord]:
    """Records known so far: those whose target a stack has not output yet are left out."""
    domain = app.domain
    if domain is None:
        return []
    network = outputs.network
    records: list[DnsRecord] = []
    if balancer := network.load_balancer_dns_name:
        # The load balancer is IPv4 only (its IpAddressType is the default, ipv4).
        zone = network.load_balancer_hosted_zone_id or ""
        records.extend(
            host_record(domain, host, balancer, target_zone=zone, dual_stack=False)
            for host in app.api_hosts
        )
    site = outputs.edge.distribution_domain_name
    if app.cdn is not None and app.cdn.owned and site:
        ipv6 = outputs.edge.distribution_ipv6_enabled
        records.append(
            host_record(
                domain, domain.site, site, target_zone=CLOUDFRONT_HOSTED_ZONE, dual_stack=ipv6
            )
        )
    for dkim in mail_records(outputs.data):
        if in_zone(dkim.name, domain.name):
            records.append(DnsRecord(dkim.name, "CNAME", dkim.value))
    if mail_from := app.mail_from_domain:
        feedback = f"feedback-smtp.{app.region}.amazonses.com"
        records.append(DnsRecord(mail_from, "MX", f"10 {feedback}"))
        records.append(DnsRecord(mail_from, "TXT", SPF))
    return records
