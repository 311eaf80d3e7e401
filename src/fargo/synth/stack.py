"""What synth produces: one template per stack, plus the parameters it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from fargo.model.app import StackKind


@dataclass(frozen=True)
class StackOutput:
    """A value that exists only once an upstream stack is deployed: its output `key`.

    The executor resolves it from the deployed stack; plan shows it by name until then.
    """

    stack: StackKind
    key: str

    def __str__(self) -> str:
        return f"<{self.stack.value}.{self.key}>"


@dataclass(frozen=True)
class PushedImage:
    """The image fargo builds for `service`, as `repository@sha256:...`: known only once it
    is built and pushed, which deploy does before any stack changes."""

    service: str

    def __str__(self) -> str:
        return f"<image of {self.service}, built at deploy>"


@dataclass(frozen=True)
class IssuedCertificate:
    """The ARN of the ACM certificate for the app's domain: requested and validated through
    the DNS provider before any stack changes. `cloudfront` certificates live in us-east-1,
    as CloudFront requires; `regional` ones in the app's region, for the load balancer."""

    scope: Literal["regional", "cloudfront"]

    def __str__(self) -> str:
        return f"<{self.scope} certificate, issued at deploy>"


ParameterValue = str | StackOutput | PushedImage | IssuedCertificate


@dataclass(frozen=True)
class StackTemplate:
    kind: StackKind
    name: str
    body: dict[str, Any]
    parameters: dict[str, ParameterValue] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # The data stack's stack policy: logical ids that must never be replaced or deleted.
    protected: tuple[str, ...] = ()
    termination_protection: bool = False

    @property
    def stack_policy(self) -> dict[str, Any] | None:
        """Denies replacing or deleting the stateful resources; everything else may change."""
        if not self.protected:
            return None
        return {
            "Statement": [
                {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": ["Update:Replace", "Update:Delete"],
                    "Principal": "*",
                    "Resource": [f"LogicalResourceId/{name}" for name in self.protected],
                },
            ]
        }
