"""The load balancer's data plane answers for a load balancer of any account and region.

Gap (ministack 1.5.33): a request to a load balancer (on its DNS name, or under
``/_alb/<name>/``) is served only if the load balancer is in the account and region the
request names, and a request to a load balancer names neither: it carries no SigV4
signature, so ministack takes the default account and region (000000000000, us-east-1).
A load balancer made with other credentials, or in another region, answers nothing (the
request falls through to the other services), while on AWS a load balancer answers anyone
who reaches its address. Its listeners, rules and targets are looked up in the request's
scope too, so even a found load balancer would route with none of them.

A load balancer not found in the request's scope is now looked for in every account and
region, and the request is routed in the scope of the load balancer's ARN
(``arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/...``), so its listeners,
rules and targets are its own.
"""

from collections.abc import Callable, Iterator
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, replace


def _all_load_balancers() -> Iterator[dict[str, Any]]:
    stored = attr(module("ministack.services.alb"), "_lbs")
    data = getattr(stored, "_data", None)
    if not isinstance(data, dict):
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: alb._lbs keeps no _data dict"
        )
    yield from (lb for lb in list(data.values()) if isinstance(lb, dict))


def _anywhere(
    original: Callable[[str], Any], matches: Callable[[dict[str, Any], str], bool]
) -> Callable[[str], Any]:
    def find(key: str) -> Any:
        found = original(key)
        if found is not None:
            return found
        return next((lb for lb in _all_load_balancers() if matches(lb, key)), None)

    return find


def _by_host(lb: dict[str, Any], host: str) -> bool:
    hostname = host.split(":", maxsplit=1)[0].lower()
    name = str(lb.get("LoadBalancerName", "")).lower()
    return hostname in (str(lb.get("DNSName", "")).lower(), f"{name}.alb.localhost")


def _by_name(lb: dict[str, Any], name: str) -> bool:
    return str(lb.get("LoadBalancerName", "")).lower() == name.lower()


def serve_any_account() -> None:
    alb = module("ministack.services.alb")
    request_scope = attr(module("ministack.core.responses"), "request_scope")
    replace(alb, "find_lb_for_host", _anywhere(attr(alb, "find_lb_for_host"), _by_host))
    replace(alb, "_find_lb_by_name", _anywhere(attr(alb, "_find_lb_by_name"), _by_name))
    dispatch = attr(alb, "dispatch_request")

    async def dispatch_in_its_scope(lb: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        parts = str(lb.get("LoadBalancerArn", "")).split(":")
        if len(parts) < 6:
            return await dispatch(lb, *args, **kwargs)
        with request_scope(parts[4], parts[3]):
            return await dispatch(lb, *args, **kwargs)

    replace(alb, "dispatch_request", dispatch_in_its_scope)
