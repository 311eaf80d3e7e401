"""Build templates from manifest text, for synth tests."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from fargo.manifest.load import load_manifest, parse_manifest
from fargo.model import StackKind, build_app
from fargo.synth import StackTemplate, synth


def stacks_from_text(text: str, env: str | None = None) -> dict[StackKind, StackTemplate]:
    loaded = parse_manifest(textwrap.dedent(text), "fargo.yml", env, {})
    return {t.kind: t for t in synth(build_app(loaded))}


def stacks_from_file(path: Path, env: str | None) -> tuple[StackTemplate, ...]:
    return synth(build_app(load_manifest(path, env, {})))


def resources_of(template: StackTemplate, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.body["Resources"].items() if v["Type"] == kind}
