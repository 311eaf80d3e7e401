"""Is the deployed stack already what we would deploy? Decided before any write call."""

from __future__ import annotations

import copy
from typing import Any

from fargo.synth.common import STAMP_KEY


def without_stamp(body: dict[str, Any]) -> dict[str, Any]:
    """The template minus fargo's provenance stamp, which never forces an update."""
    clean = copy.deepcopy(body)
    metadata = clean.get("Metadata")
    if isinstance(metadata, dict):
        metadata.pop(STAMP_KEY, None)
        if not metadata:
            clean.pop("Metadata")
    return clean


def same_template(wanted: dict[str, Any], deployed: dict[str, Any]) -> bool:
    return without_stamp(wanted) == without_stamp(deployed)
