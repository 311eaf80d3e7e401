"""Pre-flight checks as data: what was looked up before anything is written, and how it went.

`plan` and `deploy` run the same checks (see `fargo.preflight`). Each check has a stable
name (`dns-zone`, `secret:<ENV>`, `cdn-distribution`, `image:<service>`, `bootstrap`) and a
status:

- OK: found as the manifest needs it;
- FAILED: missing or unusable; the command stops with exit 2 before any write;
- SKIPPED: not checked (no credentials for it, or nowhere fargo can ask);
- WARN: found wanting, but not fatal (an image another pipeline may still push); a
  `PlanWarning` says what.

Warnings have a stable `code` as well (`cdn-error-pages`, `image-not-found`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from fargo.errors import InputError

Status = Literal["OK", "FAILED", "SKIPPED", "WARN"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str  # what was looked up, and what was found
    hint: str | None = None  # what fixes a FAILED (or explains a SKIPPED) check

    def render(self) -> str:
        return f"{self.status:<7} {self.name}  {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "hint": self.hint}


@dataclass(frozen=True)
class PlanWarning:
    code: str
    message: str

    def render(self) -> str:
        return f"warning [{self.code}]: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Findings:
    """What one or more checks found: their results and the warnings they raised."""

    checks: tuple[Check, ...] = ()
    warnings: tuple[PlanWarning, ...] = field(default_factory=tuple)

    def __add__(self, other: Findings) -> Findings:
        return Findings(self.checks + other.checks, self.warnings + other.warnings)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "FAILED")

    @classmethod
    def of(cls, *checks: Check, warnings: Iterable[PlanWarning] = ()) -> Findings:
        return cls(checks, tuple(warnings))


def render_findings(checks: Iterable[Check], warnings: Iterable[PlanWarning]) -> list[str]:
    """The `checks:` section of plan's text output, then one line per warning."""
    checks = list(checks)
    lines = ["checks:", *(f"  {c.render()}" for c in checks)] if checks else []
    return lines + [w.render() for w in warnings]


class PreflightFailed(InputError):  # noqa: N818 - the name users see in --json output
    """One or more pre-flight checks failed: nothing was written."""

    def __init__(self, findings: Findings) -> None:
        failed = findings.failed
        names = ", ".join(c.name for c in failed)
        checks = "checks" if len(failed) > 1 else "check"
        super().__init__(
            f"pre-flight {checks} failed: {names}; nothing was changed",
            hint="; ".join(f"{c.name}: {c.hint}" for c in failed if c.hint) or None,
        )
        self.findings = findings

    def render(self) -> str:
        lines = [self.message]
        for check in self.findings.failed:
            lines.append(f"  {check.name}: {check.detail}")
            if check.hint:
                lines.append(f"    hint: {check.hint}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        data = super().to_json()
        data["checks"] = [c.to_json() for c in self.findings.checks]
        data["warnings"] = [w.to_json() for w in self.findings.warnings]
        return data
