"""The `fargo-bootstrap` stack: what fargo itself keeps in an account and region, made once
on first use and shared by every app there.

- `LockTable`: one DynamoDB item per app and environment while a command writes to it
  (`fargo.lock`). Taken and renewed with conditional writes: SSM parameters have no
  compare-and-swap.
- `ArtifactBucket`: private, encrypted, versioned and kept, for the templates and releases
  fargo stores later.
"""

from __future__ import annotations

from typing import Any

from troposphere import Output, Ref, Tags, Template, dynamodb, s3

from fargo import __version__
from fargo.synth import outputs as out
from fargo.synth.buckets import private_bucket, tls_only
from fargo.synth.common import STAMP_KEY, add, skip_check

STACK_NAME = "fargo-bootstrap"
# Raised on purpose when the template changes, so an older stack is updated on next use.
VERSION = 1
LOCK_KEY = "pk"
TAGS = {"fargo:stack": "bootstrap"}


def bootstrap_template() -> dict[str, Any]:
    template = Template(Description="fargo bootstrap: deploy locks and the artifact bucket")
    template.set_version("2010-09-09")
    template.set_metadata({STAMP_KEY: {"version": __version__, "stack": "bootstrap"}})
    table = dynamodb.Table(
        "LockTable",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            dynamodb.AttributeDefinition(AttributeName=LOCK_KEY, AttributeType="S")
        ],
        KeySchema=[dynamodb.KeySchema(AttributeName=LOCK_KEY, KeyType="HASH")],
        SSESpecification=dynamodb.SSESpecification(SSEEnabled=True),
        PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True
        ),
        Tags=Tags(**TAGS),
    )
    add(template, table, "one item per app and environment while a command writes to it")
    skip_check(
        table,
        "CKV_AWS_119",
        "holds only who deploys what and since when, never app data: the AWS-managed key "
        "suffices, and a customer key would cost a dollar a month in every account and region",
    )
    bucket = private_bucket(
        "ArtifactBucket",
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        LifecycleConfiguration=s3.LifecycleConfiguration(
            Rules=[
                s3.LifecycleRule(
                    Id="expire-old-versions",
                    Status="Enabled",
                    NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(NoncurrentDays=90),
                    AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                        DaysAfterInitiation=7
                    ),
                )
            ]
        ),
        Tags=Tags(**TAGS),
    )
    add(template, bucket, "fargo's templates and releases: private, versioned, kept")
    skip_check(
        bucket,
        "CKV_AWS_18",
        "access logging needs a second bucket and bills per request; only fargo writes here, "
        "and CloudTrail records who called it",
    )
    add(
        template,
        s3.BucketPolicy(
            "ArtifactBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument={"Version": "2012-10-17", "Statement": [tls_only(bucket)]},
        ),
        "refuses every request to the artifact bucket not made over TLS",
    )
    template.add_output(Output(out.LOCK_TABLE, Value=Ref(table), Description="lock table"))
    template.add_output(
        Output(out.ARTIFACT_BUCKET, Value=Ref(bucket), Description="artifact bucket")
    )
    template.add_output(
        Output(out.BOOTSTRAP_VERSION, Value=str(VERSION), Description="bootstrap template version")
    )
    body: dict[str, Any] = template.to_dict()
    return body
