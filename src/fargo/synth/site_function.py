"""The CloudFront Function on the static site's default behavior (viewer request).

It runs before the cache lookup, so the rewritten URI is also the cache key: every route of
a single-page app shares the one cached `/index.html`. It is attached to the site's
behavior only; requests for the API path never reach it, so an API 404 or 5xx reaches the
client as the API sent it. That is also why the distribution has no custom error
responses: those apply to every behavior, the API's included.

The code is ECMAScript 5.1, which both CloudFront runtimes accept (no `endsWith`, no `let`).
"""

from __future__ import annotations

RUNTIME = "cloudfront-js-2.0"

# A path whose last segment has no dot names no file: it is a route of the app, answered
# with the app shell. `/assets/app.js` and `/robots.txt` pass through unchanged.
SPA_FALLBACK = """\
function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""

# Without the SPA fallback a path still maps to a file the way a static host maps it:
# `/docs/` and `/docs` serve `docs/index.html`. S3 behind CloudFront has no index
# documents of its own (only the root's DefaultRootObject).
DIRECTORY_INDEX = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.charAt(uri.length - 1) === '/') {
    request.uri = uri + 'index.html';
  } else if (uri.substring(uri.lastIndexOf('/') + 1).indexOf('.') === -1) {
    request.uri = uri + '/index.html';
  }
  return request;
}
"""


def request_function(spa: bool) -> str:
    return SPA_FALLBACK if spa else DIRECTORY_INDEX
