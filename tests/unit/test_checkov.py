"""checkov passes every template of every example and environment, and of the unit manifests
that use the features the example does not.

A check a template deliberately does not meet is skipped on its resource, with the reason:
`Metadata: {"checkov": {"skip": [{"id": "CKV_AWS_XX", "comment": "why"}]}}`, written by
`synth.common.skip_check`. checkov runs once per test session, offline, over one directory
that holds every template, plus a known-bad one that proves the scan can fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fargo.manifest.load import parse_manifest
from fargo.synth.bootstrap import STACK_NAME, bootstrap_template
from tests.conftest import EXAMPLE_CASES
from tests.unit.synth_helpers import stacks_from_file, stacks_from_text

# checkov pins boto3 and packaging exactly, so `make test` keeps it in a venv of its own
# (.venv-checkov, from scripts/checkov-requirements.txt); CHECKOV_BIN points elsewhere.
CHECKOV = Path(
    os.environ.get("CHECKOV_BIN")
    or Path(__file__).resolve().parents[2] / ".venv-checkov" / "bin" / "checkov"
)

# A scan of every template takes seconds. One that runs this long is waiting on the network,
# which it must never use.
TIMEOUT_SECONDS = 60

CHECK_ID = re.compile(r"^CKV2?_AWS_\d+$")

# What checkov reports as the reason of a skip that gave none.
NO_COMMENT = "No comment provided"

KNOWN_BAD = "known-bad"
BOOTSTRAP = STACK_NAME


def case_dir(manifest: Path, env: str | None) -> str:
    return f"{manifest.parent.name}-{env or 'default'}"


def feature_manifests() -> dict[str, str]:
    """The unit manifests, by test module: host routes, spot, ECR, ssm, Aurora Serverless,
    the app tier (cache, queues, buckets, mail, schedules, alarms)."""
    from tests.unit import (  # noqa: PLC0415 - test modules
        test_synth,
        test_synth_app_tier,
        test_synth_cdn_app,
        test_synth_edge,
        test_synth_https,
        test_synth_load_balancer,
    )

    return {
        "test_synth": test_synth.MANIFEST,
        "test_synth_app_tier": test_synth_app_tier.MANIFEST,
        "test_synth_cdn_app": test_synth_cdn_app.MANIFEST,
        "test_synth_edge": test_synth_edge.MANIFEST,
        "test_synth_https": test_synth_https.MANIFEST,
        "test_synth_load_balancer": test_synth_load_balancer.MANIFEST,
    }


def feature_cases() -> Iterator[tuple[str, str, str | None]]:
    from tests.unit import test_previews  # noqa: PLC0415 - a test module

    for name, text in feature_manifests().items():
        environments = parse_manifest(textwrap.dedent(text), "fargo.yml").manifest.environments
        for env in [None, *environments]:
            yield f"{name}-{env or 'default'}", text, env
    # A preview: every service on Spot, a host of its own, no cdn or mail.
    yield "test_previews-pr-7", test_previews.MANIFEST, "pr-7"


def known_bad_template() -> dict[str, Any]:
    """SSH open to the internet (CKV_AWS_24), once as is and once skipped with a reason."""

    def open_ssh() -> dict[str, Any]:
        rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
        return {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "ssh from anywhere", "SecurityGroupIngress": [rule]},
        }

    skipped = open_ssh()
    skipped["Metadata"] = {"checkov": {"skip": [{"id": "CKV_AWS_24", "comment": "a canary"}]}}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"OpenSsh": open_ssh(), "OpenSshSkipped": skipped},
    }


@dataclass(frozen=True)
class Scan:
    root: Path
    report: dict[str, Any]

    def results(self, kind: str, directory: str) -> list[dict[str, Any]]:
        """`kind` is passed, failed or skipped; `directory` is a case directory under root."""
        return [
            r for r in self.report["results"][f"{kind}_checks"] if self.directory_of(r) == directory
        ]

    def directory_of(self, result: dict[str, Any]) -> str:
        path = Path(result["file_abs_path"]).resolve().relative_to(self.root)
        return path.parts[0]

    def templates(self, directory: str) -> dict[str, dict[str, Any]]:
        """Template file name -> body, as checkov read them."""
        return {
            path.name: json.loads(path.read_text())
            for path in sorted((self.root / directory).glob("*.json"))
        }


def offline_environment() -> dict[str, str]:
    # No API key or platform URL reaches checkov (with one it would upload results), and
    # BC_SKIP_MAPPING keeps it from downloading the check-id mapping.
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BC_", "PRISMA_", "CKV_", "CHECKOV_"))
    }
    environ["BC_SKIP_MAPPING"] = "TRUE"
    return environ


def run_checkov(root: Path) -> Scan:
    argv = [
        str(CHECKOV),
        "--directory",
        str(root),
        "--framework",
        "cloudformation",
        "--skip-download",
        "--output",
        "json",
    ]
    try:
        # cwd=root: a .checkov.yaml in the repository never changes what the test sees.
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=offline_environment(),
            cwd=root,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        pytest.fail(f"checkov is not installed at {CHECKOV}: install the dev extras (make test)")
    except subprocess.TimeoutExpired:
        pytest.fail(f"checkov ran over {TIMEOUT_SECONDS}s: is it trying to reach the network?")
    # 0: no check failed; 1: some did. Anything else is checkov itself failing.
    assert done.returncode in {0, 1}, f"checkov exited {done.returncode}:\n{done.stderr}"
    output = json.loads(done.stdout)
    # One report per framework: a list when there are several.
    reports = output if isinstance(output, list) else [output]
    (report,) = (r for r in reports if r.get("check_type") == "cloudformation")
    return Scan(root.resolve(), report)


@pytest.fixture(scope="session")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    root = tmp_path_factory.mktemp("checkov")
    for case in EXAMPLE_CASES:
        manifest, env = case.values
        assert isinstance(manifest, Path)
        assert env is None or isinstance(env, str)
        directory = root / case_dir(manifest, env)
        directory.mkdir()
        for template in stacks_from_file(manifest, env):
            (directory / f"{template.name}.json").write_text(json.dumps(template.body, indent=1))
    for name, text, env in feature_cases():
        directory = root / name
        directory.mkdir()
        for template in stacks_from_text(text, env).values():
            (directory / f"{template.name}.json").write_text(json.dumps(template.body, indent=1))
    # The account and region's own stack, the same for every app.
    (root / BOOTSTRAP).mkdir()
    (root / BOOTSTRAP / f"{BOOTSTRAP}.json").write_text(json.dumps(bootstrap_template(), indent=1))
    (root / KNOWN_BAD).mkdir()
    (root / KNOWN_BAD / f"{KNOWN_BAD}.json").write_text(json.dumps(known_bad_template()))
    return run_checkov(root)


CASES = [
    *(pytest.param(case_dir(*case.values), id=case.id) for case in EXAMPLE_CASES),
    *(pytest.param(name, id=name) for name, _, _ in feature_cases()),
    pytest.param(BOOTSTRAP, id=BOOTSTRAP),
]


def resource_of(result: dict[str, Any]) -> str:
    """`AWS::EC2::SecurityGroup.Name` -> `Name`."""
    return str(result["resource"]).rsplit(".", 1)[-1]


def declared_skips(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in body.get("Resources", {}).items():
        for skip in (resource.get("Metadata") or {}).get("checkov", {}).get("skip", []):
            yield logical_id, skip


@pytest.mark.parametrize("directory", CASES)
def test_checkov_reads_every_template(scan: Scan, directory: str) -> None:
    """Zero failures means something only if checkov parsed and checked every template."""
    assert scan.report["summary"]["parsing_errors"] == 0, scan.report["results"].get(
        "parsing_errors"
    )
    checked = {
        Path(r["file_abs_path"]).name
        for kind in ("passed", "failed", "skipped")
        for r in scan.results(kind, directory)
    }
    assert set(scan.templates(directory)) <= checked


@pytest.mark.parametrize("directory", CASES)
def test_checkov_reports_no_failed_checks(scan: Scan, directory: str) -> None:
    failed = [
        f"{r['check_id']} {r['check_name']}: {r['resource']} in {Path(r['file_path']).name}"
        for r in scan.results("failed", directory)
    ]
    assert not failed, (
        "meet these checks in synth, or skip one that is deliberately not met with "
        "synth.common.skip_check(resource, id, reason):\n" + "\n".join(sorted(failed))
    )


@pytest.mark.parametrize("directory", CASES)
def test_every_skip_says_why(scan: Scan, directory: str) -> None:
    problems = [
        f"{name} {logical_id}: {skip}"
        for name, body in scan.templates(directory).items()
        for logical_id, skip in declared_skips(body)
        if not CHECK_ID.match(str(skip.get("id", "")))
        or not isinstance(skip.get("comment"), str)
        or not skip["comment"].strip()
    ]
    assert not problems, "a skip needs a check id and a written reason:\n" + "\n".join(problems)
    unexplained = [
        f"{r['check_id']} {r['resource']}"
        for r in scan.results("skipped", directory)
        if r["check_result"].get("suppress_comment", NO_COMMENT).strip() in {"", NO_COMMENT}
    ]
    assert not unexplained, "checkov skipped these without a reason:\n" + "\n".join(unexplained)


@pytest.mark.parametrize("directory", CASES)
def test_every_skip_is_applied(scan: Scan, directory: str) -> None:
    """checkov honours the skips in Metadata: each one shows in skipped_checks. One that
    does not is dead: a wrong check id, or the check is about another resource type."""
    applied = {(resource_of(r), r["check_id"]) for r in scan.results("skipped", directory)}
    dead = sorted(
        f"{skip.get('id')} on {logical_id} in {name}"
        for name, body in scan.templates(directory).items()
        for logical_id, skip in declared_skips(body)
        if (logical_id, skip.get("id")) not in applied
    )
    assert not dead, "checkov never applied these skips:\n" + "\n".join(dead)


def test_checkov_catches_a_known_bad_template(scan: Scan) -> None:
    """The checks above can fail, and a skip turns a failure into a skip with its reason."""
    failed = {(resource_of(r), r["check_id"]) for r in scan.results("failed", KNOWN_BAD)}
    skipped = {
        (resource_of(r), r["check_id"]): r["check_result"]["suppress_comment"]
        for r in scan.results("skipped", KNOWN_BAD)
    }
    assert ("OpenSsh", "CKV_AWS_24") in failed
    assert ("OpenSshSkipped", "CKV_AWS_24") not in failed
    assert skipped[("OpenSshSkipped", "CKV_AWS_24")] == "a canary"
