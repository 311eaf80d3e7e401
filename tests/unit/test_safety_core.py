"""The safety core on CloudFormation's own answers: the data-loss guard, the executor's
re-guard and stack-policy lifting, and the root cause of a failed stack.

The answers are recorded in tests/unit/fixtures/cloudformation/, in the shapes of AWS's
CloudFormation API Reference:
- describe_change_set_*.json: DescribeChangeSet (ResourceChange: Action, Replacement
  True | False | Conditional, Scope, PolicyAction; ResourceChangeDetail: Target with
  Attribute, Name and RequiresRecreation, Evaluation Static | Dynamic, ChangeSource,
  CausingEntity). Replacement follows the documented rule: RequiresRecreation Always with
  Evaluation Static is True, with Evaluation Dynamic is Conditional. The data change set
  comes in two pages joined by NextToken.
- describe_stack_events_*.json: DescribeStackEvents, newest first, as the API returns
  them; the cascade follows the user guide's "Monitor the progress of a stack update"
  (a failed resource, the others "Resource update cancelled", then the stack's
  UPDATE_ROLLBACK_IN_PROGRESS naming the failed resources) and its create counterpart.
Each answer goes through botocore's Stubber, which checks it against the service model,
and through fargo's own CloudFormation calls, as in a deploy.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from fargo.aws.cloudformation import ChangeSet, CloudFormation, DeployedStack, StackEvent
from fargo.aws.facade import Aws
from fargo.errors import DeployFailed, UnsafeChange
from fargo.execute.executor import Executor
from fargo.execute.watch import StackWatcher, root_cause
from fargo.model.app import StackKind
from fargo.plan.guard import unsafe_changes
from fargo.plan.planner import Plan, Planner, StackPlan
from fargo.progress import SilentReporter
from fargo.synth.stack import StackTemplate
from tests.unit.stubbed_aws import FakeTime, stubbed

FIXTURES = Path(__file__).parent / "fixtures" / "cloudformation"
DATA_STACK = "shop-prod-data"
_TIMES = ("Timestamp", "CreationTime", "LastUpdatedTime")


def _datetimes(value: Any) -> Any:
    """botocore hands timestamps over parsed: so does the recorded answer."""
    if isinstance(value, list):
        return [_datetimes(v) for v in value]
    if isinstance(value, dict):
        return {
            k: datetime.fromisoformat(v.replace("Z", "+00:00"))
            if k in _TIMES and isinstance(v, str)
            else _datetimes(v)
            for k, v in value.items()
        }
    return value


def recorded(name: str) -> Any:
    return _datetimes(json.loads((FIXTURES / name).read_text()))


def _change_set(aws: Aws, fixture: str) -> ChangeSet:
    """The recorded DescribeChangeSet pages, read by fargo's own describe_change_set."""
    pages = recorded(fixture)
    pages = pages if isinstance(pages, list) else [pages]
    change_set_id = pages[0]["ChangeSetId"]
    with stubbed(aws, "cloudformation") as stub:
        token = None
        for page in pages:
            expected = {"ChangeSetName": change_set_id, **({"NextToken": token} if token else {})}
            stub.add_response("describe_change_set", page, expected)
            token = page.get("NextToken")
        return CloudFormation(aws).describe_change_set(change_set_id)


def _events(aws: Aws, fixture: str, stack: str) -> list[StackEvent]:
    with stubbed(aws, "cloudformation") as stub:
        stub.add_response("describe_stack_events", recorded(fixture), {"StackName": stack})
        return CloudFormation(aws).events(stack)


# -- the data-loss guard ------------------------------------------------------------------


def test_the_guard_refuses_replacing_or_removing_data_and_lets_the_rest_through(
    aws: Aws,
) -> None:
    change_set = _change_set(aws, "describe_change_set_data.json")
    # Both pages are read: the removal of a bucket sits on the second one.
    assert [c.logical_id for c in change_set.changes] == [
        "Database",
        "DatabaseSecurityGroup",
        "QueueJobs",
        "BucketUploads",
        "BucketExports",
        "QueueMail",
    ]
    unsafe = {u.change.logical_id: u.why for u in unsafe_changes(DATA_STACK, change_set.changes)}
    # Replacement True of a database, Conditional of a queue, Remove of a bucket: each one
    # would leave a new, empty resource (or none). A security group replaced holds no data,
    # a tag change replaces nothing, an added queue loses nothing.
    assert unsafe == {
        "Database": "would be replaced by a new, empty resource because Engine, "
        "EngineVersion changed",
        "QueueJobs": "may be replaced (a new, empty resource)",
        "BucketExports": "would be deleted",
    }


