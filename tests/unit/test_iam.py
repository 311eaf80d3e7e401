"""Least privilege, read from every IAM policy in every example template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE_CASES
from tests.unit.synth_helpers import stacks_from_file, stacks_from_text

# Actions AWS offers no resource-level permission for; `*` resources are allowed only here.
NO_RESOURCE_LEVEL = {"ecr:GetAuthorizationToken"}


def statements(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for resource in body["Resources"].values():
        for policy in resource.get("Properties", {}).get("Policies", []):
            found.extend(policy["PolicyDocument"]["Statement"])
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found.extend(resource["Properties"]["PolicyDocument"]["Statement"])
        if resource["Type"] == "AWS::KMS::Key":
            # In a key policy, Resource "*" means the key itself; actions are still checked.
            found.extend(
                {**s, "Resource": "key"} for s in resource["Properties"]["KeyPolicy"]["Statement"]
            )
    return found


def check(body: dict[str, Any]) -> int:
    checked = 0
    for statement in statements(body):
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        assert all("*" not in a for a in actions), statement
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        if "*" in resources:
            assert set(actions) <= NO_RESOURCE_LEVEL, statement
        checked += 1
    return checked


@pytest.mark.parametrize(("manifest", "env"), EXAMPLE_CASES)
def test_example_policies_grant_no_wildcard_actions(manifest: Path, env: str | None) -> None:
    assert sum(check(t.body) for t in stacks_from_file(manifest, env)) > 0


def test_ecr_image_gets_a_scoped_pull_and_secrets_are_scoped() -> None:
    text = """\
    app: shop
    services:
      api:
        image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1
        secrets: { KEY: "secretsmanager:shop/key" }
    """
    stacks = stacks_from_text(text)
    (services,) = [t for t in stacks.values() if t.name.endswith("services")]
    by_sid = {s["Sid"]: s for s in statements(services.body)}
    assert check(services.body) == 4
    pull = by_sid["PullOwnImage"]["Resource"][0]["Fn::Sub"]
    assert pull.endswith(":ecr:eu-west-1:123456789012:repository/shop/api")
    assert by_sid["ReadOwnSecrets"]["Resource"][0]["Fn::Sub"].endswith(":secret:shop/key-??????")
