"""Small JSON records fargo keeps in the account as SSM parameters (the edge ledger, the
leftovers): read, written whole, and deleted once empty. SSM is the store because every
machine that runs fargo for the app (a laptop, CI) reads the same one."""

from __future__ import annotations

import json
from typing import Any

from fargo.aws.facade import Aws
from fargo.errors import AwsError


def read_json(aws: Aws, name: str) -> dict[str, Any] | None:
    """The record, or None while there is none."""
    try:
        response = aws.call("ssm", "get_parameter", Name=name)
    except AwsError as error:
        if error.code == "ParameterNotFound":
            return None
        raise
    body = json.loads(response["Parameter"]["Value"])
    return body if isinstance(body, dict) else None


def write_json(aws: Aws, name: str, body: dict[str, Any] | None, description: str) -> None:
    """Store `body` whole (keys sorted, so equal records are equal text); None deletes it."""
    if body is None:
        try:
            aws.call("ssm", "delete_parameter", Name=name)
        except AwsError as error:
            if error.code != "ParameterNotFound":
                raise
        return
    aws.call(
        "ssm",
        "put_parameter",
        Name=name,
        Value=json.dumps(body, sort_keys=True),
        Type="String",
        Overwrite=True,
        Description=description,
    )
