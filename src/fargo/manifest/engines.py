"""The database engine versions fargo supports, per engine.

A bare major maps to the minor fargo deploys (fargo.model.profiles). A full version must be
one RDS still creates new databases on: the minor fargo maps to and the one before it
(RDS deprecates older minors on its release calendar; fargo moves this table with it).
Anything else would fail at deploy, after other stacks changed.
"""

from __future__ import annotations

# A bare major version maps to a current minor: RDS no longer accepts new instances on a
# bare "16", and every Aurora minor listed here supports 0 ACU auto-pause. A full version
# in the manifest (version: "16.10") is passed through unchanged.
POSTGRES_VERSIONS = {"17": "17.6", "16": "16.10", "15": "15.14", "14": "14.19"}
AURORA_POSTGRES_VERSIONS = {"17": "17.6", "16": "16.9", "15": "15.13", "14": "14.18"}

# engine → major → full versions accepted besides the bare major.
SUPPORTED: dict[str, dict[str, tuple[str, ...]]] = {
    "postgres": {
        "17": ("17.5", "17.6"),
        "16": ("16.9", "16.10"),
        "15": ("15.13", "15.14"),
        "14": ("14.18", "14.19"),
    },
    "aurora-postgresql": {
        "17": ("17.5", "17.6"),
        "16": ("16.8", "16.9"),
        "15": ("15.12", "15.13"),
        "14": ("14.17", "14.18"),
    },
}
MAPPED = {"postgres": POSTGRES_VERSIONS, "aurora-postgresql": AURORA_POSTGRES_VERSIONS}


def version_problem(engine: str, version: str) -> tuple[str, str] | None:
    """(message, hint) when `engine` does not offer `version` in fargo, else None."""
    offered = SUPPORTED[engine]
    if version in offered:
        return None
    major = version.split(".", 1)[0]
    if major in offered and version in offered[major]:
        return None
    what = "Aurora PostgreSQL" if engine == "aurora-postgresql" else "RDS for PostgreSQL"
    if major in offered:
        return (
            f"{what} {version} is not a version fargo deploys",
            f'write version: "{major}" (fargo deploys {MAPPED[engine][major]}) or one of '
            + ", ".join(offered[major]),
        )
    return (
        f"`{version}` is not a {what} major version fargo deploys",
        "use one of " + ", ".join(f'"{m}"' for m in offered),
    )
