"""Errors of DNS providers: a provider that said no, and a zone or record fargo cannot use."""

from __future__ import annotations

from fargo.errors import FargoError, InputError


class DnsProviderError(FargoError):
    """A provider's API refused or failed a request (after retries where they made sense).

    `status` is the HTTP status, None when no answer came.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None,
        provider: str,
        operation: str,
        record: str,
        status: int | None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.operation = operation
        self.record = record
        self.status = status


class DnsZoneNotFound(InputError):  # noqa: N818 - reads as what the user meets
    """The zone named in fargo.yml is not one the provider's credentials can see."""


class MissingDnsCredentials(InputError):  # noqa: N818 - reads as what the user meets
    """A variable the DNS provider's credentials come from is not set."""

    def __init__(self, message: str, *, hint: str, variables: list[str]) -> None:
        super().__init__(message, hint=hint)
        self.variables = variables


def missing_credentials(provider: str, variables: list[str]) -> MissingDnsCredentials:
    names = " and ".join(variables)
    return MissingDnsCredentials(
        f"DNS provider {provider} needs {names} in the environment",
        hint=f"export {' '.join(f'{v}=...' for v in variables)}; fargo reads DNS "
        "credentials only from the environment, never from fargo.yml",
        variables=variables,
    )
