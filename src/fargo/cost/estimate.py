"""Templates and their parameters → an Estimate. Pure: no AWS calls, so deployed templates
price exactly as new ones do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from fargo.cost.inputs import StackInput, from_templates
from fargo.cost.lines import Estimate, Line, Unpriced
from fargo.cost.pricers import FREE, PRICERS, Context, MissingPriceError, insights_enabled
from fargo.cost.prices import load_prices
from fargo.cost.profiles import Profile
from fargo.cost.usage import Usage
from fargo.manifest.load import LoadedManifest
from fargo.model.app import App
from fargo.synth import synth

_CDN_TYPES = frozenset({"AWS::CloudFront::Distribution"})


def estimate(
    stacks: Iterable[StackInput],
    region: str,
    usage: Usage | None = None,
    *,
    has_cdn: bool | None = None,
) -> Estimate:
    """`has_cdn`: whether CloudFront sits in front of the load balancer, carrying its egress;
    when not given, whether the templates hold a distribution."""
    stacks = list(stacks)
    usage = usage or Usage()
    prices = load_prices(region)
    types = [r["Type"] for s in stacks for r in s.resources.values()]
    if has_cdn is None:
        has_cdn = any(t in _CDN_TYPES for t in types)
    insights = any(
        r["Type"] == "AWS::ECS::Cluster" and insights_enabled(r.get("Properties", {}))
        for s in stacks
        for r in s.resources.values()
    )
    lines: list[Line] = []
    unpriced: list[Unpriced] = []
    for stack in stacks:
        ctx = Context(stack, prices, usage, has_cdn=has_cdn, container_insights=insights)
        for logical_id, resource in stack.resources.items():
            kind = resource["Type"]
            pricer = PRICERS.get(kind)
            if pricer is not None:
                try:
                    lines.extend(pricer(ctx, logical_id, resource.get("Properties", {})))
                except MissingPriceError as missing:
                    reason = f"the {region} price table has no line {missing.key}"
                    unpriced.append(Unpriced(stack.name, logical_id, kind, reason))
            elif kind not in FREE:
                reason = "fargo does not price this resource type yet"
                unpriced.append(Unpriced(stack.name, logical_id, kind, reason))
    return Estimate(region, usage, tuple(lines), tuple(unpriced))


def estimate_app(app: App, usage: Usage | None = None) -> Estimate:
    """What `fargo cost` prices: the app's synthesized stacks. CloudFront carries the load
    balancer's egress when it is in front of the app: a distribution fargo creates for it
    (`cdn: { app }`) or the user's own (`cdn: existing`, in no template); not a static
    site's distribution, which serves the bucket only."""
    in_front = app.cdn is not None and (app.cdn.existing is not None or app.cdn.app)
    return estimate(from_templates(synth(app)), app.region, usage, has_cdn=in_front)


def as_profile(loaded: LoadedManifest, profile: Profile) -> LoadedManifest:
    """The manifest (environment overlay applied) as if its `profile:` were `profile`: what
    `fargo cost --profile` prices, to compare profiles before choosing one."""
    return replace(loaded, manifest=loaded.manifest.model_copy(update={"profile": profile}))
