"""S3 buckets: private, encrypted, versioned, TLS-only, and kept when the stack goes."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template, s3

from fargo.model.app import App, Bucket
from fargo.synth.common import add, logical_id, output, skip_check


def add_bucket(template: Template, app: App, bucket: Bucket) -> list[str]:
    """Returns the logical ids that hold data."""
    prefix = f"Bucket{logical_id(bucket.name)}"
    extra: dict[str, object] = {}
    if bucket.versioning:
        extra["VersioningConfiguration"] = s3.VersioningConfiguration(Status="Enabled")
        extra["LifecycleConfiguration"] = s3.LifecycleConfiguration(
            Rules=[
                s3.LifecycleRule(
                    Id="expire-old-versions",
                    Status="Enabled",
                    NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                        NoncurrentDays=bucket.expire_noncurrent_days
                    ),
                    AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                        DaysAfterInitiation=7
                    ),
                )
            ]
        )
    resource = s3.Bucket(
        prefix,
        BucketEncryption=s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                        SSEAlgorithm="AES256"
                    ),
                    BucketKeyEnabled=True,
                )
            ]
        ),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        OwnershipControls=s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        **extra,
    )
    resource.DeletionPolicy = "Retain"
    resource.UpdateReplacePolicy = "Retain"
    add(template, resource, f"bucket {bucket.name}: private, encrypted, kept on destroy")
    skip_check(
        resource,
        "CKV_AWS_18",
        "access logging needs a second bucket and bills per request; CloudTrail data events "
        "can be turned on per account when an audit trail is required",
    )
    if not bucket.versioning:
        skip_check(resource, "CKV_AWS_21", "versioning turned off in fargo.yml")
    add(
        template,
        s3.BucketPolicy(
            f"{prefix}Policy",
            Bucket=Ref(resource),
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [GetAtt(resource, "Arn"), Sub(f"${{{prefix}.Arn}}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        ),
        f"refuses plain-HTTP access to {bucket.name}",
    )
    output(template, f"{prefix}Name", Ref(resource))
    output(template, f"{prefix}Arn", GetAtt(resource, "Arn"))
    return [resource.title]
