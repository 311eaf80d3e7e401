"""The URL `status` shows for a service the services stack has no URL output for: behind
fargo's distribution without a domain, its `*.cloudfront.net` name from the edge stack,
and only for the rules CloudFront forwards to. The `existing` distribution's name, read
from CloudFront, is checked on the emulator (tests/emulator/test_edge_deploy.py and
test_spa_errors.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from fargo.aws.facade import Aws
from fargo.edge.urls import cdn_urls
from fargo.manifest.load import parse_manifest
from fargo.model import build_app
from fargo.outputs import EdgeOutputs
from tests.unit.stubbed_aws import stubbed
from tests.unit.test_synth_cdn_app import MANIFEST, with_cdn

EDGE = EdgeOutputs("shop-default-edge", {"DistributionDomainName": "d111111abcdef8.cloudfront.net"})


@pytest.fixture(autouse=True)
def cloudfront(aws: Aws) -> Iterator[Stubber]:
    """CloudFront answers nothing: any call fails the test."""
    with stubbed(aws, "cloudfront") as stubber:
        yield stubber


def test_the_app_behind_fargo_s_distribution_answers_on_its_name(aws: Aws) -> None:
    app = build_app(parse_manifest(MANIFEST, "fargo.yml", None, {}))
    # web (/*) is behind the CDN; api routes its own host and is reached directly.
    assert cdn_urls(aws, app.cdn, app.services, EDGE) == {
        "web": "https://d111111abcdef8.cloudfront.net/"
    }


def test_nothing_before_the_edge_stack_exists(aws: Aws) -> None:
    app = build_app(parse_manifest(MANIFEST, "fargo.yml", None, {}))
    assert cdn_urls(aws, app.cdn, app.services, EdgeOutputs("shop-default-edge", {})) == {}


def test_a_service_not_behind_the_distribution_reads_nothing(aws: Aws) -> None:
    text = with_cdn("{ existing: E2ABCDEF123456, path: /api/* }")
    app = build_app(parse_manifest(text, "fargo.yml", None, {}))
    api = [s for s in app.services if s.name == "api"]
    # The Stubber has no answer queued: a GetDistribution would fail here.
    assert cdn_urls(aws, app.cdn, api, EDGE) == {}
