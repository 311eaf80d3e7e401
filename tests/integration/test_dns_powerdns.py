"""The PowerDNS provider against a real pdns_server, checked with DNS queries (dnspython):
what fargo writes is what a resolver is served."""

from __future__ import annotations

import itertools

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import httpx
import pytest

from fargo.edge.dns.errors import DnsProviderError, DnsZoneNotFound
from fargo.edge.dns.factory import provider_from_env
from fargo.edge.dns.provider import DnsProvider
from fargo.edge.dns.records import DnsRecord
from fargo.errors import InputError
from tests.integration.powerdns import PowerDns

ALB = "dualstack.my-alb-123.us-east-1.elb.amazonaws.com"
CLOUDFRONT = "d111111abcdef8.cloudfront.net"
SPF = "v=spf1 include:amazonses.com ~all"
MX = "10 feedback-smtp.us-east-1.amazonses.com"
_zones = itertools.count()


class CountingTransport(httpx.HTTPTransport):
    """httpx's transport, keeping the method of every request the provider sends."""

    def __init__(self) -> None:
        super().__init__()
        self.methods: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.method)
        return super().handle_request(request)

    @property
    def patches(self) -> int:
        return self.methods.count("PATCH")


@pytest.fixture
def zone(pdns: PowerDns) -> str:
    name = f"app{next(_zones)}.example.test"
    pdns.create_zone(name)
    return name


@pytest.fixture
def transport() -> CountingTransport:
    return CountingTransport()


@pytest.fixture
def provider(pdns: PowerDns, transport: CountingTransport) -> DnsProvider:
    env = {"FARGO_POWERDNS_URL": pdns.api_url, "FARGO_POWERDNS_API_KEY": pdns.api_key}
    return provider_from_env("powerdns", env, None, transport=transport)


def served(pdns: PowerDns, name: str, rdtype: str) -> list[str]:
    """What the server answers for name/type over DNS, in presentation form."""
    query = dns.message.make_query(name, rdtype)
    response = dns.query.udp(query, "127.0.0.1", port=pdns.dns_port, timeout=5)
    assert response.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
    wanted = dns.rdatatype.from_text(rdtype)
    return sorted(
        b"".join(rdata.strings).decode() if rdtype == "TXT" else rdata.to_text()
        for rrset in response.answer
        if rrset.rdtype == wanted
        for rdata in rrset
    )


def by_hand(pdns: PowerDns, zone: str, name: str, rdtype: str, contents: list[str]) -> None:
    """A change the user makes outside fargo, straight through the API."""
    rrset = {
        "name": f"{name}.",
        "type": rdtype,
        "ttl": 3600,
        "changetype": "REPLACE",
        "records": [{"content": c, "disabled": False} for c in contents],
    }
    with pdns.api() as api:
        response = api.patch(f"/zones/{zone}.", json={"rrsets": [rrset]})
    assert response.status_code == 204, response.text


def test_upsert_creates_a_cname_that_resolves_to_the_out_of_zone_target_exactly(
    pdns: PowerDns, zone: str, provider: DnsProvider
) -> None:
    record = DnsRecord(f"api.{zone}", "CNAME", ALB)

    assert provider.upsert(zone, [record]) == [record]

    # Not `...amazonaws.com.<zone>.`: the target is absolute.
    assert served(pdns, f"api.{zone}", "CNAME") == [f"{ALB}."]
    assert provider.records(zone, f"api.{zone}", "CNAME") == [record]


def test_upsert_again_makes_no_write(
    pdns: PowerDns, zone: str, provider: DnsProvider, transport: CountingTransport
) -> None:
    records = [
        DnsRecord(f"api.{zone}", "CNAME", ALB),
        DnsRecord(f"mail.{zone}", "TXT", SPF),
        DnsRecord(f"mail.{zone}", "MX", MX),
    ]
    assert provider.upsert(zone, records) == records
    assert transport.patches == 1  # every change in one PATCH

    assert provider.upsert(zone, records) == []
    # Spelled differently, held all the same.
    assert provider.upsert(zone, [DnsRecord(f"API.{zone}.", "CNAME", f"{ALB.upper()}.")]) == []
    assert transport.patches == 1
    assert served(pdns, f"api.{zone}", "CNAME") == [f"{ALB}."]


def test_upsert_moves_a_cname_to_its_new_target(
    pdns: PowerDns, zone: str, provider: DnsProvider
) -> None:
    provider.upsert(zone, [DnsRecord(f"api.{zone}", "CNAME", ALB)])

    moved = DnsRecord(f"api.{zone}", "CNAME", CLOUDFRONT)
    assert provider.upsert(zone, [moved]) == [moved]

    assert served(pdns, f"api.{zone}", "CNAME") == [f"{CLOUDFRONT}."]


def test_txt_values_coexist_and_delete_removes_only_fargos(
    pdns: PowerDns, zone: str, provider: DnsProvider, transport: CountingTransport
) -> None:
    name = f"mail.{zone}"
    by_hand(pdns, zone, name, "TXT", ['"google-site-verification=abc123"'])

    assert provider.upsert(zone, [DnsRecord(name, "TXT", SPF)]) == [DnsRecord(name, "TXT", SPF)]
    assert served(pdns, name, "TXT") == sorted([SPF, "google-site-verification=abc123"])

    deleted = provider.delete(zone, [DnsRecord(name, "TXT", SPF)])

    assert [r.value for r in deleted] == [SPF]
    assert served(pdns, name, "TXT") == ["google-site-verification=abc123"]
    writes = transport.patches
    assert provider.delete(zone, [DnsRecord(name, "TXT", SPF)]) == []
    assert transport.patches == writes


