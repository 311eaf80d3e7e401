"""The cost side of `plan`: the monthly total before (the deployed templates and their
parameters) and after (the new ones), the delta per line item, and warnings for expensive
choices that name the cheaper alternative."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fargo.cost.estimate import estimate
from fargo.cost.inputs import StackInput, from_templates
from fargo.cost.lines import CostDelta, Estimate, money
from fargo.cost.prices import load_prices, regions
from fargo.cost.usage import HOURS_PER_MONTH
from fargo.errors import FargoError
from fargo.plan.checks import PlanWarning
from fargo.plan.planner import Plan
from fargo.synth.stack import StackTemplate


def plan_cost(
    plan: Plan,
    templates: tuple[StackTemplate, ...],
    deployed_body: Callable[[str], dict[str, Any]],
    region: str,
) -> CostDelta:
    """`deployed_body(name)` reads a deployed stack's template (CloudFormation's
    GetTemplate); everything else comes from what planning already read."""
    before = [
        StackInput(s.name, deployed_body(s.name), dict(s.deployed.parameters))
        for s in plan.stacks
        if s.deployed is not None and not s.recreate
    ] + [
        StackInput(r.name, deployed_body(r.name), dict(r.deployed.parameters))
        for r in plan.removals
    ]
    resolved = {s.name: s.parameters or {} for s in plan.stacks}
    after = [
        # An upstream output the new templates fix literally (AssignPublicIp) wins over the
        # deployed value planning resolved: it is what the stacks will hold after deploy.
        StackInput(i.name, i.body, {**resolved.get(i.name, {}), **i.parameters})
        for i in from_templates(templates)
    ]
    return CostDelta(estimate(before, region), estimate(after, region))


def price_plan(
    plan: Plan,
    templates: tuple[StackTemplate, ...],
    deployed_body: Callable[[str], dict[str, Any]],
    region: str,
    profile: str,
) -> tuple[CostDelta | None, list[PlanWarning]]:
    """The plan's cost and cost warnings. A region without a price table leaves the plan
    unpriced with a warning saying so: planning itself does not depend on prices."""
    if region not in regions():
        return None, [
            PlanWarning(
                "cost-no-prices",
                f"no price table for {region} (fargo has {', '.join(regions())}); "
                "the plan is not priced",
            )
        ]
    try:
        cost = plan_cost(plan, templates, deployed_body, region)
    except FargoError as error:  # AwsError too: reading a deployed template can fail
        # A plan shows what the deploy would change; a price that cannot be worked out
        # never stops it.
        return None, [PlanWarning("cost-unpriced", f"the plan is not priced: {error.message}")]
    gaps = [
        PlanWarning(
            "cost-unpriced",
            f"{gap.stack} {gap.resource} ({gap.type}) is not priced: {gap.reason}; "
            "the totals leave it out",
        )
        for gap in cost.after.unpriced
    ]
    return cost, [*gaps, *cost_warnings(cost.after, profile)]


def cost_warnings(after: Estimate, profile: str) -> list[PlanWarning]:
    """Expensive choices with a cheaper alternative, priced from the same table."""
    warnings: list[PlanWarning] = []
    hours = HOURS_PER_MONTH
    table = load_prices(after.region)
    # Valkey serverless at its metered minimum: the cheaper cache both warnings name.
    valkey = (
        table["elasticache_serverless.min_gb.valkey"].price
        * hours
        * table["elasticache_serverless.gb_hour.valkey"].price
    )
    nat_lines = [line for line in after.lines if line.price.key == "nat.hour"]
    if len(nat_lines) > 1 and profile != "production":
        per_gateway = nat_lines[0].price.price + table["public_ipv4.hour"].price
        saved = (len(nat_lines) - 1) * hours * per_gateway
        warnings.append(
            PlanWarning(
                "cost-nat-per-az",
                f"{len(nat_lines)} NAT gateways (one per AZ) on the {profile} profile: "
                f"network.nat: single would cost {money(saved)} a month less",
            )
        )
    for line in after.lines:
        if line.price.key == "elasticache_serverless.gb_hour.redis":
            saved = line.monthly - valkey
            warnings.append(
                PlanWarning(
                    "cost-redis-serverless",
                    f"{line.resource}: ElastiCache Serverless for Redis OSS meters 1 GB at least "
                    f"({money(line.monthly)} a month); cache.engine: valkey meters 100 MB "
                    f"(about {money(valkey)}), {money(saved)} a month less",
                )
            )
        if line.price.key.startswith("elasticache.node_hour.") and line.monthly > valkey:
            warnings.append(
                PlanWarning(
                    "cost-node-cache",
                    f"{line.resource}: {line.item} costs {money(line.monthly)} a month; "
                    f"a Valkey serverless cache at its 100 MB minimum about {money(valkey)}, "
                    f"{money(line.monthly - valkey)} less while the data stays small",
                )
            )
    return warnings
