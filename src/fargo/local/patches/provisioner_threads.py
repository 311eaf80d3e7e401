"""Provisioners that wait on containers run on a worker thread, off the event loop.

Gap (ministack 1.5.33): CloudFormation provisions most resource types on the emulator's
event loop, which also serves every API request, and keeps only the types it knows to block
(custom resources, wait conditions, nested stacks, ElastiCache clusters) on a worker thread
(``stacks._runs_on_worker_thread``). fargo's provisioners add three that block: a
serverless cache starts its container and waits for it (``elasticache``), an ECS
service's create or update waits for its rollout (``ecs_service_stabilization``), whose
tasks pull their images from the emulator's own ECR, and a database starts its container
(``rds_containers``). On the loop, the rollout deadlocked (the pull waited for the loop, the
loop for the rollout) and each froze every other request, fargo's stack-event stream
included, for as long as it waited.

Now those types run on a worker thread too, as ministack runs its own blocking types.
"""

from collections.abc import Callable

from ._ministack import module, replace

BLOCKING_TYPES = frozenset(
    {
        "AWS::ECS::Service",
        "AWS::RDS::DBInstance",
        "AWS::ElastiCache::ServerlessCache",
    }
)


def _also_blocking(original: Callable[[str], bool]) -> Callable[[str], bool]:
    def runs_on_worker_thread(resource_type: str) -> bool:
        return resource_type in BLOCKING_TYPES or original(resource_type)

    return runs_on_worker_thread


def keep_blocking_provisioners_off_the_loop() -> None:
    stacks = module("ministack.services.cloudformation.stacks")
    replace(stacks, "_runs_on_worker_thread", _also_blocking(stacks._runs_on_worker_thread))
