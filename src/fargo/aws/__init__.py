"""The one place boto3 is called. Everything else talks to AWS through `Aws`."""

from fargo.aws.facade import Aws, AwsConfig, CallCounter

__all__ = ["Aws", "AwsConfig", "CallCounter"]
