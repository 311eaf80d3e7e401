"""Pushes to registries that want credentials: HTTP Basic (ECR's scheme, here distribution
with htpasswd) and the Docker token flow (distribution with `auth: token`, trusting a token
service started by the test)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fargo.images import BasicCredentials, RegistryError, push
from fargo.images.local_registry import LocalRegistry
from fargo.images.push import MIB
from tests.integration.conftest import Skopeo, require, started_registry
from tests.integration.layouts import random_layer, single_image_layout
from tests.integration.token_server import TokenServer

pytestmark = pytest.mark.integration

USER = "fargo"
PASSWORD = "s3cret-pass"
HTPASSWD_HINT = "install apache2-utils for htpasswd (it is in scripts/apt-packages.txt)"


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    workdir = tmp_path_factory.mktemp("basic-registry")
    htpasswd = require("htpasswd", HTPASSWD_HINT)
    entry = subprocess.run(
        [htpasswd, "-nbB", USER, PASSWORD], capture_output=True, check=True, text=True
    ).stdout
    (workdir / "htpasswd").write_text(entry)
    auth = {"htpasswd": {"realm": "fargo-test", "path": str(workdir / "htpasswd")}}
    started = started_registry(workdir, auth)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def token_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    require("openssl", "install openssl (it is in scripts/apt-packages.txt)")
    with TokenServer(tmp_path_factory.mktemp("tokens"), USER, PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, token_service: TokenServer
) -> Iterator[LocalRegistry]:
    started = started_registry(
        tmp_path_factory.mktemp("token-registry"), token_service.registry_auth()
    )
    yield started
    started.stop()


def test_basic_credentials_push(
    basic_registry: LocalRegistry,
    skopeo: Skopeo,
    repo: str,
    layout_dir: Callable[[str], Path],
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(6 * MIB, seed=30)])
    reference = f"{basic_registry.address}/{repo}:v1"

    result = push(layout_dir("app"), reference, credentials=BasicCredentials(USER, PASSWORD))

    assert result.digest == image.digest
    read = skopeo.run(
        "inspect", "--raw", "--tls-verify=false", "--creds", f"{USER}:{PASSWORD}",
        f"docker://{reference}",
    )  # fmt: skip
    assert read.returncode == 0, read.stderr.decode()


@pytest.mark.parametrize(
    "credentials", [None, BasicCredentials(USER, "wrong")], ids=["none", "wrong-password"]
)
def test_refused_credentials_are_a_clear_error(
    basic_registry: LocalRegistry,
    repo: str,
    layout_dir: Callable[[str], Path],
    credentials: BasicCredentials | None,
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(MIB, seed=31)])

    with pytest.raises(RegistryError) as raised:
        push(layout_dir("app"), f"{basic_registry.address}/{repo}:v1", credentials=credentials)

    assert raised.value.status == 401
    assert raised.value.hint is not None
    assert "credentials" in raised.value.hint
    assert PASSWORD not in raised.value.render()


def test_credentials_are_not_in_their_repr() -> None:
    assert PASSWORD not in repr(BasicCredentials(USER, PASSWORD))


def test_token_auth_push_fetches_one_token_for_the_whole_push(
    token_registry: LocalRegistry,
    token_service: TokenServer,
    skopeo: Skopeo,
    repo: str,
    layout_dir: Callable[[str], Path],
) -> None:
    image = single_image_layout(
        layout_dir("app"), [random_layer(9 * MIB, seed=32), random_layer(MIB, seed=33)]
    )
    asked = len(token_service.requests)

    result = push(
        layout_dir("app"),
        f"{token_registry.address}/{repo}:v1",
        credentials=BasicCredentials(USER, PASSWORD),
    )

    assert result.digest == image.digest
    requests = token_service.requests[asked:]
    assert len(requests) == 1
    assert requests[0]["scope"] == [f"repository:{repo}:pull,push"]
    assert requests[0]["service"] == ["fargo-test-registry"]
    assert result.stats.blobs_uploaded == 3


def test_token_auth_mount_asks_for_pull_on_the_source(
    token_registry: LocalRegistry,
    token_service: TokenServer,
    repo: str,
    layout_dir: Callable[[str], Path],
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(2 * MIB, seed=34)])
    credentials = BasicCredentials(USER, PASSWORD)
    push(layout_dir("app"), f"{token_registry.address}/{repo}-base:v1", credentials=credentials)
    asked = len(token_service.requests)

    result = push(
        layout_dir("app"),
        f"{token_registry.address}/{repo}-copy:v1",
        credentials=credentials,
        mount_from=[f"{repo}-base"],
    )

    assert result.stats.blobs_mounted == 2
    scopes = token_service.requests[asked]["scope"]
    assert sorted(scopes) == [f"repository:{repo}-base:pull", f"repository:{repo}-copy:pull,push"]


def test_token_service_refusing_credentials_is_a_clear_error(
    token_registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(MIB, seed=35)])

    with pytest.raises(RegistryError) as raised:
        push(
            layout_dir("app"),
            f"{token_registry.address}/{repo}:v1",
            credentials=BasicCredentials(USER, "wrong"),
        )

    assert "token service" in raised.value.message
    assert raised.value.status == 401
