"""AWS::SecretsManager::Secret: Ref is the secret's ARN.

Gap (ministack 1.5.33): the provisioner uses the secret's *name* as its
physical id, so ``Ref`` gives the name where AWS gives the ARN. Templates that
build ``ValueFrom: ${SecretArn}:password::`` for ECS, or IAM policy resources,
from that Ref got a value that is not an ARN. ministack's Secrets Manager
resolves names and ARNs alike, so the fix is only to hand CloudFormation the
ARN and to turn it back into the name the original handlers key their store by.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, registered

_TYPE = "AWS::SecretsManager::Secret"

Handler = Callable[..., Any]


def _store_key(resolve: Handler, physical_id: str) -> str:
    """The name the secret is stored under, for an ARN or a name."""
    key, _secret = resolve(physical_id)
    return str(key) if key is not None else physical_id


def _arn_result(result: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    _name, attributes = result
    return str(attributes["Arn"]), attributes


def _arn_handlers(entry: dict[str, Handler], resolve: Handler) -> dict[str, Handler]:
    create, update, delete = entry["create"], entry["update"], entry["delete"]

    def created(logical_id: str, props: dict[str, Any], stack_name: str) -> Any:
        return _arn_result(create(logical_id, props, stack_name))

    def updated(physical_id: str, *args: Any) -> Any:
        return _arn_result(update(_store_key(resolve, physical_id), *args))

    def deleted(physical_id: str, props: dict[str, Any]) -> None:
        delete(_store_key(resolve, physical_id), props)

    return {"create": created, "update": updated, "delete": deleted}


def ref_secret_as_arn() -> None:
    """Closes the gap in the module docstring: the Secret's physical id is its ARN."""
    resolve = attr(module("ministack.services.secretsmanager"), "_resolve")
    entry = registered(_TYPE)
    # The registry's handlers are swapped, not the module's functions: the
    # original update replaces a renamed secret through those, by name.
    entry.update(_arn_handlers(entry, resolve))
