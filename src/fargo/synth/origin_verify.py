"""The secret CloudFront presents to the load balancer, so that only CloudFront reaches the API.

With a CDN in front, the load balancer is still on the internet. CloudFront adds the header
`X-Fargo-Origin-Verify` with this secret's value on its way to the origin, and every listener
rule requires it: a request that comes around the CDN gets the listener's 403.
"""

from __future__ import annotations

from troposphere import Ref, Sub, Template, secretsmanager

from fargo.model.app import ORIGIN_VERIFY_HEADER, App
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, add, output, skip_check

LOGICAL_ID = "OriginVerifySecret"
# ALB compares header values case-insensitively and reads `*` and `?` as wildcards, so the
# value is letters and digits only (a valid header value too); 48 of them keep ~240 bits of
# entropy even case-folded, well inside the rule's 128-character limit per value.
_LENGTH = 48


def add_secret(template: Template, app: App) -> None:
    """The network stack's secret and its `OriginVerifySecretArn` output."""
    secret = add(
        template,
        secretsmanager.Secret(
            LOGICAL_ID,
            Description=f"{app.name}-{app.env}: the {ORIGIN_VERIFY_HEADER} header value "
            "CloudFront sends to the load balancer",
            GenerateSecretString=secretsmanager.GenerateSecretString(
                PasswordLength=_LENGTH, ExcludePunctuation=True, IncludeSpace=False
            ),
        ),
        f"the {ORIGIN_VERIFY_HEADER} value only CloudFront sends; the listener rules require it",
    )
    skip_check(
        secret,
        "CKV_AWS_149",
        "encrypted with the AWS-managed key; a customer key costs $1/month and adds nothing "
        "for a value only CloudFormation reads",
    )
    output(
        template,
        out.ORIGIN_VERIFY_SECRET_ARN,
        Ref(secret),
        "secret holding the origin verify header value",
    )


def header_value(inputs: Inputs) -> Sub:
    """The secret's value as a dynamic reference, resolved by CloudFormation: the value
    itself never appears in a template, a parameter or fargo's output."""
    return Sub(
        "{{resolve:secretsmanager:${Arn}:SecretString}}",
        Arn=inputs.network(out.ORIGIN_VERIFY_SECRET_ARN),
    )
