"""The app's own secrets in Secrets Manager, under `fargo/<app>/<env>/NAME`.

`fargo secrets set|list|delete` manage them; a manifest refers to one as
`secretsmanager:fargo/<app>/<env>/NAME`. Values go to Secrets Manager and nowhere else:
nothing here returns, logs or prints one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from fargo.errors import AwsError, InputError

if TYPE_CHECKING:  # `fargo secrets --help` reads RECOVERY_DAYS without loading boto3
    from fargo.aws.facade import Aws
    from fargo.model.app import App

# Secrets Manager allows `/_+=.@-` too; no `/`, so NAME stays one level under the prefix.
_NAME = re.compile(r"^[A-Za-z0-9_+=.@-]{1,256}$")
# Secrets Manager's default and its shortest recovery window, in days.
RECOVERY_DAYS = 30


def prefix(app: App) -> str:
    return f"fargo/{app.name}/{app.env}/"


def secret_id(app: App, name: str) -> str:
    if not _NAME.match(name):
        raise InputError(
            f"{name!r} is not a secret name fargo stores",
            hint="use letters, digits and _+=.@- (no /), e.g. STRIPE_KEY",
        )
    return f"{prefix(app)}{name}"


def set_command(app: App, name: str) -> str:
    """The command that stores `name` for this app and environment."""
    env = "" if app.env == "default" else f" --env {app.env}"
    return f"fargo secrets set {name}{env}"


def owned_name(app: App, secret: str) -> str | None:
    """NAME when `secret` is this app's `fargo/<app>/<env>/NAME`, else None."""
    rest = secret.removeprefix(prefix(app))
    return rest if rest != secret and _NAME.match(rest) else None


@dataclass(frozen=True)
class StoredSecret:
    name: str  # NAME, without the prefix
    arn: str
    created: datetime | None
    changed: datetime | None


def put_secret(aws: Aws, app: App, name: str, value: str) -> Literal["created", "updated"]:
    """Store `value` as NAME: a new secret, or a new version of an existing one."""
    if not value:
        raise InputError(f"no value given for {name}", hint="pipe the value in, or type it")
    secret = secret_id(app, name)
    try:
        aws.call("secretsmanager", "put_secret_value", SecretId=secret, SecretString=value)
    except AwsError as error:
        if error.code != "ResourceNotFoundException":
            raise
    else:
        return "updated"
    aws.call(
        "secretsmanager",
        "create_secret",
        Name=secret,
        SecretString=value,
        Description=f"{name} of fargo app {app.name} ({app.env})",
        Tags=[{"Key": "fargo:app", "Value": app.name}, {"Key": "fargo:env", "Value": app.env}],
    )
    return "created"


def list_secrets(aws: Aws, app: App) -> list[StoredSecret]:
    """The app's secrets by name, with dates; never a value."""
    listed = aws.paginate(
        "secretsmanager",
        "list_secrets",
        "SecretList",
        Filters=[{"Key": "name", "Values": [prefix(app)]}],
    )
    found = []
    for item in listed:
        # The name filter matches a prefix; the check here keeps `fargo/app/env-2/`
        # and secrets scheduled for deletion out.
        name = owned_name(app, item["Name"])
        if name is not None and not item.get("DeletedDate"):
            found.append(
                StoredSecret(
                    name, item["ARN"], item.get("CreatedDate"), item.get("LastChangedDate")
                )
            )
    return sorted(found, key=lambda s: s.name)


@dataclass(frozen=True)
class Deleted:
    name: str
    arn: str
    deletion_date: datetime | None  # None: deleted at once (--force)


def delete_secret(aws: Aws, app: App, name: str, *, force: bool) -> Deleted:
    """Schedule NAME's deletion after the recovery window, or delete it at once."""
    secret = secret_id(app, name)
    window = (
        {"ForceDeleteWithoutRecovery": True} if force else {"RecoveryWindowInDays": RECOVERY_DAYS}
    )
    try:
        done = aws.call("secretsmanager", "delete_secret", SecretId=secret, **window)
    except AwsError as error:
        if error.code == "ResourceNotFoundException":
            raise InputError(
                f"no secret {name} for {app.name} ({app.env}): {secret} does not exist",
                hint="`fargo secrets list` shows the names",
            ) from None
        raise
    return Deleted(name, done["ARN"], None if force else done.get("DeletionDate"))
