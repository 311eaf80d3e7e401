"""DnsRecord's canonical form and the upsert/delete semantics every provider shares."""

from __future__ import annotations

import pytest

from fargo.edge.dns.provider import Held, delete_change, upsert_change
from fargo.edge.dns.records import (
    DnsRecord,
    absolute_name,
    presentation,
    quote_txt,
    relative_name,
    unquote_txt,
)
from fargo.errors import InputError

SPF = "v=spf1 include:amazonses.com ~all"


def test_records_are_normalised_on_construction() -> None:
    assert DnsRecord("API.Example.com.", "CNAME", "Target.ELB.amazonaws.com.") == DnsRecord(
        "api.example.com", "CNAME", "target.elb.amazonaws.com"
    )
    assert (
        DnsRecord("mail.example.com", "MX", " 10   Feedback-SMTP.x.com. ").value
        == "10 feedback-smtp.x.com"
    )
    assert DnsRecord("mail.example.com", "TXT", f'"{SPF}"').value == SPF


@pytest.mark.parametrize(
    ("type_", "value"), [("A", "192.0.2.1"), ("MX", "feedback-smtp.x.com"), ("MX", "ten x.com")]
)
def test_unsupported_types_and_malformed_mx_are_input_errors(type_: str, value: str) -> None:
    with pytest.raises(InputError) as caught:
        DnsRecord("x.example.com", type_, value)  # type: ignore[arg-type]
    assert caught.value.hint


def test_txt_quoting_round_trips_long_and_escaped_text() -> None:
    text = 'say "hi" \\ ' + "x" * 300
    quoted = quote_txt(text)

    assert quoted.count('" "') == 1  # split into two character-strings of at most 255 bytes
    assert unquote_txt(quoted) == text
    assert unquote_txt('"a\\059b" "c"') == "a;bc"
    assert unquote_txt("bare text") == "bare text"


def test_presentation_is_absolute_and_quoted() -> None:
    assert presentation(DnsRecord("a.example.com", "CNAME", "t.example.net")) == "t.example.net."
    assert presentation(DnsRecord("a.example.com", "MX", "10 m.x.com")) == "10 m.x.com."
    assert presentation(DnsRecord("a.example.com", "TXT", SPF)) == f'"{SPF}"'


def test_relative_and_absolute_names() -> None:
    assert relative_name("mail.example.com", "example.com") == "mail"
    assert relative_name("example.com", "example.com") == ""
    assert absolute_name("@", "example.com") == "example.com"
    assert absolute_name("Mail", "example.com") == "mail.example.com"


def held(name: str, type_: str, *values: str, ttl: int = 3600) -> list[Held]:
    return [Held(DnsRecord(name, type_, v, ttl), f"id-{v}") for v in values]  # type: ignore[arg-type]


def test_upsert_of_a_held_value_is_no_change() -> None:
    assert (
        upsert_change(
            held("a.x.com", "CNAME", "t.x.net"), [DnsRecord("a.x.com", "CNAME", "T.x.net.")]
        )
        is None
    )
    assert (
        upsert_change(held("m.x.com", "TXT", "g", SPF), [DnsRecord("m.x.com", "TXT", SPF)]) is None
    )


def test_upsert_of_a_cname_replaces_the_target() -> None:
    change = upsert_change(
        held("a.x.com", "CNAME", "old.x.net"), [DnsRecord("a.x.com", "CNAME", "new.x.net")]
    )

    assert change is not None
    assert [r.value for r in change.after] == ["new.x.net"]
    pairs, creates, deletes = change.edits()
    assert [(h.handle, r.value) for h, r in pairs] == [("id-old.x.net", "new.x.net")]
    assert (creates, deletes) == ([], [])


def test_upsert_of_a_txt_adds_beside_other_values_at_the_sets_ttl() -> None:
    change = upsert_change(
        held("m.x.com", "TXT", "google-site-verification=1"),
        [DnsRecord("m.x.com", "TXT", SPF, 300)],
    )

    assert change is not None
    assert [r.value for r in change.after] == ["google-site-verification=1", SPF]
    assert [r.value for r in change.added] == [SPF]
    assert change.removed == ()
    assert change.ttl == 3600
    assert change.contents(presentation) == ["id-google-site-verification=1", f'"{SPF}"']


def test_two_cname_targets_for_one_name_are_refused() -> None:
    with pytest.raises(InputError):
        upsert_change(
            [],
            [
                DnsRecord("a.x.com", "CNAME", "one.x.net"),
                DnsRecord("a.x.com", "CNAME", "two.x.net"),
            ],
        )


def test_delete_only_removes_the_value_still_held() -> None:
    assert (
        delete_change(
            held("a.x.com", "CNAME", "users.x.net"), [DnsRecord("a.x.com", "CNAME", "ours.x.net")]
        )
        is None
    )

    change = delete_change(held("m.x.com", "TXT", "g", SPF), [DnsRecord("m.x.com", "TXT", SPF)])

    assert change is not None
    assert [h.record.value for h in change.removed] == [SPF]
    assert [r.value for r in change.after] == ["g"]


CLOUDFRONT = "d111.cloudfront.net"


def test_an_alias_is_normalised_like_a_cname_and_its_route53_details_are_not_its_identity() -> None:
    written = DnsRecord(
        "Example.COM.",
        "ALIAS",
        "D111.CloudFront.net.",
        target_zone="Z2FDTNDATAQYW2",
        dual_stack=True,
    )

    assert (written.name, written.value) == ("example.com", CLOUDFRONT)
    assert presentation(written) == f"{CLOUDFRONT}."
    # The ledger's copy and delete's match go by name, type and target.
    assert written == DnsRecord("example.com", "ALIAS", CLOUDFRONT)
    assert written.data != DnsRecord("example.com", "ALIAS", CLOUDFRONT).data


def test_only_an_alias_has_a_target_zone() -> None:
    with pytest.raises(ValueError, match="only an ALIAS"):
        DnsRecord("www.example.com", "CNAME", CLOUDFRONT, target_zone="Z2FDTNDATAQYW2")


def test_an_alias_is_rewritten_when_its_aaaa_should_come_or_go() -> None:
    ipv4 = DnsRecord("example.com", "ALIAS", CLOUDFRONT, target_zone="Z2FDTNDATAQYW2")
    dual = DnsRecord(
        "example.com", "ALIAS", CLOUDFRONT, target_zone="Z2FDTNDATAQYW2", dual_stack=True
    )

    assert upsert_change([Held(ipv4)], [ipv4]) is None
    change = upsert_change([Held(ipv4)], [dual])
    assert change is not None
    assert [r.data for r in change.after] == [dual.data]
    # A second target for one name is refused, as for a CNAME.
    with pytest.raises(InputError):
        upsert_change([], [dual, DnsRecord("example.com", "ALIAS", "other.cloudfront.net")])
