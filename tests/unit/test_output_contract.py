"""The contract between the outputs synth emits and the ones fargo reads after a deploy.

Every output name `fargo.outputs.DeployedOutputs` reads is emitted by the templates of the
examples (fullstack, and the others for what fullstack has not: a domain, a CDN, a site),
and every output they emit is read by the reader, taken by another stack as a parameter,
or listed below as shown to the user only. Each accessor is found by introspection and
called, so a new one is covered without editing this test.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fargo.manifest.load import load_manifest, parse_manifest
from fargo.model import App, StackKind, build_app
from fargo.outputs import (
    DataOutputs,
    DeployedOutputs,
    EdgeOutputs,
    MissingOutput,
    NetworkOutputs,
    ReleaseOutputs,
    ServicesOutputs,
)
from fargo.synth import StackOutput, StackTemplate, synth
from fargo.synth import outputs as out
from fargo.synth.ids import logical_id

EXAMPLES = Path(__file__).parents[2] / "examples"
# fullstack first: it is the app the contract is stated for; the others add a domain, a CDN
# in front of the app or an existing distribution, static files and a queue-fed worker.
APPS = (("fullstack", None), ("spa-api", None), ("storefront", None), ("workers", None))

# Emitted for the user and for AWS-side tooling (shown by `fargo deploy --json` and
# `fargo status`), read by nothing in fargo.
SHOWN_ONLY = {
    (StackKind.NETWORK, out.VPC_ID),
    (StackKind.NETWORK, out.LOAD_BALANCER_ARN),
    (StackKind.NETWORK, out.LOAD_BALANCER_SECURITY_GROUP_ID),
    (StackKind.EDGE, out.DISTRIBUTION_ARN),
}
# Per-resource outputs of that kind, by name pattern (their names depend on the manifest).
SHOWN_ONLY_PER_RESOURCE = (
    (StackKind.DATA, out.queue_url),
    (StackKind.DATA, out.queue_dead_letter_arn),  # to redrive dead letters by hand
    (StackKind.DATA, out.bucket_name),
)


class Recording(dict[str, str]):
    """A stack's outputs that note every name looked up."""

    def __init__(self, values: dict[str, str], seen: set[str]) -> None:
        super().__init__(values)
        self.seen = seen

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.seen.add(str(key))
        return super().__contains__(key)

    def __getitem__(self, key: str) -> str:
        self.seen.add(key)
        return super().__getitem__(key)


# A domain without a load balancer: only mail, and a worker. No example has that shape.
DOMAIN_WITHOUT_BALANCER = """\
app: mailer
services:
  worker:
    image: nginx:1.27
    command: [sleep, infinity]
mail: { domain: example.com, from: no-reply@example.com }
domain: { name: example.com, dns: route53 }
"""


def _apps() -> Iterator[tuple[App, tuple[StackTemplate, ...]]]:
    for name, env in APPS:
        app = build_app(load_manifest(EXAMPLES / name / "fargo.yml", env, {}))
        yield app, synth(app)
    app = build_app(parse_manifest(DOMAIN_WITHOUT_BALANCER, "fargo.yml", None, {}))
    yield app, synth(app)


def _emitted(templates: tuple[StackTemplate, ...]) -> dict[StackKind, dict[str, str]]:
    return {t.kind: dict.fromkeys(t.body.get("Outputs", {}), "x") for t in templates}


def _accessors(reader: object) -> Iterator[tuple[str, Any]]:
    for name, member in inspect.getmembers(type(reader)):
        if name.startswith("_") or name in ("has", "missing", "stack"):
            continue
        if isinstance(member, property) or inspect.isfunction(member):
            yield name, member


def _read(app: App, emitted: dict[StackKind, dict[str, str]]) -> tuple[set, set[str]]:
    """Every (kind, name) the reader looks up for `app`, and the accessors called."""
    seen: dict[StackKind, set[str]] = {kind: set() for kind in StackKind}
    outputs = DeployedOutputs(
        app, {kind: Recording(emitted.get(kind, {}), seen[kind]) for kind in StackKind}
    )
    called = set()
    readers = (outputs.network, outputs.data, outputs.release, outputs.services, outputs.edge)
    for reader in readers:
        for name, member in _accessors(reader):
            called.add(f"{type(reader).__name__}.{name}")
            takes_service = isinstance(member, property) is False and (
                "service" in inspect.signature(member).parameters
            )
            for service in app.services if takes_service else (None,):
                try:
                    found = getattr(reader, name)
                    if not isinstance(member, property):
                        found(service) if takes_service else found()
                except MissingOutput:
                    pass  # looked up all the same
    return {(kind, key) for kind, keys in seen.items() for key in keys}, called


