"""The data-loss guard: no replacement or removal of a stateful resource without a flag."""

from __future__ import annotations

from dataclasses import dataclass

from fargo.aws.cloudformation import ResourceChange
from fargo.synth import origin_verify

# Resource types that hold data a user cannot get back by redeploying.
STATEFUL_TYPES = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::ElastiCache::ServerlessCache",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::CacheCluster",
        "AWS::SQS::Queue",
        "AWS::S3::Bucket",
        "AWS::SecretsManager::Secret",
    }
)

# Stateful by type, but holding only what fargo generates and writes everywhere it is used
# in the same deploy: CloudFront's origin header secret goes with `cdn:` and comes back new.
REGENERATED = frozenset({origin_verify.LOGICAL_ID})


@dataclass(frozen=True)
class UnsafeChange:
    stack: str
    change: ResourceChange

    @property
    def why(self) -> str:
        change = self.change
        if change.action == "Remove":
            return "would be deleted"
        if change.replacement == "Conditional":
            return "may be replaced (a new, empty resource)"
        changed = f" because {', '.join(change.details)} changed" if change.details else ""
        return f"would be replaced by a new, empty resource{changed}"

    def render(self) -> str:
        c = self.change
        return f"{self.stack}: {c.logical_id} ({c.resource_type}) {self.why}"


def unsafe_changes(stack: str, changes: tuple[ResourceChange, ...]) -> list[UnsafeChange]:
    return [
        UnsafeChange(stack, change)
        for change in changes
        if change.resource_type in STATEFUL_TYPES
        and change.logical_id not in REGENERATED
        and (change.action == "Remove" or change.replacement in ("True", "Conditional"))
    ]
