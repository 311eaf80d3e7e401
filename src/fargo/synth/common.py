"""Shared synth helpers: logical ids, tags on every taggable resource, provenance stamps."""

from __future__ import annotations

from typing import Any, Literal

from troposphere import AWSObject, Output, Parameter, Ref, Tags, Template

from fargo import __version__
from fargo.model.app import App, StackKind
from fargo.synth.ids import logical_id
from fargo.synth.stack import (
    IssuedCertificate,
    ParameterValue,
    PushedImage,
    StackOutput,
    StackTemplate,
)

STAMP_KEY = "fargo"


class UncappedTemplate(Template):  # type: ignore[misc] # troposphere ships no types
    """A Template without troposphere's own stops at 500 resources and 200 parameters or
    outputs, which end synth with a bare ValueError that names neither the stack nor the
    count. The whole template is made, and fargo.synth.quotas refuses it with both."""

    def add_resource(self, resource: Any) -> Any:
        return self._update(self.resources, resource)

    def add_parameter(self, parameter: Any) -> Any:
        return self._update(self.parameters, parameter)

    def add_output(self, output: Any) -> Any:
        return self._update(self.outputs, output)


def new_template(app: App, kind: StackKind, description: str) -> Template:
    template = UncappedTemplate(Description=f"fargo {app.name}/{app.env}: {description}")
    template.set_version("2010-09-09")
    # Provenance only: the planner ignores this key when comparing with the deployed template,
    # so a new fargo version or an edit elsewhere in the manifest never forces an update.
    template.set_metadata(
        {
            STAMP_KEY: {
                "version": __version__,
                "manifest": app.manifest_digest,
                "app": app.name,
                "env": app.env,
                "stack": kind.value,
            }
        }
    )
    return template


def add(template: Template, resource: AWSObject, description: str) -> Any:
    """Add `resource` with a human description in its Metadata (shown by plan and status)."""
    metadata = dict(getattr(resource, "Metadata", None) or {})
    metadata[STAMP_KEY] = {"description": description}
    resource.Metadata = metadata
    return template.add_resource(resource)


def parameter(template: Template, name: str, kind: str = "String", description: str = "") -> Any:
    return template.add_parameter(Parameter(name, Type=kind, Description=description))


class Inputs:
    """Upstream outputs a template needs, declared as parameters on first use.

    Only what a template references becomes a parameter, so no stack carries unused inputs.
    """

    def __init__(self, template: Template) -> None:
        self._template = template
        self.values: dict[str, ParameterValue] = {}

    def ref(self, key: str, stack: StackKind) -> Ref:
        if key not in self.values:
            kind = "CommaDelimitedList" if key.endswith("Ids") else "String"
            parameter(self._template, key, kind, f"{stack.value} stack output {key}")
            self.values[key] = StackOutput(stack, key)
        return Ref(key)

    def network(self, key: str) -> Ref:
        return self.ref(key, StackKind.NETWORK)

    def data(self, key: str) -> Ref:
        return self.ref(key, StackKind.DATA)

    def image(self, service: str) -> Ref:
        """The digest-pinned reference of the image `service` builds."""
        key = f"{logical_id(service)}Image"
        if key not in self.values:
            parameter(self._template, key, "String", f"image built from {service}'s Dockerfile")
            self.values[key] = PushedImage(service)
        return Ref(key)

    def certificate(self, scope: Literal["regional", "cloudfront"]) -> Ref:
        """The ARN of the domain's ACM certificate, issued before any stack changes."""
        key = "CertificateArn" if scope == "regional" else "CloudFrontCertificateArn"
        if key not in self.values:
            parameter(self._template, key, "String", f"ACM certificate ({scope}) of the domain")
            self.values[key] = IssuedCertificate(scope)
        return Ref(key)


def output(template: Template, key: str, value: object, description: str = "") -> None:
    template.add_output(Output(key, Value=value, Description=description or key))


def tag_everything(template: Template, tags: dict[str, str]) -> None:
    """Put the app's tags on every resource type that takes them."""
    for resource in template.resources.values():
        spec = resource.props.get("Tags")
        if spec is None:
            continue
        existing = resource.properties.get("Tags")
        if isinstance(spec[0], type) and spec[0] is dict:
            resource.properties["Tags"] = {**tags, **(existing or {})}
            continue
        merged = Tags(**tags)
        if isinstance(existing, Tags):
            merged += existing
        resource.properties["Tags"] = merged


def finish(
    template: Template,
    app: App,
    kind: StackKind,
    parameters: dict[str, ParameterValue] | None = None,
    **extra: Any,
) -> StackTemplate:
    """Tag every resource and freeze the template into what plan and execute consume."""
    tags = dict(app.tags)
    tag_everything(template, tags)
    return StackTemplate(
        kind,
        app.stack_name(kind),
        template.to_dict(),
        parameters=parameters or {},
        tags=tags,
        **extra,
    )


def skip_check(resource: AWSObject, check_id: str, reason: str) -> None:
    """Record a checkov check this resource deliberately does not meet, and why."""
    metadata = dict(getattr(resource, "Metadata", None) or {})
    checkov = dict(metadata.get("checkov", {}))
    checkov["skip"] = [*checkov.get("skip", []), {"id": check_id, "comment": reason}]
    metadata["checkov"] = checkov
    resource.Metadata = metadata
