"""The `uploads` bucket (S3): store a body under a generated key and read it back.

fargo injects the bucket's name as BUCKET_UPLOADS. The bucket stays private: clients
read objects back through the API, never from S3 directly.
"""

import uuid
from dataclasses import dataclass

from botocore.exceptions import ClientError

from app import aws

# The keys this module generates: 32 hex digits. The API accepts no other, so a client
# cannot name arbitrary objects in the bucket.
KEY_PATTERN = r"^[0-9a-f]{32}$"


@dataclass(frozen=True)
class Upload:
    body: bytes
    content_type: str


def bucket() -> str:
    return aws.require("BUCKET_UPLOADS", "the service must use: [uploads]")


def store(body: bytes, content_type: str) -> str:
    """Put ``body`` in the bucket under a new random key and return the key."""
    key = uuid.uuid4().hex
    aws.s3().put_object(Bucket=bucket(), Key=key, Body=body, ContentType=content_type)
    return key


def fetch(key: str) -> Upload | None:
    """The object under ``key``, or None when there is none."""
    try:
        obj = aws.s3().get_object(Bucket=bucket(), Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    # Reading the whole body also hands the connection back to the pool.
    return Upload(obj["Body"].read(), obj.get("ContentType") or "application/octet-stream")
