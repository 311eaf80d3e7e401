"""S3 buckets: private, encrypted, versioned, TLS-only, and kept when the stack goes."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template, s3

from fargo.model.app import App, Bucket
from fargo.synth import outputs as out
from fargo.synth.common import add, output, skip_check
from fargo.synth.ids import logical_id


def private_bucket(name: str, **extra: object) -> s3.Bucket:
    """A bucket no one outside the account can read: public access blocked, ACLs off,
    AES256 at rest, and kept (Retain) when its stack is deleted or it is replaced."""
    resource = s3.Bucket(
        name,
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
    return resource


def tls_only(bucket: s3.Bucket) -> dict[str, object]:
    """The bucket policy statement that refuses every request not made over TLS."""
    return {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [GetAtt(bucket, "Arn"), Sub(f"${{{bucket.title}.Arn}}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


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
    resource = private_bucket(prefix, **extra)
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
                "Statement": [tls_only(resource)],
            },
        ),
        f"refuses plain-HTTP access to {bucket.name}",
    )
    output(template, out.bucket_name(bucket.name), Ref(resource))
    output(template, out.bucket_arn(bucket.name), GetAtt(resource, "Arn"))
    return [resource.title]
