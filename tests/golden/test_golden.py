"""Manifest → templates and plan text, compared with reviewed files in tests/golden/<example>/.

Regenerate with `pytest tests/golden --update-golden`, then review every line of the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fargo.plan.planner import Plan, creation_plan
from fargo.plan.render import render_plan
from fargo.synth.common import STAMP_KEY
from tests.conftest import EXAMPLE_CASES
from tests.unit.synth_helpers import stacks_from_file

HERE = Path(__file__).parent


def _stable(body: dict) -> str:
    # The stamp carries fargo's version; a version bump alone must not churn the goldens.
    clean = json.loads(json.dumps(body))
    clean["Metadata"][STAMP_KEY].pop("version")
    return json.dumps(clean, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize(("manifest", "env"), EXAMPLE_CASES)
def test_templates_and_plan_match_golden(
    manifest: Path, env: str | None, request: pytest.FixtureRequest
) -> None:
    templates = stacks_from_file(manifest, env)
    folder = HERE / manifest.parent.name / (env or "default")
    produced = {f"{t.name}.json": _stable(t.body) for t in templates}
    produced["plan.txt"] = render_plan(Plan(tuple(creation_plan(t) for t in templates))) + "\n"
    if request.config.getoption("--update-golden"):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink()
        for name, text in produced.items():
            (folder / name).write_text(text)
    expected = {p.name: p.read_text() for p in folder.iterdir()} if folder.exists() else {}
    assert sorted(expected) == sorted(produced), "run pytest tests/golden --update-golden"
    for name, text in produced.items():
        assert text == expected[name], f"{folder.name}/{name} differs; review, then regenerate"
