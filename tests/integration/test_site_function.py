"""The site's CloudFront Function, run by a real JavaScript engine (node) on viewer-request
events shaped as CloudFront sends them: which URIs it rewrites, and which it leaves alone."""

from __future__ import annotations

import json
import subprocess

import pytest

from fargo.synth.site_function import DIRECTORY_INDEX, SPA_FALLBACK
from tests.integration.conftest import require

# Calls the function's `handler` once per URI, as CloudFront does, and prints the results.
RUNNER = """
var uris = JSON.parse(process.argv[1]);
var out = uris.map(function (uri) {
  var event = {version: '1.0', context: {eventType: 'viewer-request'},
               viewer: {ip: '192.0.2.1'},
               request: {method: 'GET', uri: uri, querystring: {}, headers: {}, cookies: {}}};
  return handler(event).uri;
});
console.log(JSON.stringify(out));
"""


def rewrite(code: str, uris: list[str]) -> dict[str, str]:
    node = require("node", "apt-get install nodejs (make system-deps)")
    done = subprocess.run(
        [node, "-e", code + RUNNER, json.dumps(uris)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return dict(zip(uris, json.loads(done.stdout), strict=True))


@pytest.mark.parametrize(
    ("uri", "served"),
    [
        ("/", "/index.html"),
        ("/cart", "/index.html"),
        ("/orders/42/", "/index.html"),
        ("/v1.2/orders", "/index.html"),  # a dot in a directory is not a file
        ("/assets/index-BX3k9_aZ.js", "/assets/index-BX3k9_aZ.js"),
        ("/robots.txt", "/robots.txt"),
        ("/docs/index.html", "/docs/index.html"),
    ],
)
def test_spa_fallback_serves_the_shell_for_routes_and_files_as_they_are(
    uri: str, served: str
) -> None:
    assert rewrite(SPA_FALLBACK, [uri]) == {uri: served}


@pytest.mark.parametrize(
    ("uri", "served"),
    [
        ("/", "/index.html"),
        ("/docs/", "/docs/index.html"),
        ("/docs", "/docs/index.html"),
        ("/docs/setup.html", "/docs/setup.html"),
        ("/favicon.ico", "/favicon.ico"),
    ],
)
def test_directory_index_serves_each_directorys_index_page(uri: str, served: str) -> None:
    assert rewrite(DIRECTORY_INDEX, [uri]) == {uri: served}
