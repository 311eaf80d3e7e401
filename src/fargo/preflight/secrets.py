"""`secret:<ENV>`: every `secrets:` reference names a secret or parameter that exists.

Secrets Manager is asked with DescribeSecret, which never returns the value. A JSON key
(`secretsmanager:NAME:KEY`) can only be seen in the value: GetSecretValue is tried for those
alone, the value is parsed here and dropped, and when the credentials may not read it the
check is SKIPPED. SSM is asked with DescribeParameters, which returns a parameter's
metadata and never its value.
"""

from __future__ import annotations

import json

from fargo.app_secrets import owned_name, set_command
from fargo.aws.facade import Aws
from fargo.errors import AwsError
from fargo.model.app import App, SecretRef
from fargo.plan.checks import Check, Findings
from fargo.preflight.context import Preflight

_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "KMSAccessDeniedException"})


def secrets(preflight: Preflight) -> Findings:
    # Each reference once, however many services name it.
    refs = dict.fromkeys(ref for service in preflight.app.services for ref in service.secrets)
    return Findings(tuple(check_secret(preflight.aws, preflight.app, ref) for ref in refs))


def check_secret(aws: Aws, app: App, ref: SecretRef) -> Check:
    if ref.source == "ssm":
        return _parameter(aws, ref)
    return _secret(aws, app, ref)


def _name(ref: SecretRef) -> str:
    return f"secret:{ref.env_name}"


def _secret(aws: Aws, app: App, ref: SecretRef) -> Check:
    looked = f"secretsmanager:{ref.name}"
    try:
        described = aws.call("secretsmanager", "describe_secret", SecretId=ref.name)
    except AwsError as error:
        if error.code == "ResourceNotFoundException":
            return Check(_name(ref), "FAILED", f"{looked}: no such secret", _create_hint(app, ref))
        if error.code in _DENIED:
            return _not_allowed(ref, looked, "secretsmanager:DescribeSecret")
        return Check(_name(ref), "FAILED", f"{looked}: {error.message}", error.hint)
    if described.get("DeletedDate"):
        return Check(
            _name(ref),
            "FAILED",
            f"{looked}: scheduled for deletion",
            f"restore it: aws secretsmanager restore-secret --secret-id {ref.name}",
        )
    if ref.json_key is None:
        return Check(_name(ref), "OK", f"{looked}: exists")
    return _json_key(aws, ref, f"{looked}:{ref.json_key}")


def _json_key(aws: Aws, ref: SecretRef, looked: str) -> Check:
    try:
        value = aws.call("secretsmanager", "get_secret_value", SecretId=ref.name)
    except AwsError as error:
        if error.code in _DENIED or error.code == "DecryptionFailure":
            return Check(
                _name(ref),
                "SKIPPED",
                f"{looked}: the secret exists; the key is not checked (reading the value is "
                "not allowed)",
            )
        return Check(_name(ref), "FAILED", f"{looked}: {error.message}", error.hint)
    try:
        parsed = json.loads(value.get("SecretString") or "")
    except ValueError:
        parsed = None
    del value  # the value goes no further than this function
    if not isinstance(parsed, dict):
        return Check(
            _name(ref),
            "FAILED",
            f"{looked}: the secret's value is not a JSON object, so it has no key {ref.json_key}",
            f"store a JSON object with the key {ref.json_key}, or refer to the whole "
            f"value as secretsmanager:{ref.name}",
        )
    if ref.json_key not in parsed:
        keys = ", ".join(sorted(map(str, parsed))) or "none"
        return Check(
            _name(ref),
            "FAILED",
            f"{looked}: the secret has no JSON key {ref.json_key} (its keys: {keys})",
            f"add {ref.json_key} to the secret's JSON, or name one of its keys",
        )
    return Check(_name(ref), "OK", f"{looked}: exists, with the key")


def _parameter(aws: Aws, ref: SecretRef) -> Check:
    looked = f"ssm:{ref.name}"
    try:
        found = aws.call(
            "ssm",
            "describe_parameters",
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [ref.name]}],
        ).get("Parameters", [])
    except AwsError as error:
        if error.code in _DENIED:
            return _not_allowed(ref, looked, "ssm:DescribeParameters")
        return Check(_name(ref), "FAILED", f"{looked}: {error.message}", error.hint)
    if not found:
        return Check(
            _name(ref),
            "FAILED",
            f"{looked}: no such parameter",
            f"create it: aws ssm put-parameter --type SecureString --name {ref.name} --value ...",
        )
    return Check(_name(ref), "OK", f"{looked}: exists")


def _not_allowed(ref: SecretRef, looked: str, action: str) -> Check:
    return Check(
        _name(ref),
        "SKIPPED",
        f"{looked}: not checked (the credentials may not call {action})",
        f"allow {action} on it to have it checked before deploy",
    )


def _create_hint(app: App, ref: SecretRef) -> str:
    own = owned_name(app, ref.name)
    if own is not None:
        return f"store it: {set_command(app, own)}"
    return (
        f"create it (aws secretsmanager create-secret --name {ref.name}), or store it with "
        f"`{set_command(app, ref.env_name)}` and refer to it as "
        f"secretsmanager:fargo/{app.name}/{app.env}/{ref.env_name}"
    )
