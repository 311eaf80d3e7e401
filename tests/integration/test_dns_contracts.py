"""Cloudflare, GoDaddy and Porkbun providers against local servers that implement each
API's documented shapes (tests/integration/dns_fakes.py): the same DNS semantics for all
three, the provider's auth and error envelopes, retries, and Cloudflare's pagination."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from fargo.edge.dns.errors import DnsProviderError, DnsZoneNotFound
from fargo.edge.dns.factory import provider_from_env
from fargo.edge.dns.provider import DnsProvider
from fargo.edge.dns.records import DnsRecord, unquote_txt
from fargo.errors import InputError
from fargo.images.retry import RetryPolicy
from tests.integration.dns_fakes import FakeCloudflare, FakeDnsApi, FakeGoDaddy, FakePorkbun

ZONE = "example.com"
ALB = "dualstack.my-alb-123.us-east-1.elb.amazonaws.com"
CLOUDFRONT = "d111111abcdef8.cloudfront.net"
SPF = "v=spf1 include:amazonses.com ~all"
MX = "10 feedback-smtp.us-east-1.amazonses.com"
GOOGLE = "google-site-verification=abc123"

Env = Callable[[str, tuple[str, ...]], dict[str, str]]
PROVIDERS: dict[str, tuple[type[FakeDnsApi], tuple[str, ...], Env]] = {
    "cloudflare": (
        FakeCloudflare,
        ("cf-token-3f9a27c1d0",),
        lambda url, c: {"CLOUDFLARE_API_TOKEN": c[0], "FARGO_CLOUDFLARE_API_URL": url},
    ),
    "godaddy": (
        FakeGoDaddy,
        ("gd-key-81b2c7e4", "gd-secret-5d0e6a93"),
        lambda url, c: {
            "GODADDY_API_KEY": c[0],
            "GODADDY_API_SECRET": c[1],
            "FARGO_GODADDY_API_URL": url,
        },
    ),
    "porkbun": (
        FakePorkbun,
        ("pk1_7c41e09b", "sk1_2a9f64d8"),
        lambda url, c: {
            "PORKBUN_API_KEY": c[0],
            "PORKBUN_SECRET_API_KEY": c[1],
            "FARGO_PORKBUN_API_URL": url,
        },
    ),
}
# The variable a refused credential's hint points at.
CREDENTIAL = {
    "cloudflare": "CLOUDFLARE_API_TOKEN",
    "godaddy": "GODADDY_API_KEY",
    "porkbun": "PORKBUN_API_KEY",
}


@dataclass
class Case:
    kind: str
    fake: FakeDnsApi
    provider: DnsProvider
    sleeps: list[float]

    def provider_with(self, credentials: tuple[str, ...]) -> DnsProvider:
        env = PROVIDERS[self.kind][2](self.fake.url, credentials)
        return provider_from_env(self.kind, env, None, retry=RetryPolicy(sleep=self.sleeps.append))

    def texts(self, name: str) -> list[str]:
        """TXT values held, unquoted (Cloudflare keeps the quotes fargo sends)."""
        return sorted(unquote_txt(v) for v in self.fake.values(name, "TXT"))


@pytest.fixture(params=sorted(PROVIDERS))
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    kind = request.param
    fake_type, credentials, env = PROVIDERS[kind]
    fake = fake_type(ZONE, credentials).start()
    sleeps: list[float] = []
    provider = provider_from_env(
        kind, env(fake.url, credentials), None, retry=RetryPolicy(sleep=sleeps.append)
    )
    yield Case(kind, fake, provider, sleeps)
    fake.stop()


def test_upsert_creates_records_and_again_writes_nothing(case: Case) -> None:
    records = [
        DnsRecord(f"api.{ZONE}", "CNAME", ALB),
        DnsRecord(f"mail.{ZONE}", "TXT", SPF),
        DnsRecord(f"mail.{ZONE}", "MX", MX),
        DnsRecord(f"_3f1a.{ZONE}", "CNAME", "_9c2b.acm-validations.aws."),
    ]

    assert case.provider.upsert(ZONE, records) == records

    assert case.fake.values(f"api.{ZONE}", "CNAME") == [ALB]
    assert case.texts(f"mail.{ZONE}") == [SPF]
    assert case.fake.values(f"mail.{ZONE}", "MX") == [MX]
    assert case.fake.values(f"_3f1a.{ZONE}", "CNAME") == ["_9c2b.acm-validations.aws"]
    writes = len(case.fake.writes)
    assert writes >= 1

    assert case.provider.upsert(ZONE, records) == []
    assert len(case.fake.writes) == writes
    assert sorted(map(str, case.provider.records(ZONE, f"mail.{ZONE}", "MX"))) == [
        f"mail.{ZONE} MX {MX}"
    ]


def test_upsert_moves_a_cname_in_place(case: Case) -> None:
    case.fake.seed(f"api.{ZONE}", "CNAME", ALB)

    moved = DnsRecord(f"api.{ZONE}", "CNAME", CLOUDFRONT)
    assert case.provider.upsert(ZONE, [moved]) == [moved]

    assert case.fake.values(f"api.{ZONE}", "CNAME") == [CLOUDFRONT]
    assert len(case.fake.writes) == 1


def test_txt_values_coexist_and_delete_removes_only_fargos(case: Case) -> None:
    name = f"mail.{ZONE}"
    case.fake.seed(name, "TXT", GOOGLE)

    assert case.provider.upsert(ZONE, [DnsRecord(name, "TXT", SPF)]) == [
        DnsRecord(name, "TXT", SPF)
    ]
    assert case.texts(name) == sorted([GOOGLE, SPF])

    deleted = case.provider.delete(ZONE, [DnsRecord(name, "TXT", SPF)])

    assert [r.value for r in deleted] == [SPF]
    assert case.texts(name) == [GOOGLE]
    writes = len(case.fake.writes)
    assert case.provider.delete(ZONE, [DnsRecord(name, "TXT", SPF)]) == []
    assert len(case.fake.writes) == writes


def test_delete_removes_a_set_fargo_owns_entirely(case: Case) -> None:
    records = [DnsRecord(f"mail.{ZONE}", "MX", MX), DnsRecord(f"api.{ZONE}", "CNAME", ALB)]
    case.provider.upsert(ZONE, records)

    assert sorted(map(str, case.provider.delete(ZONE, records))) == sorted(map(str, records))

    assert case.fake.values(f"mail.{ZONE}", "MX") == []
    assert case.fake.values(f"api.{ZONE}", "CNAME") == []


def test_delete_leaves_a_record_the_user_changed(case: Case) -> None:
    case.fake.seed(f"api.{ZONE}", "CNAME", "elsewhere.example.net")

    assert case.provider.delete(ZONE, [DnsRecord(f"api.{ZONE}", "CNAME", ALB)]) == []

    assert case.fake.values(f"api.{ZONE}", "CNAME") == ["elsewhere.example.net"]
    assert case.fake.writes == []


def test_refused_credentials_fail_with_a_hint_and_no_secret(case: Case) -> None:
    wrong = tuple(f"{c}-wrong" for c in PROVIDERS[case.kind][1])
    provider = case.provider_with(wrong)

    with pytest.raises(DnsProviderError) as caught:
        provider.upsert(ZONE, [DnsRecord(f"api.{ZONE}", "CNAME", ALB)])

    error = caught.value
    assert error.exit_code == 1
    assert error.provider == case.kind
    assert error.status in (400, 401, 403)
    assert case.kind in error.message
    assert f"api.{ZONE}" in error.message
    assert f"HTTP {error.status}" in error.message
    assert error.hint is not None
    assert CREDENTIAL[case.kind] in error.hint
    assert ZONE in error.hint
    for secret in (*wrong, *PROVIDERS[case.kind][1]):
        assert secret not in error.render()
        assert secret not in repr(provider)
    assert case.fake.writes == []


def test_throttled_request_is_sent_again(case: Case) -> None:
    case.fake.fail_next(429)

    record = DnsRecord(f"api.{ZONE}", "CNAME", ALB)
    assert case.provider.upsert(ZONE, [record]) == [record]

    assert len(case.sleeps) == 1
    assert case.fake.values(f"api.{ZONE}", "CNAME") == [ALB]


def test_a_server_error_is_retried_only_where_sending_again_is_safe(case: Case) -> None:
    case.fake.fail_next(503, writes_only=True)
    record = DnsRecord(f"mail.{ZONE}", "TXT", SPF)

    if case.kind == "godaddy":  # a PUT of the whole set: the same end state if sent twice
        assert case.provider.upsert(ZONE, [record]) == [record]
        assert case.texts(f"mail.{ZONE}") == [SPF]
        assert len(case.sleeps) == 1
    else:  # a create: it may have happened before the error, so it is not sent blindly
        with pytest.raises(DnsProviderError) as caught:
            case.provider.upsert(ZONE, [record])
        assert caught.value.status == 503
        assert case.sleeps == []
        assert len(case.fake.writes) == 1


def test_cloudflare_reads_every_page() -> None:
    token = "cf-token-pages"
    fake = FakeCloudflare(ZONE, (token,)).start()
    try:
        name = f"bulk.{ZONE}"
        for i in range(150):
            fake.seed(name, "TXT", f'"token-{i}"')
        env = {"CLOUDFLARE_API_TOKEN": token, "FARGO_CLOUDFLARE_API_URL": fake.url}
        provider = provider_from_env("cloudflare", env, None)

        # Held on the second page: found, so no write.
        assert provider.upsert(ZONE, [DnsRecord(name, "TXT", "token-140")]) == []
        assert fake.writes == []
        assert len(provider.records(ZONE, name, "TXT")) == 150

        assert provider.upsert(ZONE, [DnsRecord(name, "TXT", "token-new")]) != []
        assert [s.method for s in fake.writes] == ["POST"]
        assert len(fake.values(name, "TXT")) == 151
    finally:
        fake.stop()


def test_cloudflare_zone_the_token_cannot_see_is_bad_input() -> None:
    fake = FakeCloudflare(ZONE, ("t",)).start()
    try:
        env = {"CLOUDFLARE_API_TOKEN": "t", "FARGO_CLOUDFLARE_API_URL": fake.url}
        provider = provider_from_env("cloudflare", env, None)

        with pytest.raises(DnsZoneNotFound) as caught:
            provider.upsert("other.org", [DnsRecord("api.other.org", "CNAME", ALB)])

        assert caught.value.exit_code == 2
        assert "other.org" in caught.value.message
    finally:
        fake.stop()


def test_find_zone_reads_only_and_names_a_zone_the_account_lacks(case: Case) -> None:
    assert case.provider.find_zone(ZONE)
    assert case.provider.find_zone(f"{ZONE.upper()}.")
    assert case.fake.writes == []

    with pytest.raises(DnsZoneNotFound) as caught:
        case.provider.find_zone("other.org")

    assert caught.value.exit_code == 2
    assert f"{case.kind}: no" in caught.value.message
    assert "other.org" in caught.value.message
    assert case.fake.writes == []


def test_find_zone_with_refused_credentials_is_a_provider_error(case: Case) -> None:
    wrong = tuple(f"wrong-{c}" for c in PROVIDERS[case.kind][1])

    with pytest.raises(DnsProviderError) as caught:
        case.provider_with(wrong).find_zone(ZONE)

    assert not isinstance(caught.value, DnsZoneNotFound)
    assert CREDENTIAL[case.kind] in (caught.value.hint or "")


# -- ALIAS at the apex -----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "stored"), [("cloudflare", "CNAME"), ("porkbun", "ALIAS")])
def test_an_apex_alias_is_written_as_the_providers_own_record(kind: str, stored: str) -> None:
    """Cloudflare has no ALIAS type and flattens a CNAME at the apex; Porkbun has ALIAS."""
    fake_type, credentials, env = PROVIDERS[kind]
    fake = fake_type(ZONE, credentials).start()
    try:
        provider = provider_from_env(kind, env(fake.url, credentials), None)
        site = DnsRecord(ZONE, "ALIAS", CLOUDFRONT, target_zone="Z2FDTNDATAQYW2", dual_stack=True)

        provider.check_alias(ZONE)
        assert provider.upsert(ZONE, [site]) == [site]

        assert fake.values(ZONE, stored) == [CLOUDFRONT]
        assert [str(r) for r in provider.records(ZONE, ZONE, "ALIAS")] == [str(site)]
        writes = len(fake.writes)
        # Route 53's target zone and IPv6 flag mean nothing here: held all the same.
        assert provider.upsert(ZONE, [site]) == []
        assert len(fake.writes) == writes

        removed = provider.delete(ZONE, [DnsRecord(ZONE, "ALIAS", CLOUDFRONT)])
        assert [str(r) for r in removed] == [str(site)]
        assert fake.values(ZONE, stored) == []
    finally:
        fake.stop()


def test_godaddy_refuses_an_alias_before_any_request() -> None:
    fake_type, credentials, env = PROVIDERS["godaddy"]
    fake = fake_type(ZONE, credentials).start()
    try:
        provider = provider_from_env("godaddy", env(fake.url, credentials), None)

        for attempt in (
            lambda: provider.check_alias(ZONE),
            lambda: provider.upsert(ZONE, [DnsRecord(ZONE, "ALIAS", CLOUDFRONT)]),
        ):
            with pytest.raises(InputError) as caught:
                attempt()
            assert caught.value.exit_code == 2
            assert caught.value.hint is not None
            assert f"www.{ZONE}" in caught.value.hint
        assert fake.seen == []
    finally:
        fake.stop()
