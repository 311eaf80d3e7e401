"""The unit tests' stand-ins for AWS: a facade on a fake clock, answered by a Stubber."""

from __future__ import annotations

import pytest

from fargo.aws.facade import Aws, AwsConfig
from tests.unit.stubbed_aws import FakeTime


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def aws(time: FakeTime) -> Aws:
    """A facade on `time`, with credentials that never reach AWS (a Stubber answers)."""
    return Aws(
        AwsConfig(region="us-east-1", static_credentials=("AKIDEXAMPLE", "secret")),
        clock=time.clock,
        sleep=time.sleep,
    )
