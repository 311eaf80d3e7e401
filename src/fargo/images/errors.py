"""Errors of image push: a layout that cannot be pushed as it is, and a registry that said no.

Both are fargo errors, so the CLI prints them with their hint and no traceback.
"""

from __future__ import annotations

from fargo.errors import FargoError, InputError


class LayoutError(InputError):
    """The OCI image layout on disk is missing, malformed or corrupt."""


class RegistryError(FargoError):
    """A registry request failed for good (after retries where retrying made sense).

    `status` is the HTTP status (None when no answer came) and `code` the first
    distribution error code of the answer (`NAME_UNKNOWN`, `DENIED`, ...), when it had one.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
