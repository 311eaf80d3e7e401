"""Which changes leave a retained resource behind, and when a stack policy is open."""

from __future__ import annotations

from fargo.aws.cloudformation import ResourceChange
from fargo.execute.leftovers import let_go, lets_go, retained_in
from fargo.execute.stack_policy import is_open

PROTECTING = {
    "Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": ["Update:Replace", "Update:Delete"],
            "Principal": "*",
            "Resource": ["LogicalResourceId/BucketUploads"],
        },
    ]
}
ALLOW_ALL = {"Statement": [PROTECTING["Statement"][0]]}


def test_a_policy_is_open_when_it_denies_nothing_the_template_protects() -> None:
    assert is_open(ALLOW_ALL, PROTECTING)
    assert is_open(None, PROTECTING)  # a stack that never got its policy
    assert not is_open(PROTECTING, PROTECTING)
    assert not is_open(ALLOW_ALL, None)  # nothing to protect
    assert not is_open(ALLOW_ALL, ALLOW_ALL)


def test_removals_and_replacements_of_buckets_and_queues_let_go() -> None:
    def change(kind: str, action: str, replacement: str = "") -> ResourceChange:
        return ResourceChange(action, "X", kind, replacement)

    assert lets_go([change("AWS::S3::Bucket", "Remove")])
    assert lets_go([change("AWS::SQS::Queue", "Modify", "True")])
    assert lets_go([change("AWS::SQS::Queue", "Modify", "Conditional")])
    assert not lets_go([change("AWS::SQS::Queue", "Modify", "False")])
    # DeletionPolicy Snapshot or Delete: nothing is kept under the old name
    assert not lets_go([change("AWS::RDS::DBInstance", "Remove")])


def test_what_a_stack_no_longer_holds_was_let_go() -> None:
    def resource(logical: str, kind: str, physical: str) -> dict[str, str]:
        return {"LogicalResourceId": logical, "ResourceType": kind, "PhysicalResourceId": physical}

    before = [
        resource("BucketUploads", "AWS::S3::Bucket", "app-uploads-1"),
        resource("QueueJobs", "AWS::SQS::Queue", "https://sqs/jobs"),
        resource("Database", "AWS::RDS::DBInstance", "db"),
    ]
    kept = retained_in("app-data", before)
    assert [(k.kind, k.identifier) for k in kept] == [
        ("bucket", "app-uploads-1"),
        ("queue", "https://sqs/jobs"),
    ]
    after = [before[1], resource("BucketFiles", "AWS::S3::Bucket", "app-files-2")]
    (gone,) = let_go(kept, after)
    assert (gone.logical_id, gone.identifier, gone.stack) == (
        "BucketUploads",
        "app-uploads-1",
        "app-data",
    )
