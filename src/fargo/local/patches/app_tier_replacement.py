"""Change sets classify app-tier changes as AWS does, not as "Conditional".

Gap (ministack 1.5.33): DescribeChangeSet classifies a changed property from
ministack's table of replacing properties, and a type missing from it has
every changed property reported as RequiresRecreation "Conditionally", hence
every Modify as Replacement "Conditional". These app-tier types are missing:
S3 Bucket and BucketPolicy, SQS QueuePolicy, Logs LogGroup, KMS Key, SNS
Subscription, SES EmailIdentity and CloudWatch Alarm. Suspending a bucket's
versioning or shortening a log group's retention was reported as a possible
replacement, and fargo's data-loss guard, which refuses a Conditional
replacement of a bucket, refused it. On AWS such a change is Replacement
"False"; only the properties below ("Update requires: Replacement" in the
template reference, the createOnlyProperties of the schemas) replace.

Only the classifier the change-set diff reads is patched: each of these types'
update handlers already replaces the resource itself where AWS does, and the
execution path keeps its own table.
"""

from collections.abc import Callable

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, provisioner_table, replace

_REPLACING: dict[str, tuple[str, ...]] = {
    "AWS::S3::Bucket": ("BucketName", "BucketNamePrefix", "BucketNamespace"),
    "AWS::S3::BucketPolicy": ("Bucket",),
    "AWS::SQS::QueuePolicy": (),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::KMS::Key": (),
    "AWS::SNS::Subscription": ("Endpoint", "Protocol", "TopicArn"),
    "AWS::SES::EmailIdentity": ("EmailIdentity",),
    "AWS::CloudWatch::Alarm": ("AlarmName",),
}


def _classifier(original: Callable[[str, str], str]) -> Callable[[str, str], str]:
    def property_recreation(resource_type: str, name: str) -> str:
        replacing = _REPLACING.get(resource_type)
        if replacing is None:
            return original(resource_type, name)
        return "Always" if name in replacing else "Never"

    return property_recreation


def classify_app_tier_changes() -> None:
    """Closes the gap in the module docstring."""
    known = provisioner_table("_REPLACING_PROPERTIES")
    moved = sorted(set(_REPLACING) & set(known))
    if moved:
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: it now classifies {moved[0]}"
        )
    stacks = module("ministack.services.cloudformation.stacks")
    attr(stacks, "_diff_resources")
    replace(stacks, "_property_recreation", _classifier(attr(stacks, "_property_recreation")))