def test_the_regenerated_origin_secret_may_go_without_the_flag(aws: Aws) -> None:
    change_set = _change_set(aws, "describe_change_set_network.json")
    assert [(c.action, c.logical_id) for c in change_set.changes] == [
        ("Remove", "OriginVerifySecret"),
        ("Modify", "HttpListener"),
    ]
    assert unsafe_changes("shop-prod-network", change_set.changes) == []


# -- root_cause ----------------------------------------------------------------------------


def test_the_root_cause_of_a_failed_update_is_the_first_failure_not_the_cancellations(
    aws: Aws,
) -> None:
    newest_first = _events(aws, "describe_stack_events_failed_update.json", DATA_STACK)
    # The watcher streams them oldest first; either way the cause is the database's.
    for events in (list(reversed(newest_first)), newest_first):
        cause = root_cause(events)
        assert cause is not None
        assert (cause.logical_id, cause.status) == ("Database", "UPDATE_FAILED")
        assert "Cannot upgrade postgres from 16.3 to 15.7" in cause.reason


def test_the_root_cause_of_a_failed_create_skips_creation_cancelled(aws: Aws) -> None:
    events = _events(aws, "describe_stack_events_failed_create.json", "shop-prod-network")
    cause = root_cause(list(reversed(events)))
    assert cause is not None
    assert cause.logical_id == "Cluster"
    assert "not authorized to perform: ecs:CreateCluster" in cause.reason


def test_with_only_consequences_the_first_of_them_is_named(aws: Aws) -> None:
    events = _events(aws, "describe_stack_events_failed_update.json", DATA_STACK)
    cancelled = [e for e in reversed(events) if e.reason == "Resource update cancelled"]
    cause = root_cause(cancelled)
    assert cause is not None
    assert cause.logical_id == "CacheSecurityGroup"  # the older of the two
    assert root_cause([e for e in events if not e.failed]) is None


# -- the executor: re-guard and stack-policy lifting -----------------------------------------

_PROTECTING = {
    "Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": ["Update:Replace", "Update:Delete"],
            "Principal": "*",
            "Resource": ["LogicalResourceId/Database"],
        },
    ]
}
_ALLOW_ALL = {"Statement": [_PROTECTING["Statement"][0]]}
_STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/shop-prod-data/"
    "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
)


def _template(parameters: dict[str, str]) -> StackTemplate:
    body = {"Resources": {"Database": {"Type": "AWS::RDS::DBInstance", "Properties": {}}}}
    return StackTemplate(
        StackKind.DATA, DATA_STACK, body, dict(parameters), protected=("Database",)
    )


def _described(status: str) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": DATA_STACK,
                "StackId": _STACK_ID,
                "StackStatus": status,
                "CreationTime": datetime.fromisoformat("2024-06-01T08:00:00+00:00"),
                "EnableTerminationProtection": True,
            }
        ]
    }


def _deployed() -> DeployedStack:
    return DeployedStack(
        DATA_STACK, _STACK_ID, "UPDATE_COMPLETE", "", {}, {}, {}, None, termination_protection=True
    )


def apply(executor: Executor, plan: Plan) -> None:
    """What deploy does with a plan of one stack: the guard on the whole plan, then the
    stack's step (fargo.deployer, fargo.steps.handlers.Stacks)."""
    executor.prepare(plan)
    (stack,) = plan.stacks
    executor.apply_stack(stack, {})


def _executor(aws: Aws, time: FakeTime, *, allow_data_loss: bool) -> Executor:
    cfn, reporter = CloudFormation(aws), SilentReporter()
    planner = Planner(cfn, reporter, sleep=time.sleep, clock=time.clock)
    watcher = StackWatcher(cfn, reporter, sleep=time.sleep, clock=time.clock)
    return Executor(cfn, planner, watcher, reporter, allow_data_loss=allow_data_loss)


