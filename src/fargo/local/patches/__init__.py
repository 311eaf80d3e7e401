"""In-process fixes to ministack's emulation, applied before it serves.

fargo sends the emulator the templates it sends AWS, so where ministack falls
short of AWS the emulator is fixed here, never the template. This package runs
inside ministack's own virtualenv: it imports only the standard library and
ministack, never fargo.
"""

from collections.abc import Callable

from . import change_sets, ec2_network, ecs, rds, secrets_manager, templates
from ._ministack import SUPPORTED_VERSION, PatchError, check_version

__all__ = ["PATCHES", "SUPPORTED_VERSION", "PatchError", "apply_all"]

# One function per ministack gap; the names are what the launcher's banner lists.
PATCHES: dict[str, Callable[[], None]] = {
    "null-values-refused": templates.refuse_null_values,
    "ecs-task-definition-nested-keys": ecs.keep_nested_container_settings,
    "ecs-replacement-in-change-sets": ecs.report_ecs_replacement,
    "ec2-eip-nat-gateway-sg-rules": ec2_network.provision_network_types,
    "output-only-change-sets": change_sets.accept_output_only_change_sets,
    "change-set-by-stack-id": change_sets.find_change_sets_by_stack_id,
    "rds-replacement-in-change-sets": rds.report_database_replacement,
    "rds-update-replace-snapshot": rds.snapshot_replaced_databases,
    "secret-ref-is-arn": secrets_manager.ref_secret_as_arn,
}


def apply_all() -> list[str]:
    """Check the ministack release, apply every patch, name what was applied."""
    check_version()
    for patch in PATCHES.values():
        patch()
    return list(PATCHES)
