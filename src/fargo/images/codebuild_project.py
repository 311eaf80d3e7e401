"""The CodeBuild project that builds an app's images, and the role it builds as.

One project per app, `fargo-<app>-images`, made through the API rather than a stack: like
the ECR repositories, it serves every environment and must exist before any stack is
touched. It carries no source and no buildspec of its own; each build brings both (see
codebuild.py). Its role, `fargo-<app>-codebuild`, may read the app's build sources, push to
the app's ECR repositories and write the project's log group, and nothing else.
"""

from __future__ import annotations

import json
from typing import Any, Final
from urllib.parse import unquote

from fargo.aws.facade import Aws
from fargo.errors import AwsError
from fargo.images.codebuild_source import SOURCE_PREFIX, source_bucket
from fargo.manifest.fargate import Platform
from fargo.progress import Reporter


def project_name(app: str) -> str:
    return f"fargo-{app}-images"


def role_name(app: str) -> str:
    return f"fargo-{app}-codebuild"


def log_group(app: str) -> str:
    """CodeBuild's default log group for the project, which fargo reads the build log from."""
    return f"/aws/codebuild/{project_name(app)}"


# CodeBuild's managed images with Docker and buildx, and the environment type each runs in.
ENVIRONMENTS: Final[dict[Platform, tuple[str, str]]] = {
    "linux/amd64": ("LINUX_CONTAINER", "aws/codebuild/standard:7.0"),
    "linux/arm64": ("ARM_CONTAINER", "aws/codebuild/amazonlinux2-aarch64-standard:3.0"),
}
COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
TIMEOUT_MINUTES = 60
# The project's own buildspec never runs: every build passes its own.
IDLE_BUILDSPEC = json.dumps(
    {
        "version": "0.2",
        "phases": {"build": {"commands": ["echo fargo starts builds with their own buildspec"]}},
    }
)
# Pushing, and reading what is there already (layers, base images of the app's repositories).
ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
# IAM can need a few seconds before CodeBuild may assume a role it just made.
ROLE_PROPAGATION_ATTEMPTS = 10


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def environment(platform: Platform) -> dict[str, Any]:
    """Where a build for `platform` runs: privileged, since docker builds need the daemon."""
    kind, image = ENVIRONMENTS[platform]
    return {
        "type": kind,
        "image": image,
        "computeType": COMPUTE_TYPE,
        "privilegedMode": True,
        "imagePullCredentialsType": "CODEBUILD",
    }


def trust_policy(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "codebuild.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def role_policy(app: str, account: str, region: str) -> dict[str, Any]:
    """What a build may do. Every action is named; `ecr:GetAuthorizationToken` is the one
    grant on `*`: IAM has no resource-level permission for it."""
    arn = partition(region)
    group = f"arn:{arn}:logs:{region}:{account}:log-group:{log_group(app)}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSources",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:{arn}:s3:::{source_bucket(account, region)}/"
                f"{SOURCE_PREFIX}{app}/*",
            },
            {
                "Sid": "PushImages",
                "Effect": "Allow",
                "Action": list(ECR_PUSH_ACTIONS),
                "Resource": f"arn:{arn}:ecr:{region}:{account}:repository/{app}/*",
            },
            {
                "Sid": "RegistryLogin",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "BuildLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [group, f"{group}:*"],
            },
        ],
    }


def _document(value: object) -> object:
    """A policy document as IAM hands it back: a dict (boto3 decodes it) or URL-encoded JSON."""
    return json.loads(unquote(value)) if isinstance(value, str) else value


def _differs(wanted: object, found: object) -> bool:
    """Whether `found` lacks or changes anything of `wanted` (AWS adds defaults of its own)."""
    if isinstance(wanted, dict):
        if not isinstance(found, dict):
            return True
        return any(_differs(value, found.get(key)) for key, value in wanted.items())
    return wanted != found


class CodeBuildProject:
    def __init__(self, aws: Aws, account: str, reporter: Reporter) -> None:
        self._aws = aws
        self._account = account
        self._reporter = reporter

    def ensure(self, app: str, platform: Platform, tags: dict[str, str]) -> str:
        """Create or update the app's role and project; return the project's name."""
        role_arn = self._ensure_role(app, tags)
        name = project_name(app)
        wanted: dict[str, Any] = {
            "description": f"builds the container images of the fargo app {app}",
            "source": {"type": "NO_SOURCE", "buildspec": IDLE_BUILDSPEC},
            "artifacts": {"type": "NO_ARTIFACTS"},
            "environment": environment(platform),
            "serviceRole": role_arn,
            "timeoutInMinutes": TIMEOUT_MINUTES,
        }
        found = self._aws.call("codebuild", "batch_get_projects", names=[name])["projects"]
        if not found:
            self._create(name, wanted, tags)
        elif _differs(wanted, found[0]):
            self._aws.call("codebuild", "update_project", name=name, **wanted)
            self._reporter.note(f"updated the CodeBuild project {name}")
        return name

    def _create(self, name: str, wanted: dict[str, Any], tags: dict[str, str]) -> None:
        for attempt in range(ROLE_PROPAGATION_ATTEMPTS):
            try:
                self._aws.call(
                    "codebuild",
                    "create_project",
                    name=name,
                    tags=[{"key": k, "value": v} for k, v in sorted(tags.items())],
                    **wanted,
                )
            except AwsError as error:
                new_role = error.code == "InvalidInputException" and "AssumeRole" in error.message
                if not new_role or attempt == ROLE_PROPAGATION_ATTEMPTS - 1:
                    raise
                self._aws.sleep(3.0)
                continue
            self._reporter.note(f"created the CodeBuild project {name}")
            return

    def _ensure_role(self, app: str, tags: dict[str, str]) -> str:
        name = role_name(app)
        trust = trust_policy(self._account)
        try:
            role = self._aws.call("iam", "get_role", RoleName=name)["Role"]
        except AwsError as error:
            if error.code != "NoSuchEntity":
                raise
            role = self._aws.call(
                "iam",
                "create_role",
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=f"what CodeBuild may do while it builds the images of {app}",
                Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
            )["Role"]
            self._reporter.note(f"created the IAM role {name} for CodeBuild")
        else:
            if _document(role.get("AssumeRolePolicyDocument")) != trust:
                self._aws.call(
                    "iam",
                    "update_assume_role_policy",
                    RoleName=name,
                    PolicyDocument=json.dumps(trust),
                )
        policy = role_policy(app, self._account, self._aws.config.region)
        if self._inline_policy(name) != policy:
            self._aws.call(
                "iam",
                "put_role_policy",
                RoleName=name,
                PolicyName="fargo-images",
                PolicyDocument=json.dumps(policy),
            )
        return str(role["Arn"])

    def _inline_policy(self, role: str) -> object:
        try:
            found = self._aws.call(
                "iam", "get_role_policy", RoleName=role, PolicyName="fargo-images"
            )
        except AwsError as error:
            if error.code == "NoSuchEntity":
                return None
            raise
        return _document(found.get("PolicyDocument"))
