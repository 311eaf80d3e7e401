"""The migration: a one-off Fargate task of the release stack's task definition, run with
the service's network and security group, waited for, its log lines streamed, its exit
read. Only an exit code of 0 is success: a task stopped before its container ran (no exit
code), by a timeout or by anyone else is a failure.

Self-contained: inputs are the app, the AWS facade, the deployed outputs and a reporter; the
result is a dataclass. Deploy runs it between the release and services stacks, and
`fargo migrate` runs it alone.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fargo.aws.ecs_tasks import private_address
from fargo.aws.facade import Aws
from fargo.aws.log_stream import LogStream
from fargo.aws.parameters import read_json, write_json
from fargo.errors import DeployFailed
from fargo.model.app import App
from fargo.outputs import DeployedOutputs
from fargo.progress import Reporter
from fargo.synth import outputs as out

# Lines of the task's log shown with a failure.
LAST_LINES = 20
_STARTED_BY = "fargo-migrate"


@dataclass(frozen=True)
class MigrationResult:
    task_arn: str
    task_definition_arn: str
    exit_code: int | None
    stop_code: str
    stopped_reason: str
    seconds: float
    last_lines: tuple[str, ...] = field(default_factory=tuple)
    timed_out: bool = False
    # An emulator that keeps records only started no container: nothing ran.
    not_run: bool = False

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.not_run

    def to_json(self) -> dict[str, object]:
        return {
            "task": self.task_arn,
            "task_definition": self.task_definition_arn,
            "exit_code": self.exit_code,
            "stop_code": self.stop_code,
            "stopped_reason": self.stopped_reason,
            "seconds": round(self.seconds, 1),
            "succeeded": self.succeeded,
            "not_run": self.not_run,
        }

    def line(self) -> str:
        return f"migration: task {self.task_id} exited {self.exit_code} in {self.seconds:.0f} s"

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]

    def failure(self) -> DeployFailed:
        """The error deploy and `fargo migrate` exit 1 with: the reason and the last lines."""
        if self.timed_out:
            what = "did not finish in time and was stopped"
        elif self.exit_code is None:
            what = "stopped without an exit code"
        else:
            what = f"exited with code {self.exit_code}"
        lines = "\n  ".join(self.last_lines) if self.last_lines else "(no log lines)"
        return DeployFailed(
            f"the migration (task {self.task_id}) {what}: {self.stop_code}: "
            f"{self.stopped_reason}\n  last log lines:\n  {lines}",
            hint="the services were not updated and still run the previous release; fix the "
            "migration (or the database) and run deploy again, which runs it again",
        )


class MigrationRunner:
    def __init__(
        self,
        app: App,
        aws: Aws,
        reporter: Reporter,
        *,
        poll_seconds: float = 2.0,
    ) -> None:
        if app.migration is None:
            raise ValueError("the app has no `migrate:`")
        self._app = app
        self._migration = app.migration
        self._aws = aws
        self._reporter = reporter
        self._poll = poll_seconds
        self._clock: Callable[[], float] = aws.clock

    def run(self, outputs: DeployedOutputs) -> MigrationResult:
        """Run the migration to its end; the result says whether it succeeded."""
        task_definition = outputs.release.migration_task_definition_arn
        network = outputs.network
        cluster = network.cluster_name
        if cluster is None:
            raise network.missing(out.CLUSTER_NAME)
        started = self._clock()
        task_arn = self._start(cluster, task_definition, network_configuration(outputs))
        self._reporter.note(f"migration: task {task_arn.rsplit('/', 1)[-1]} started")
        logs = self._log_stream(task_definition, task_arn)
        last: deque[str] = deque(maxlen=LAST_LINES)
        deadline = started + self._migration.timeout_seconds
        status = ""
        timed_out = False
        while True:
            task = self._describe(cluster, task_arn)
            for line in logs.read() if logs else ():
                last.append(line)
                self._reporter.note(f"migration | {line}")
            if task.get("lastStatus") != status:
                status = str(task.get("lastStatus"))
                self._reporter.note(f"migration: {status}")
            if status == "STOPPED":
                break
            if status == "RUNNING" and self._records_only(task):
                self._aws.call(
                    "ecs",
                    "stop_task",
                    cluster=cluster,
                    task=task_arn,
                    reason="fargo: the emulator runs no containers",
                )
                return MigrationResult(
                    task_arn=task_arn,
                    task_definition_arn=task_definition,
                    exit_code=None,
                    stop_code="UserInitiated",
                    stopped_reason="the emulator runs no containers",
                    seconds=self._clock() - started,
                    not_run=True,
                )
            if self._clock() > deadline and not timed_out:
                timed_out = True
                self._aws.call(
                    "ecs",
                    "stop_task",
                    cluster=cluster,
                    task=task_arn,
                    reason="fargo: the migration ran past its timeout",
                )
            self._aws.sleep(self._poll)
        for line in logs.read() if logs else ():  # what the container wrote last
            last.append(line)
            self._reporter.note(f"migration | {line}")
        return MigrationResult(
            task_arn=task_arn,
            task_definition_arn=task_definition,
            exit_code=_exit_code(task),
            stop_code=str(task.get("stopCode") or "unknown"),
            stopped_reason=str(task.get("stoppedReason") or "no reason given"),
            seconds=self._clock() - started,
            last_lines=tuple(last),
            timed_out=timed_out,
        )

    def _records_only(self, task: dict[str, Any]) -> bool:
        """A task an emulator reports RUNNING with no network interface address runs no
        container: the emulator keeps records only (on AWS a running Fargate task always has
        its interface's private address)."""
        return self._aws.config.endpoint_url is not None and private_address(task) is None

    def _start(self, cluster: str, task_definition: str, network: dict[str, Any]) -> str:
        response = self._aws.call(
            "ecs",
            "run_task",
            cluster=cluster,
            taskDefinition=task_definition,
            # On-demand Fargate: a Spot reclaim halfway through a migration helps no one.
            launchType="FARGATE",
            count=1,
            networkConfiguration=network,
            startedBy=_STARTED_BY,
            # A retried RunTask after a lost answer must not start a second migration.
            clientToken=str(uuid.uuid4()),
        )
        tasks = response.get("tasks") or []
        if not tasks:
            reasons = "; ".join(
                f"{f.get('arn', '')}: {f.get('reason', '')}" for f in response.get("failures", [])
            )
            raise DeployFailed(
                f"the migration task did not start: {reasons or 'ECS gave no reason'}",
                hint="the services were not updated; fix the cause and run deploy again",
            )
        return str(tasks[0]["taskArn"])

    def _describe(self, cluster: str, task_arn: str) -> dict[str, Any]:
        found = self._aws.call("ecs", "describe_tasks", cluster=cluster, tasks=[task_arn])
        tasks = found.get("tasks") or []
        if not tasks:
            # ECS forgets stopped tasks after about an hour, never while one is watched.
            return {"lastStatus": "STOPPED", "stoppedReason": "ECS no longer knows the task"}
        return dict(tasks[0])

    def _log_stream(self, task_definition: str, task_arn: str) -> LogStream | None:
        """The task's awslogs stream: `<prefix>/<container>/<task id>`, as ECS names it."""
        described = self._aws.call(
            "ecs", "describe_task_definition", taskDefinition=task_definition
        )["taskDefinition"]
        (container,) = described["containerDefinitions"]
        options = (container.get("logConfiguration") or {}).get("options") or {}
        group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
        if not group or not prefix:
            return None
        task_id = task_arn.rsplit("/", 1)[-1]
        return LogStream(self._aws, group, f"{prefix}/{container['name']}/{task_id}")


def network_configuration(outputs: DeployedOutputs) -> dict[str, Any]:
    """The services' own: their subnets, security group and public IP setting."""
    network = outputs.network
    return {
        "awsvpcConfiguration": {
            "subnets": list(network.task_subnet_ids),
            "securityGroups": [network.task_security_group_id],
            "assignPublicIp": network.assign_public_ip,
        }
    }


def _exit_code(task: dict[str, Any]) -> int | None:
    containers = task.get("containers") or []
    code = containers[0].get("exitCode") if containers else None
    return int(code) if code is not None else None


class MigrationRecord:
    """The task definition whose migration last succeeded, kept in the account (an SSM
    parameter), so CI and a laptop agree on whether this release still needs its
    migration: a failed one is not recorded, and the next deploy runs it again."""

    def __init__(self, app: App, aws: Aws) -> None:
        self._aws = aws
        self.name = f"/fargo/{app.name}/{app.env}/migrated"

    def migrated(self) -> str | None:
        found = read_json(self._aws, self.name)
        return str(found["task_definition"]) if found and "task_definition" in found else None

    def record(self, result: MigrationResult) -> None:
        write_json(
            self._aws,
            self.name,
            {"task_definition": result.task_definition_arn, "task": result.task_arn},
            "fargo: the release whose migration last succeeded",
        )

    def forget(self) -> None:
        write_json(self._aws, self.name, None, "")
