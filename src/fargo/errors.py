"""Errors a user can meet. Each says what happened, where, and what to do next.

Exit codes are part of the CLI contract: 0 ok, 1 failed, 2 bad input, 3 refused as unsafe.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNSAFE = 3


class FargoError(Exception):
    """Base of every error fargo raises on purpose; the CLI prints it without a traceback."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where

    def render(self) -> str:
        head = f"{self.where}: {self.message}" if self.where else self.message
        return f"{head}\n  hint: {self.hint}" if self.hint else head

    def to_json(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "where": self.where,
            "hint": self.hint,
            "exit_code": self.exit_code,
        }


class InputError(FargoError):
    """The user's input (manifest, flags, environment) is wrong."""

    exit_code = EXIT_BAD_INPUT


class ManifestProblem:
    """One problem in fargo.yml, located by line and YAML path."""

    __slots__ = ("file", "hint", "line", "message", "path")

    def __init__(
        self, file: str, line: int | None, path: str, message: str, hint: str | None
    ) -> None:
        self.file = file
        self.line = line
        self.path = path
        self.message = message
        self.hint = hint

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.path}:" if self.path else ""
        text = f"{where}:{key} {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class ManifestError(InputError):
    """fargo.yml is malformed; carries every problem found, each with file:line."""

    def __init__(self, problems: list[ManifestProblem]) -> None:
        first = problems[0]
        super().__init__(first.message, hint=first.hint, where=first.file)
        self.problems = problems

    def render(self) -> str:
        return "\n".join(p.render() for p in self.problems)

    def to_json(self) -> dict[str, object]:
        data = super().to_json()
        data["problems"] = [p.to_json() for p in self.problems]
        return data


class UnsafeChange(FargoError):  # noqa: N818 - reads as what it is: a refusal, not a crash
    """A change would destroy data or infrastructure and no flag allowed it."""

    exit_code = EXIT_UNSAFE


class AwsError(FargoError):
    """An AWS call failed; the message names the call and AWS's own reason."""

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class DeployFailed(FargoError):  # noqa: N818 - the name users see in --json output
    """A stack operation failed and was rolled back."""
