"""How a template reaches CloudFormation: inline, or from the bootstrap bucket.

CloudFormation takes a template body of at most 51,200 bytes in the request; a larger one
(up to 1 MB) it reads from S3, through `TemplateURL`. A services stack of a handful of
autoscaled HTTP services is past 51,200 bytes, so such a template is put in the artifact
bucket of the account and region's `fargo-bootstrap` stack (private, encrypted, versioned)
under a key named by its content, and CloudFormation is given its URL.

Small templates stay inline: the bucket is neither read nor written for them. The key is
the body's SHA-256, so the same template is uploaded once (a HEAD finds it afterwards) and
a retried change set points at the very object the first attempt did.
"""

from __future__ import annotations

import hashlib

from fargo.aws.cloudformation import CloudFormation
from fargo.aws.facade import Aws
from fargo.bootstrap import find_bootstrap
from fargo.errors import AwsError, FargoError
from fargo.synth.bootstrap import STACK_NAME
from fargo.synth.quotas import INLINE_BODY_BYTES

TEMPLATES_PREFIX = "templates"


def template_key(stack: str, text: str) -> str:
    """`templates/<stack>/<sha256 of the body>.json`."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{TEMPLATES_PREFIX}/{stack}/{digest}.json"


def object_url(bucket: str, region: str, key: str) -> str:
    """The virtual-hosted URL of an object, the form CloudFormation's TemplateURL takes."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"


class TemplateStore:
    """The `TemplateBody` or `TemplateURL` argument that carries a template."""

    def __init__(self, aws: Aws) -> None:
        self._aws = aws
        self._bucket: str | None = None

    def source(self, stack: str, text: str) -> dict[str, str]:
        """`{"TemplateBody": text}` within the inline limit, else `{"TemplateURL": ...}`
        of the template stored in the bootstrap bucket."""
        size = len(text.encode())
        if size <= INLINE_BODY_BYTES:
            return {"TemplateBody": text}
        bucket = self._artifact_bucket(stack, size)
        key = template_key(stack, text)
        if not self._exists(bucket, key):
            self._aws.call(
                "s3",
                "put_object",
                Bucket=bucket,
                Key=key,
                Body=text.encode(),
                ContentType="application/json",
            )
        return {"TemplateURL": object_url(bucket, self._aws.config.region, key)}

    def _artifact_bucket(self, stack: str, size: int) -> str:
        if self._bucket is None:
            found = find_bootstrap(CloudFormation(self._aws))
            if found is None or not found.artifact_bucket:
                raise FargoError(
                    f"the {stack} template is {size:,} bytes, over the {INLINE_BODY_BYTES:,} "
                    "bytes CloudFormation takes inline; a larger one is read from the "
                    f"artifact bucket of the {STACK_NAME} stack, which is not in "
                    f"{self._aws.config.region} yet",
                    hint=f"run `fargo deploy`: it creates {STACK_NAME} before anything else",
                )
            self._bucket = found.artifact_bucket
        return self._bucket

    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self._aws.call("s3", "head_object", Bucket=bucket, Key=key)
        except AwsError as error:
            if error.code in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True
