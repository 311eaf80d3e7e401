"""AWS::SES::EmailIdentity: Easy DKIM tokens and the GetAtts that name them.

Gap (ministack 1.5.33): the EmailIdentity provisioner writes a domain identity
with no DKIM tokens (``DkimAttributes: {SigningEnabled, Status: NOT_STARTED,
Tokens: []}``) and returns only ``EmailIdentity`` as an attribute, so
``Fn::GetAtt [Identity, DkimDNSTokenName1]`` fails the stack with "Requested
attribute DkimDNSTokenName1 does not exist in schema", and a template cannot
publish its DKIM CNAME records. It also leaves signing off when the template
does not set ``DkimAttributes``, where AWS turns Easy DKIM on for a domain.

A domain identity that does not bring its own key (BYODKIM) now gets the three
Easy DKIM tokens ministack's own CreateEmailIdentity hands out (stable per
domain), status PENDING, signing on unless ``DkimAttributes.SigningEnabled``
is false, and the key length of ``DkimSigningAttributes.NextSigningKeyLength``
(RSA_2048_BIT by default). ``DkimDNSTokenName1..3`` are
``<token>._domainkey.<domain>`` and ``DkimDNSTokenValue1..3``
``<token>.dkim.amazonses.com``, the CNAME records AWS asks for. An email
address identity, like a BYODKIM domain, has no tokens and these attributes
are absent, as on AWS. GetEmailIdentity and GetIdentityDkimAttributes show the
tokens.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, registered

Props = dict[str, Any]
Provisioned = tuple[str, dict[str, Any]]

_TYPE = "AWS::SES::EmailIdentity"
_DEFAULT_KEY_LENGTH = "RSA_2048_BIT"


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _easy_dkim(identity: str, props: Props) -> dict[str, Any]:
    """Give a domain identity its Easy DKIM state; return the token attributes."""
    ses, ses_v2 = module("ministack.services.ses"), module("ministack.services.ses_v2")
    record = ses_v2._identities.get(identity)
    signing = props.get("DkimSigningAttributes") or {}
    byodkim = any(signing.get(k) for k in ("DomainSigningPrivateKey", "DomainSigningSelector"))
    if record is None or record.get("IdentityType") != "DOMAIN" or byodkim:
        return {}
    current = record.get("DkimAttributes") or {}
    tokens = list(current.get("Tokens") or ses._dkim_tokens(identity))
    enabled = _flag((props.get("DkimAttributes") or {}).get("SigningEnabled", True))
    key_length = str(signing.get("NextSigningKeyLength") or _DEFAULT_KEY_LENGTH)
    record["DkimAttributes"] = {
        "SigningEnabled": enabled,
        "Status": current.get("Status") if current.get("Tokens") else "PENDING",
        "Tokens": tokens,
        "SigningAttributesOrigin": "AWS_SES",
        "NextSigningKeyLength": key_length,
        "CurrentSigningKeyLength": current.get("CurrentSigningKeyLength") or key_length,
    }
    classic = ses._identities.get(identity)
    if classic is not None:
        classic.update(DkimEnabled=enabled, DkimTokens=tokens)
        classic.setdefault("DkimVerificationStatus", "Pending")
    attributes: dict[str, Any] = {}
    for number, token in enumerate(tokens[:3], 1):
        attributes[f"DkimDNSTokenName{number}"] = f"{token}._domainkey.{identity}"
        attributes[f"DkimDNSTokenValue{number}"] = f"{token}.dkim.amazonses.com"
    return attributes


def _with_dkim(entry: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    create, update = entry["create"], entry["update"]

    def created(logical_id: str, props: Props, stack_name: str) -> Provisioned:
        identity, attributes = create(logical_id, props, stack_name)
        return identity, {**attributes, **_easy_dkim(identity, props)}

    def updated(
        physical_id: str,
        old_props: Props,
        new_props: Props,
        stack_name: str,
        logical_id: str | None = None,
    ) -> Provisioned:
        identity, attributes = update(physical_id, old_props, new_props, stack_name, logical_id)
        return identity, {**attributes, **_easy_dkim(identity, new_props)}

    return {"create": created, "update": updated}


def publish_dkim_tokens() -> None:
    """Closes the gap in the module docstring. The update handler replaces a
    renamed identity through the module's create, which leaves no tokens; the
    wrapped update then gives the new identity its tokens."""
    attr(module("ministack.services.ses"), "_dkim_tokens")
    attr(module("ministack.services.ses"), "_identities")
    attr(module("ministack.services.ses_v2"), "_identities")
    entry = registered(_TYPE)
    if not entry.get("update_with_logical_id"):
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: {_TYPE} is updated "
            "without its logical id"
        )
    entry.update(_with_dkim(entry))