def _policy_is_closed(stub: Stubber) -> None:
    """close_open_policies: the deployed stack still denies what its template protects."""
    stub.add_response("describe_stacks", _described("UPDATE_COMPLETE"), {"StackName": DATA_STACK})
    stub.add_response(
        "get_stack_policy", {"StackPolicyBody": json.dumps(_PROTECTING)}, {"StackName": DATA_STACK}
    )


def test_a_change_set_made_again_at_deploy_is_guarded_again_and_never_executed(
    aws: Aws, time: FakeTime
) -> None:
    """Planned safe; an input moved before the stack's turn, and the new change set would
    replace the database. Deploy refuses it, executes nothing, and leaves no change set."""
    planned = ChangeSet("arn:planned", DATA_STACK, "CREATE_COMPLETE", "", ())
    stack = StackPlan(
        _template({"DatabaseEngine": "mysql"}),
        "update",
        _deployed(),
        {"DatabaseEngine": "postgres"},
        planned,
    )
    pages = recorded("describe_change_set_data.json")
    fresh_id = pages[0]["ChangeSetId"]
    executor = _executor(aws, time, allow_data_loss=False)
    with stubbed(aws, "cloudformation") as stub:
        _policy_is_closed(stub)
        stub.add_response("delete_change_set", {}, {"ChangeSetName": "arn:planned"})
        stub.add_response("create_change_set", {"Id": fresh_id, "StackId": _STACK_ID}, None)
        stub.add_response("describe_change_set", pages[0], {"ChangeSetName": fresh_id})
        stub.add_response(
            "describe_change_set",
            pages[1],
            {"ChangeSetName": fresh_id, "NextToken": pages[0]["NextToken"]},
        )
        stub.add_response("delete_change_set", {}, {"ChangeSetName": fresh_id})
        # No execute_change_set and no set_stack_policy are queued: the Stubber fails on either.
        with pytest.raises(UnsafeChange) as refused:
            apply(executor, Plan((stack,)))
    assert "Database (AWS::RDS::DBInstance) would be replaced" in refused.value.message
    assert "BucketExports (AWS::S3::Bucket) would be deleted" in refused.value.message


def test_the_lifted_policy_is_put_back_when_the_update_fails_and_the_cause_is_named(
    aws: Aws, time: FakeTime
) -> None:
    """--allow-data-loss: the stack's policy is opened for the update only. The update fails
    (AWS's cascade of events); the template's policy goes back before the error surfaces."""
    change_set = _change_set(aws, "describe_change_set_data.json")
    unsafe = tuple(unsafe_changes(DATA_STACK, change_set.changes))
    stack = StackPlan(_template({}), "update", _deployed(), {}, change_set, unsafe=unsafe)
    events = recorded("describe_stack_events_failed_update.json")
    executor = _executor(aws, time, allow_data_loss=True)
    with stubbed(aws, "cloudformation") as stub:
        _policy_is_closed(stub)
        # A bucket and a queue may go: what they hold is listed before the update.
        stub.add_response(
            "list_stack_resources", {"StackResourceSummaries": []}, {"StackName": DATA_STACK}
        )
        stub.add_response(
            "set_stack_policy",
            {},
            {"StackName": DATA_STACK, "StackPolicyBody": json.dumps(_ALLOW_ALL, sort_keys=True)},
        )
        stub.add_response(
            "describe_stack_events", {"StackEvents": events["StackEvents"][-1:]}, {"StackName": ANY}
        )
        stub.add_response(
            "execute_change_set",
            {},
            {"ChangeSetName": change_set.change_set_id, "ClientRequestToken": ANY},
        )
        stub.add_response(
            "describe_stacks", _described("UPDATE_ROLLBACK_COMPLETE"), {"StackName": DATA_STACK}
        )
        stub.add_response("describe_stack_events", events, {"StackName": _STACK_ID})
        stub.add_response(
            "set_stack_policy",
            {},
            {"StackName": DATA_STACK, "StackPolicyBody": json.dumps(_PROTECTING, sort_keys=True)},
        )
        with pytest.raises(DeployFailed) as failed:
            apply(executor, Plan((stack,), unsafe))
    message = failed.value.message
    assert "update failed and was rolled back (UPDATE_ROLLBACK_COMPLETE)" in message
    assert "Database (AWS::RDS::DBInstance): Resource handler returned message" in message
    assert "cancelled" not in message
