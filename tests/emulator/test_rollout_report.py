"""Deploy reports each service's rollout: the services stack changes one service's task
definition, ECS rolls that service out (a new PRIMARY deployment), and the other service,
left as it was, keeps the deployment it had, which deploy says rather than reporting that
older deployment's time again."""

from __future__ import annotations

import json
from pathlib import Path

from tests.emulator.helpers import run_fargo

MANIFEST = """\
app: rolling
services:
  api:
    image: nginx:1.27
    env: {{ RELEASE: "{api}" }}
  mailer:
    image: nginx:1.27
    env: {{ RELEASE: "1" }}
"""


def _deploy(manifest: Path, endpoint: str, api_release: str) -> dict[str, dict[str, object]]:
    manifest.write_text(MANIFEST.format(api=api_release))
    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", endpoint, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return {r["service"]: r for r in json.loads(done.stdout)["rollouts"]}


def test_only_the_service_whose_task_definition_changed_reports_a_rollout(
    tmp_path: Path, emulator_endpoint: str, account: str
) -> None:
    del account
    manifest = tmp_path / "fargo.yml"
    first = _deploy(manifest, emulator_endpoint, "1")
    # Created: each service's first deployment is its rollout.
    assert {s: r["state"] for s, r in first.items()} == {"api": "COMPLETED", "mailer": "COMPLETED"}

    second = _deploy(manifest, emulator_endpoint, "2")
    assert second["api"]["state"] == "COMPLETED"
    assert second["mailer"] == {
        "service": "mailer",
        "state": "UNCHANGED",
        "reason": "",
        "seconds": None,
    }
