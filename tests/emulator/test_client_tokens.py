"""The emulator honours the change set calls' client tokens as AWS documents them.

CreateChangeSet's ClientToken and ExecuteChangeSet's ClientRequestToken exist so that a
retried call "knows that you're not attempting to create another change set with the same
name" / "to execute a change set to update a stack with the same name" (CloudFormation API
Reference). A repeat with the same token is the same call; another token is a new one.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

_TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def _create(cfn: Any, stack: str, name: str, token: str, kind: str = "CREATE") -> Any:
    return cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=json.dumps(_TEMPLATE),
        ClientToken=token,
    )


def _settled(cfn: Any, stack: str, *, statuses: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        found: dict[str, Any] = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if found["StackStatus"] in statuses:
            return found
        assert time.monotonic() < deadline, found["StackStatus"]
        time.sleep(0.1)


def test_create_change_set_repeated_with_its_token_is_the_same_change_set(aws: Any) -> None:
    cfn = aws("cloudformation")
    first = _create(cfn, "tokens", "fargo-1-a", "fargo-1-a")
    again = _create(cfn, "tokens", "fargo-1-a", "fargo-1-a")
    assert (again["Id"], again["StackId"]) == (first["Id"], first["StackId"])
    listed = cfn.list_change_sets(StackName="tokens")["Summaries"]
    assert [c["ChangeSetId"] for c in listed] == [first["Id"]]


def test_create_change_set_with_another_token_is_a_new_call(aws: Any) -> None:
    cfn = aws("cloudformation")
    _create(cfn, "tokens", "fargo-2-a", "token-one")
    with pytest.raises(ClientError) as refused:
        _create(cfn, "tokens", "fargo-2-a", "token-two")
    assert refused.value.response["Error"]["Code"] == "AlreadyExistsException"


def test_execute_change_set_repeated_with_its_token_succeeds_once(aws: Any) -> None:
    cfn = aws("cloudformation")
    made = _create(cfn, "tokens", "fargo-3-a", "fargo-3-a")
    cfn.execute_change_set(ChangeSetName=made["Id"], ClientRequestToken="run-1")
    cfn.execute_change_set(ChangeSetName=made["Id"], ClientRequestToken="run-1")
    stack = _settled(cfn, "tokens", statuses=("CREATE_COMPLETE", "ROLLBACK_COMPLETE"))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    events = cfn.describe_stack_events(StackName="tokens")["StackEvents"]
    started = [
        e
        for e in events
        if e["LogicalResourceId"] == "tokens" and e["ResourceStatus"] == "CREATE_IN_PROGRESS"
    ]
    assert len(started) == 1, "the repeat started a second operation"
    assert started[0].get("ClientRequestToken") == "run-1"


def test_execute_change_set_with_another_token_is_refused(aws: Any) -> None:
    cfn = aws("cloudformation")
    made = _create(cfn, "tokens", "fargo-4-a", "fargo-4-a")
    cfn.execute_change_set(ChangeSetName=made["Id"], ClientRequestToken="run-1")
    with pytest.raises(ClientError) as refused:
        cfn.execute_change_set(ChangeSetName=made["Id"], ClientRequestToken="run-2")
    assert refused.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