def test_mx_is_written_and_deleted(pdns: PowerDns, zone: str, provider: DnsProvider) -> None:
    record = DnsRecord(f"mail.{zone}", "MX", MX)

    assert provider.upsert(zone, [record]) == [record]
    assert served(pdns, f"mail.{zone}", "MX") == [f"{MX}."]

    assert provider.delete(zone, [record]) == [record]
    assert served(pdns, f"mail.{zone}", "MX") == []


def test_delete_leaves_a_record_the_user_changed(
    pdns: PowerDns, zone: str, provider: DnsProvider
) -> None:
    provider.upsert(zone, [DnsRecord(f"api.{zone}", "CNAME", ALB)])
    by_hand(pdns, zone, f"api.{zone}", "CNAME", ["elsewhere.example.net."])

    assert provider.delete(zone, [DnsRecord(f"api.{zone}", "CNAME", ALB)]) == []

    assert served(pdns, f"api.{zone}", "CNAME") == ["elsewhere.example.net."]


def test_a_wrong_api_key_fails_with_a_hint_and_no_secret(pdns: PowerDns, zone: str) -> None:
    wrong = "not-the-key-0123456789"
    env = {"FARGO_POWERDNS_URL": pdns.api_url, "FARGO_POWERDNS_API_KEY": wrong}
    provider = provider_from_env("powerdns", env, None)

    with pytest.raises(DnsProviderError) as caught:
        provider.upsert(zone, [DnsRecord(f"api.{zone}", "CNAME", ALB)])

    error = caught.value
    assert error.status == 401
    assert error.exit_code == 1
    assert "powerdns" in error.message
    assert f"api.{zone}" in error.message
    assert error.hint is not None
    assert "FARGO_POWERDNS_API_KEY" in error.hint
    assert wrong not in error.render()
    assert wrong not in repr(provider)


def test_find_zone_finds_a_served_zone_and_names_one_the_server_lacks(
    provider: DnsProvider, zone: str, transport: CountingTransport
) -> None:
    assert provider.find_zone(zone) == f"{zone}."

    with pytest.raises(DnsZoneNotFound) as caught:
        provider.find_zone(f"missing-{zone}")

    assert caught.value.exit_code == 2
    assert f"has no zone missing-{zone}" in caught.value.message
    assert transport.patches == 0


# -- ALIAS at the apex ---------------------------------------------------------------------


def test_an_apex_alias_is_served_as_its_targets_addresses(pdns_alias: PowerDns) -> None:
    """With a resolver and expand-alias, PowerDNS answers the apex's A and AAAA queries with
    the target's addresses. The target is a name this server holds, so no lookup leaves."""
    zone, targets = f"app{next(_zones)}.example.test", f"cdn{next(_zones)}.example.test"
    pdns_alias.create_zone(zone)
    pdns_alias.create_zone(targets)
    target = f"d111.{targets}"
    by_hand(pdns_alias, targets, target, "A", ["192.0.2.7"])
    by_hand(pdns_alias, targets, target, "AAAA", ["2001:db8::7"])
    env = {"FARGO_POWERDNS_URL": pdns_alias.api_url, "FARGO_POWERDNS_API_KEY": pdns_alias.api_key}
    transport = CountingTransport()
    provider = provider_from_env("powerdns", env, None, transport=transport)
    site = DnsRecord(zone, "ALIAS", target, target_zone="Z2FDTNDATAQYW2", dual_stack=True)

    provider.check_alias(zone)
    assert provider.upsert(zone, [site]) == [site]

    assert served(pdns_alias, zone, "A") == ["192.0.2.7"]
    assert served(pdns_alias, zone, "AAAA") == ["2001:db8::7"]
    assert provider.records(zone, zone, "ALIAS") == [site]
    assert provider.upsert(zone, [site]) == []
    assert transport.patches == 1

    assert provider.delete(zone, [site]) == [site]
    assert served(pdns_alias, zone, "A") == []


def test_an_alias_powerdns_would_not_serve_is_refused_before_any_write(
    pdns: PowerDns, zone: str, provider: DnsProvider, transport: CountingTransport
) -> None:
    """Without a resolver PowerDNS stores an ALIAS and answers nothing for it: refused."""
    with pytest.raises(InputError) as caught:
        provider.check_alias(zone)
    error = caught.value
    assert error.exit_code == 2
    assert zone in error.message
    assert error.hint is not None
    assert "resolver=" in error.hint
    assert "expand-alias=yes" in error.hint
    assert f"www.{zone}" in error.hint

    with pytest.raises(InputError):
        provider.upsert(zone, [DnsRecord(zone, "ALIAS", CLOUDFRONT)])
    assert transport.patches == 0
    with pdns.api() as api:
        rrsets = api.get(f"/zones/{zone}.").json()["rrsets"]
    assert [r for r in rrsets if r["type"] == "ALIAS"] == []
