"""Creates outside CloudFormation whose answer was lost: the SDK's retry meets what the first
attempt made and AWS answers "already exists"; fargo reads the resource back and goes on.

Botocore's Stubber queues that sequence (the emulator answers each request once, and never
loses one); the error codes are those the ECR and CloudFront API references document."""

from __future__ import annotations

import io

from fargo.aws.facade import Aws
from fargo.edge.spa_function import ensure_function
from fargo.images.ecr import Ecr
from tests.unit.stubbed_aws import stubbed

URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api"
ARN = "arn:aws:cloudfront::123456789012:function/fargo-shop-default-spa"


def _repository() -> dict[str, object]:
    return {
        "repositoryName": "shop/api",
        "repositoryArn": "arn:aws:ecr:us-east-1:123456789012:repository/shop/api",
        "repositoryUri": URI,
    }


def test_a_repository_whose_create_answer_was_lost_is_read_back(aws: Aws) -> None:
    with stubbed(aws, "ecr") as ecr:
        ecr.add_client_error("describe_repositories", "RepositoryNotFoundException")
        # The first attempt made it; its answer never came; the retry is told so.
        ecr.add_client_error("create_repository", "RepositoryAlreadyExistsException")
        ecr.add_response("describe_repositories", {"repositories": [_repository()]})
        ecr.add_client_error("get_lifecycle_policy", "LifecyclePolicyNotFoundException")
        ecr.add_response("put_lifecycle_policy", {})
        made = Ecr(aws).ensure_repository("shop/api", keep=20, tags={"fargo:app": "shop"})
    assert made.uri == URI


def test_a_function_whose_create_answer_was_lost_is_read_back(aws: Aws) -> None:
    summary = {
        "Name": "fargo-shop-default-spa",
        "FunctionConfig": {"Comment": "", "Runtime": "cloudfront-js-2.0"},
        "FunctionMetadata": {"FunctionARN": ARN, "LastModifiedTime": "2026-01-01T00:00:00Z"},
        "Status": "PUBLISHED",
    }
    with stubbed(aws, "cloudfront") as cloudfront:
        cloudfront.add_client_error("get_function", "NoSuchFunctionExists")
        cloudfront.add_client_error("create_function", "FunctionAlreadyExists")
        cloudfront.add_response(
            "get_function", {"FunctionCode": io.BytesIO(b"x"), "ETag": "E1", "ContentType": "x"}
        )
        cloudfront.add_response("publish_function", {"FunctionSummary": summary})
        assert ensure_function(aws, "fargo-shop-default-spa") == ARN
