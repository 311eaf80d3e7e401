"""The command line imports what a command runs, when it runs: `fargo --help` and `fargo
render` must not pay for boto3, httpx or rich (bench/cli.py times them; these tests only
say which modules a fresh interpreter loaded, so an eager import anywhere fails them), nor
for the manifest models' validators before it validates."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLES
from tests.module_probe import loaded_by, probe

# Costly to import, and needed by some commands only.
AWS_AND_TERMINAL = {"boto3", "botocore", "s3transfer", "urllib3", "httpx", "httpcore", "rich"}
# What reading and synthesizing the manifest needs, and `--help` does not.
MANIFEST_AND_TEMPLATES = {"pydantic", "pydantic_core", "yaml", "troposphere", "cfn_flip"}


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["render"],
        ["plan"],
        ["deploy"],
        ["status"],
        ["destroy"],
        ["cost"],
        ["push"],
        ["build"],
        ["image", "push"],
        ["previews", "prune"],
        ["secrets", "delete"],
        ["local", "start"],
        ["migrate"],
        ["releases"],
    ],
    ids=lambda command: " ".join(command) or "fargo",
)
def test_help_loads_neither_aws_nor_the_manifest_models(command: list[str]) -> None:
    loaded = loaded_by([*command, "--help"])
    assert "click" in loaded  # the probe ran the command line
    assert loaded.isdisjoint(AWS_AND_TERMINAL | MANIFEST_AND_TEMPLATES), sorted(
        loaded & (AWS_AND_TERMINAL | MANIFEST_AND_TEMPLATES)
    )


def test_render_reads_and_synthesizes_without_loading_aws_clients() -> None:
    loaded = loaded_by(["render", "-f", str(EXAMPLES / "fullstack" / "fargo.yml")])
    assert {"pydantic", "troposphere"} <= loaded  # it did render
    assert loaded.isdisjoint(AWS_AND_TERMINAL), sorted(loaded & AWS_AND_TERMINAL)


def test_importing_the_manifest_models_builds_no_validator() -> None:
    """A model's validator is built when it is first used (`defer_build`): a manifest is
    validated through `Manifest`'s, which embeds the others', so building one per model at
    import would be work every command pays for nothing."""
    script = (
        "import json\n"
        "from fargo.manifest import models\n"
        "from fargo.manifest.base import Strict\n"
        "def every(cls):\n"
        "    for sub in cls.__subclasses__():\n"
        "        yield sub\n"
        "        yield from every(sub)\n"
        "print(json.dumps({m.__name__: m.__pydantic_complete__ for m in every(Strict)}))\n"
    )
    built = probe(script)
    assert "Manifest" in built  # the probe saw the models
    assert not any(built.values()), sorted(name for name, ready in built.items() if ready)
