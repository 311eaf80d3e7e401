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
from pydantic_core import ErrorDetails

from fargo.errors import ManifestError, ManifestProblem
from fargo.manifest import messages
from fargo.manifest.interpolate import interpolate
from fargo.manifest.marks import Marks, YamlPath, dotted, load_yaml
from fargo.manifest.models import Manifest
from fargo.manifest.overlay import ENVIRONMENTS, environment_names
from fargo.manifest.previews import overlay_for
from fargo.manifest.reading import read_manifest_text
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
    return parse_manifest(read_manifest_text(file), str(file), env, environ)


def parse_manifest(
    text: str, file: str, env: str | None = None, environ: Mapping[str, str] | None = None
) -> LoadedManifest:
    data, marks, problems = load_yaml(text, file)
    if not isinstance(data, dict):
        raise ManifestError(
            [
                *problems,
                marks.problem(
                    (),
                    f"the manifest must be a mapping of keys, not {messages.kind_of(data)}",
                    "start with `app: NAME` and a `services:` mapping",
                ),
            ]
        )
    try:
        data = interpolate(data, os.environ if environ is None else environ, marks)
    except ManifestError as exc:
        raise ManifestError([*problems, *exc.problems]) from None
    manifest, preview = _check_environments(data, env, marks, problems)
    if problems or manifest is None:
        raise ManifestError(_unique(problems))
    body = manifest.model_dump(mode="json", by_alias=True, exclude={"environments", "previews"})
    if body.get("migrate") is None:  # a manifest without it keeps the digest it always had
        body.pop("migrate", None)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return LoadedManifest(manifest, env or DEFAULT_ENV, Path(file), digest, preview)


def _check_environments(
    data: dict[str, Any], env: str | None, marks: Marks, problems: list[ManifestProblem]
) -> tuple[Manifest | None, bool]:
    """Check the base manifest (the default environment) and every overlaid one, whichever
    this command deploys, so an overlay's mistake shows before the day it is deployed; and
    the preview `env` names, if it is one. Return the manifest `env` deploys (None when it
    has problems) and whether it is a preview."""
    try:
        base, base_marks, _ = overlay_for(data, None, marks)
    except ManifestError as exc:
        # `previews:` itself is wrong; the rest is still checked as if it were not there.
        problems.extend(exc.problems)
        base, base_marks = {k: v for k, v in data.items() if k != ENVIRONMENTS}, marks
    # `environments` is validated once, with the base: the overlay drops the key.
    base[ENVIRONMENTS] = data.get(ENVIRONMENTS) or {}
    chosen = _check(base, base_marks, problems)
    base_problems = {_identity(p) for p in problems}
    names = environment_names(data)
    preview = False
    for name in [*names, *([env] if env is not None and env not in names else [])]:
        try:
            merged, env_marks, is_preview = overlay_for(data, name, marks)
        except ManifestError as exc:
            problems.extend(exc.problems)
            chosen = None if name == env else chosen
            continue
        found: list[ManifestProblem] = []
        manifest = _check(merged, env_marks, found)
        # A problem of the base shows in every environment; report it once, unlabelled.
        problems.extend(
            _in_environment(p, name) for p in found if _identity(p) not in base_problems
        )
        if name == env:
            chosen, preview = manifest, is_preview
    return chosen, preview


def _unique(problems: list[ManifestProblem]) -> list[ManifestProblem]:
    """Each problem once: `previews:` is checked with every environment."""
    unique: dict[tuple[int | None, str, str], ManifestProblem] = {}
    for problem in problems:
        unique.setdefault(_identity(problem), problem)
    return list(unique.values())


def _check(data: dict[str, Any], marks: Marks, problems: list[ManifestProblem]) -> Manifest | None:
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, marks))
        return None
    try:
        check_references(manifest, marks)
    except ManifestError as exc:
        problems.extend(exc.problems)
        return None
    return manifest


def _identity(problem: ManifestProblem) -> tuple[int | None, str, str]:
    return (problem.line, problem.path, problem.message)


def _in_environment(problem: ManifestProblem, env: str) -> ManifestProblem:
    return ManifestProblem(
        problem.file,
        problem.line,
        problem.path,
        f"in environment `{env}`: {problem.message}",
        problem.hint,
    )


def pydantic_problems(exc: ValidationError, marks: Marks) -> list[ManifestProblem]:
    """One problem per place: a value that matches none of a union's types is one error."""
    places: dict[tuple[YamlPath, bool], list[ErrorDetails]] = {}
    for err in exc.errors():
        places.setdefault((messages.where(err), messages.is_key_error(err)), []).append(err)
    return [_problem(errs, loc, key, marks) for (loc, key), errs in places.items()]


def _problem(errs: list[ErrorDetails], loc: YamlPath, key: bool, marks: Marks) -> ManifestProblem:
    err = errs[0]
    kind = err["type"]
    if kind == "extra_forbidden":
        return marks.problem(loc, f"unknown key `{loc[-1]}`", _did_you_mean(loc))
    if kind == "missing":
        parent = f"under `{dotted(loc[:-1])}`" if loc[:-1] else "at the top of the manifest"
        return marks.problem(loc, f"`{loc[-1]}` is required", f"add `{loc[-1]}:` {parent}")
    if key:
        message, hint = messages.describe(err)
        return marks.problem(loc, f"the key {messages.shown(loc[-1])}: {message}", hint)
    message, hint = messages.union(errs) if len(errs) > 1 else messages.describe(err)
    return marks.problem(loc, message, hint)


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
