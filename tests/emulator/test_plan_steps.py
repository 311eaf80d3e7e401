"""`fargo plan --json` lists the steps deploy runs, and deploy's progress follows that very
list, step by step, on the emulator."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.emulator.helpers import run_fargo

# PlainReporter's line as a step starts: "[  1.2s] step apply-stack: <what>".
STARTED = re.compile(r"^\[\s*[\d.]+s\] step ([a-z-]+): (?!done, )(.*)$")


def test_deploy_runs_the_steps_plan_printed_in_their_order(
    fullstack: Path, emulator_endpoint: str, account: str
) -> None:
    """A fresh account (`account`): the first deploy of every stack, whatever ran before."""
    del account
    where = ("-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    planned = run_fargo("plan", *where, "--json")
    assert planned.returncode == 0, planned.stderr
    body = json.loads(planned.stdout)
    # The keys plan --json had before the steps are all still there.
    assert {"unchanged", "edge", "checks", "warnings", "stacks", "data_loss", "cost"} <= set(body)
    steps = body["steps"]
    kinds = [s["kind"] for s in steps]
    assert kinds[0] == "check-preflight"
    stacks = [s["stack"] for s in steps if s["kind"] == "apply-stack"]
    assert stacks == [s["name"] for s in body["stacks"]]
    assert all(s["action"] == "create" for s in steps if s["kind"] == "apply-stack")

    human = run_fargo("plan", *where)
    assert human.returncode == 0, human.stderr
    assert "deploy runs these steps:" in human.stdout

    deployed = run_fargo("deploy", *where)
    assert deployed.returncode == 0, deployed.stderr
    started = [m.groups() for line in deployed.stderr.splitlines() if (m := STARTED.match(line))]
    assert [kind for kind, _ in started] == kinds
    applied = [what.split(":")[0] for kind, what in started if kind == "apply-stack"]
    assert applied == stacks
    finished = [
        line for line in deployed.stderr.splitlines() if " step apply-stack: done, " in line
    ]
    assert [line.rsplit("done, ", 1)[1] for line in finished] == ["created"] * len(stacks)
