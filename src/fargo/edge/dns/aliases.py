"""How a host is pointed at an AWS endpoint (the load balancer, the site's distribution):
a CNAME where one may sit, an ALIAS where it cannot, one rule per provider.

A CNAME cannot sit at a zone's apex (RFC 1034 3.6.2: the apex holds SOA and NS records, and
a CNAME holds its name alone). So a host at the apex is written as an ALIAS (`records.py`),
which each provider serves its own way:

| `domain.dns` | at the apex                                 | below it   |
|--------------|---------------------------------------------|------------|
| route53      | A alias (and AAAA if the target has IPv6)   | the same   |
| cloudflare   | CNAME, which Cloudflare flattens            | CNAME      |
| porkbun      | ALIAS                                       | CNAME      |
| powerdns     | ALIAS, if it may serve one (see below)      | CNAME      |
| godaddy      | none: refused when fargo.yml is loaded      | CNAME      |

PowerDNS serves an ALIAS only with a `resolver` and `expand-alias=yes`; without them the
deploy is refused before anything is written.

Route 53 prefers an alias for every AWS target: it answers with the target's addresses
(no second lookup for resolvers) and charges nothing for alias queries.
"""

from __future__ import annotations

from fargo.edge.dns.records import DnsRecord
from fargo.model.app import Domain

# Providers that write an alias for every host pointed at AWS, not only at the apex.
ALIAS_EVERYWHERE = frozenset({"route53"})


def needs_alias(domain: Domain, host: str) -> bool:
    return host == domain.name or domain.dns in ALIAS_EVERYWHERE


def host_record(
    domain: Domain, host: str, target: str, *, target_zone: str, dual_stack: bool
) -> DnsRecord:
    """The record that points `host` at the AWS endpoint `target`: an ALIAS (with the
    endpoint's hosted zone id, and whether it answers IPv6) or a CNAME."""
    if needs_alias(domain, host):
        return DnsRecord(host, "ALIAS", target, target_zone=target_zone, dual_stack=dual_stack)
    return DnsRecord(host, "CNAME", target)


def alias_hosts(domain: Domain, hosts: tuple[str, ...]) -> list[str]:
    """The hosts among `hosts` written as aliases."""
    return [host for host in hosts if needs_alias(domain, host)]
