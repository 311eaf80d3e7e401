"""What the checks look at, and where they may ask."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fargo.aws.facade import Aws
from fargo.edge.dns.provider import DnsProvider
from fargo.model.app import App


@dataclass
class Preflight:
    """`dns` builds the domain's provider from the environment (it raises when a credential
    is missing); `aws_in` gives a facade in another region. `deploying`: deploy must write
    where plan only reads, so a check plan may skip (no DNS credentials) fails for it."""

    app: App
    aws: Aws
    dns: Callable[[], DnsProvider]
    aws_in: Callable[[str], Aws]
    deploying: bool = False
    _account: str | None = field(default=None, repr=False)

    @property
    def account(self) -> str:
        """The account the credentials act in (one STS call, made when first needed)."""
        if self._account is None:
            identity = self.aws.call("sts", "get_caller_identity")
            self._account = str(identity["Account"])
        return self._account
