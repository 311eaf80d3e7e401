"""fargo.yml → validated Manifest: parse with marks, interpolate, overlay, validate, cross-check."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from fargo.errors import ManifestError, ManifestProblem
from fargo.manifest.interpolate import interpolate
from fargo.manifest.marks import Marks, YamlPath, load_yaml
from fargo.manifest.models import Manifest
from fargo.manifest.previews import overlay_for
from fargo.manifest.references import check_references

DEFAULT_ENV = "default"


@dataclass(frozen=True)
class LoadedManifest:
    manifest: Manifest
    env: str
    file: Path
    digest: str  # sha256 of the validated, overlaid manifest: stable across comments/ordering
    preview: bool = False  # `env` is a preview (`previews.names`), not one of `environments`


def load_manifest(
    file: Path, env: str | None = None, environ: Mapping[str, str] | None = None
) -> LoadedManifest:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(
            [ManifestProblem(str(file), None, "", "file not found", "pass -f PATH/TO/fargo.yml")]
        ) from None
    return parse_manifest(text, str(file), env, environ)


def parse_manifest(
    text: str, file: str, env: str | None = None, environ: Mapping[str, str] | None = None
) -> LoadedManifest:
    data, marks = load_yaml(text, file)
    if not isinstance(data, dict):
        raise ManifestError([marks.problem((), "the manifest must be a mapping of keys")])
    data = interpolate(data, os.environ if environ is None else environ, marks)
    merged, preview = overlay_for(data, env, marks)
    # Validate `environments` from the original document: the overlay drops the key.
    merged["environments"] = data.get("environments") or {}
    manifest = _validate(merged, marks)
    check_references(manifest, marks)
    body = manifest.model_dump(mode="json", by_alias=True, exclude={"environments", "previews"})
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return LoadedManifest(manifest, env or DEFAULT_ENV, Path(file), digest, preview)


def _validate(data: dict[str, Any], marks: Marks) -> Manifest:
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError([_problem(err, marks) for err in exc.errors()]) from None


def _problem(err: Any, marks: Marks) -> ManifestProblem:
    loc: YamlPath = tuple(part for part in err["loc"] if part != "ref")
    loc = tuple("from" if part == "from_" else part for part in loc)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return marks.problem(loc, f"unknown key `{loc[-1]}`", _did_you_mean(loc))
    if kind == "missing":
        return marks.problem(loc, f"`{loc[-1]}` is required", None)
    if kind == "fargo":
        return marks.problem(loc, err["msg"], ctx.get("hint"))
    if kind == "literal_error":
        return marks.problem(loc, err["msg"].replace("Input should be", "must be"), None)
    return marks.problem(loc, err["msg"], None)


def _did_you_mean(loc: YamlPath) -> str:
    """Suggest the closest allowed key at the same place in the schema."""
    allowed = _allowed_keys(loc[:-1])
    word = str(loc[-1])
    close = difflib.get_close_matches(word, allowed, n=3)
    # A transposition (prot → port) is the likeliest typo; prefer it over other near misses.
    close.sort(key=lambda candidate: sorted(candidate) != sorted(word))
    if close:
        return f"did you mean `{close[0]}`?"
    if allowed:
        return "allowed keys here: " + ", ".join(sorted(allowed))
    return "remove it"


def _allowed_keys(parent: YamlPath) -> list[str]:
    model: type[BaseModel] | None = Manifest
    dict_value: type[BaseModel] | None = None  # set while the next part is a user-chosen key
    for part in parent:
        if isinstance(part, int):
            continue
        if dict_value is not None:
            model, dict_value = dict_value, None
            continue
        field = model.model_fields.get(str(part)) if model else None
        if field is None:
            return []
        annotation = field.annotation
        args: tuple[Any, ...] = getattr(annotation, "__args__", ())
        if getattr(annotation, "__origin__", None) is dict and len(args) == 2:
            dict_value, model = _model_of(args[1]), None
        else:
            model = _model_of(annotation)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for item in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None
