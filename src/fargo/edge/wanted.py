"""The DNS records an app's domain should hold, from the model and the stacks' outputs (pure)."""

from __future__ import annotations

from fargo.edge.dns.records import DnsRecord, in_zone
from fargo.model.app import App, StackKind
from fargo.status import mail_records

# SES's MAIL FROM subdomain says which servers may send for it.
SPF = "v=spf1 include:amazonses.com ~all"


def wanted_records(app: App, outputs: dict[StackKind, dict[str, str]]) -> list[DnsRecord]:
    """Records known so far: those whose target a stack has not output yet are left out."""
    domain = app.domain
    if domain is None:
        return []
    network = outputs.get(StackKind.NETWORK, {})
    records: list[DnsRecord] = []
    if balancer := network.get("LoadBalancerDnsName"):
        records.extend(DnsRecord(host, "CNAME", balancer) for host in app.api_hosts)
    site = outputs.get(StackKind.EDGE, {}).get("DistributionDomainName")
    if app.cdn is not None and app.cdn.owned and site:
        records.append(DnsRecord(domain.site, "CNAME", site))
    for dkim in mail_records(outputs.get(StackKind.DATA, {})):
        if in_zone(dkim.name, domain.name):
            records.append(DnsRecord(dkim.name, "CNAME", dkim.value))
    if mail_from := app.mail_from_domain:
        feedback = f"feedback-smtp.{app.region}.amazonses.com"
        records.append(DnsRecord(mail_from, "MX", f"10 {feedback}"))
        records.append(DnsRecord(mail_from, "TXT", SPF))
    return records
