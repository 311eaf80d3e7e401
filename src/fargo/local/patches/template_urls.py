"""A TemplateURL in S3's virtual-hosted form is read from the bucket it names.

Gap (ministack 1.5.33): CreateStack, UpdateStack, CreateChangeSet, ValidateTemplate and
GetTemplateSummary read a TemplateURL (and a StackPolicyURL) as path-style only: the
first segment of the URL's path is taken for the bucket. The virtual-hosted form
AWS documents and fargo sends, ``https://<bucket>.s3.<region>.amazonaws.com/<key>``,
names the bucket in the host, so ministack looks for a bucket called after the key's
first segment and answers "Template not found". On AWS both forms read the same object.

A URL whose host is ``<bucket>.s3[.<region>].amazonaws.com[.cn]`` is rewritten to the
path-style URL of the same object before ministack reads it; any other URL is left as
it is.
"""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from ._ministack import attr, module, replace

_HELPERS = "ministack.services.cloudformation.helpers"
# <bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>...
# and the dual-stack and China forms of these.
_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$"
)


def path_style(url: str) -> str:
    """The path-style URL of the object a virtual-hosted URL names; others unchanged."""
    parsed = urlparse(url)
    found = _VIRTUAL_HOST.match(parsed.hostname or "")
    if found is None:
        return url
    return f"https://s3.amazonaws.com/{found['bucket']}/{parsed.path.lstrip('/')}"


def _reading_virtual_hosts(resolve: Callable[..., Any]) -> Callable[..., Any]:
    def resolve_document(params: dict[str, Any], body_key: str, url_key: str, label: str) -> Any:
        value = params.get(url_key)
        url = value[0] if isinstance(value, list) and value else value
        if isinstance(url, str) and url:
            rewritten = path_style(url)
            if rewritten != url:
                params = {**params, url_key: [rewritten]}
        return resolve(params, body_key, url_key, label)

    return resolve_document


def read_virtual_hosted_urls() -> None:
    """Closes the gap in the module docstring. The handlers import the resolver at call
    time, and `_resolve_template` looks it up in its module, so one swap covers both."""
    helpers = module(_HELPERS)
    replace(
        helpers, "_resolve_document", _reading_virtual_hosts(attr(helpers, "_resolve_document"))
    )
