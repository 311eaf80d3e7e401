"""provider_from_env: credentials only from the environment, errors that say which to set."""

from __future__ import annotations

import pytest

from fargo.aws.facade import Aws, AwsConfig
from fargo.edge.dns.cloudflare import CLOUDFLARE_API_URL, Cloudflare
from fargo.edge.dns.factory import PROVIDERS, provider_from_env
from fargo.edge.dns.godaddy import GoDaddy
from fargo.edge.dns.porkbun import PORKBUN_API_URL, Porkbun
from fargo.edge.dns.powerdns import PowerDns
from fargo.edge.dns.route53 import Route53
from fargo.errors import EXIT_BAD_INPUT, InputError

FULL = {
    "cloudflare": {"CLOUDFLARE_API_TOKEN": "cf-secret-token"},
    "godaddy": {"GODADDY_API_KEY": "gd-secret-key", "GODADDY_API_SECRET": "gd-secret-secret"},
    "porkbun": {"PORKBUN_API_KEY": "pk1_secret", "PORKBUN_SECRET_API_KEY": "sk1_secret"},
    "powerdns": {
        "FARGO_POWERDNS_URL": "http://127.0.0.1:8081",
        "FARGO_POWERDNS_API_KEY": "pdns-secret-key",
    },
}
CASES = [(kind, name) for kind, env in FULL.items() for name in env]


@pytest.mark.parametrize(("kind", "absent"), CASES)
def test_a_missing_variable_is_named_and_no_other(kind: str, absent: str) -> None:
    env = {k: v for k, v in FULL[kind].items() if k != absent}

    with pytest.raises(InputError) as caught:
        provider_from_env(kind, env, None)

    error = caught.value
    assert error.exit_code == EXIT_BAD_INPUT
    assert absent in error.message
    assert kind in error.message
    for present, value in env.items():
        assert present not in error.message
        assert value not in error.render()
    assert error.hint is not None
    assert f"export {absent}=" in error.hint


@pytest.mark.parametrize("kind", sorted(FULL))
def test_with_nothing_set_every_variable_is_named(kind: str) -> None:
    with pytest.raises(InputError) as caught:
        provider_from_env(kind, dict.fromkeys(FULL[kind], "  "), None)

    for name in FULL[kind]:
        assert name in caught.value.message


@pytest.mark.parametrize("kind", sorted(FULL))
def test_no_secret_in_a_providers_repr(kind: str) -> None:
    provider = provider_from_env(kind, FULL[kind], None)

    assert provider.name == kind
    for value in FULL[kind].values():
        if "secret" in value:
            assert value not in repr(provider)
            assert value not in repr(vars(provider))


def test_default_and_overridden_api_urls() -> None:
    default = provider_from_env("cloudflare", FULL["cloudflare"], None)
    local = provider_from_env(
        "porkbun", {**FULL["porkbun"], "FARGO_PORKBUN_API_URL": "http://127.0.0.1:9/v3/"}, None
    )

    assert isinstance(default, Cloudflare)
    assert default.api.base_url == CLOUDFLARE_API_URL
    assert isinstance(local, Porkbun)
    assert local.api.base_url == "http://127.0.0.1:9/v3"
    assert local.api.base_url != PORKBUN_API_URL
    assert isinstance(provider_from_env("godaddy", FULL["godaddy"], None), GoDaddy)


def test_powerdns_server_id_defaults_to_localhost() -> None:
    plain = provider_from_env("powerdns", FULL["powerdns"], None)
    named = provider_from_env(
        "powerdns", {**FULL["powerdns"], "FARGO_POWERDNS_SERVER_ID": "ns1"}, None
    )

    assert isinstance(plain, PowerDns)
    assert isinstance(named, PowerDns)
    assert plain.server_id == "localhost"
    assert named.server_id == "ns1"
    assert plain.api.base_url == "http://127.0.0.1:8081/api/v1"


def test_route53_uses_the_aws_facade_and_needs_it() -> None:
    assert isinstance(provider_from_env("route53", {}, Aws(AwsConfig("us-east-1"))), Route53)

    with pytest.raises(InputError) as caught:
        provider_from_env("route53", {}, None)
    assert "route53" in caught.value.message


def test_an_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        provider_from_env("namecheap", {}, None)

    assert "namecheap" in caught.value.message
    assert caught.value.hint is not None
    for kind in PROVIDERS:
        assert kind in caught.value.hint