def _parameters(templates: tuple[StackTemplate, ...]) -> set[tuple[StackKind, str]]:
    return {
        (value.stack, value.key)
        for t in templates
        for value in t.parameters.values()
        if isinstance(value, StackOutput)
    }


def _per_resource(app: App) -> set[tuple[StackKind, str]]:
    names = [q.name for q in app.queues] + [b.name for b in app.buckets]
    return {(kind, name_of(n)) for kind, name_of in SHOWN_ONLY_PER_RESOURCE for n in names}


def _pattern(app: App, key: str) -> str:
    """`ApiServiceName` → `<service>ServiceName`: a per-resource name by its kind."""
    for prefix, names in (
        ("", [s.name for s in app.services]),
        ("Queue", [q.name for q in app.queues]),
        ("Bucket", [b.name for b in app.buckets]),
    ):
        for name in names:
            own = f"{prefix}{logical_id(name)}"
            if key.startswith(own):
                return f"{prefix}<name>{key[len(own) :]}"
    return key


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    emitted: set[tuple[StackKind, str]] = set()
    read: set[tuple[StackKind, str]] = set()
    passed_on: set[tuple[StackKind, str]] = set(SHOWN_ONLY)
    called: set[str] = set()
    for app, templates in _apps():
        outputs = _emitted(templates)
        looked_up, used = _read(app, outputs)
        # By kind of name: a service without a route legitimately has no `<service>Url`.
        emitted |= {(k, _pattern(app, key)) for k, keys in outputs.items() for key in keys}
        read |= {(kind, _pattern(app, key)) for kind, key in looked_up}
        passed_on |= {(k, _pattern(app, key)) for k, key in _parameters(templates)}
        passed_on |= {(k, _pattern(app, key)) for k, key in _per_resource(app)}
        called |= used
    unread = emitted - read - passed_on
    return {"emitted": emitted, "read": read, "unread": unread, "called": called}


def test_every_output_the_reader_reads_is_emitted(contract: dict[str, Any]) -> None:
    assert contract["read"] - contract["emitted"] == set()


def test_every_emitted_output_is_read_passed_on_or_shown(contract: dict[str, Any]) -> None:
    assert contract["unread"] == set()


def test_the_examples_exercise_every_accessor(contract: dict[str, Any]) -> None:
    expected = {
        f"{cls.__name__}.{name}"
        for cls in (NetworkOutputs, DataOutputs, ReleaseOutputs, ServicesOutputs, EdgeOutputs)
        for name, _ in _accessors(cls.__new__(cls))
    }
    assert expected <= contract["called"]
    assert "ServicesOutputs.task_definition_arn" in expected


def test_fullstack_alone_emits_what_its_services_read() -> None:
    """The app the contract is stated for: each service's outputs, by its own name."""
    app, templates = next(_apps())
    outputs = _emitted(templates)
    services = outputs[StackKind.SERVICES]
    for service in app.services:
        assert out.task_definition_arn(service.name) in services
    long_running = {s.name for s in app.services if s.long_running}
    named = {s.name for s in app.services if out.service_name(s.name) in services}
    assert named == long_running == {"api", "worker"}
    assert out.CLUSTER_NAME in outputs[StackKind.NETWORK]
    assert {out.mail_dkim_name(i) for i in out.DKIM_TOKENS} <= outputs[StackKind.DATA].keys()


def test_a_missing_output_names_the_stack_and_the_output() -> None:
    app, _ = next(_apps())
    api = next(s for s in app.services if s.name == "api")
    with pytest.raises(MissingOutput) as missing:
        DeployedOutputs(app, {StackKind.SERVICES: {}}).services.task_definition_arn(api)
    assert missing.value.message == (
        "stack fullstack-default-services has no output ApiTaskDefinitionArn"
    )
    assert missing.value.hint
    # Where absence is legitimate (nothing deployed yet), the accessor reads None.
    assert DeployedOutputs(app, {}).services.service_name(api) is None
