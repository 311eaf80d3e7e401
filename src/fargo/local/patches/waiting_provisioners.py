"""Resources whose provisioning waits are provisioned off the emulator's event loop.

Gap (ministack 1.5.33, with fargo's patches): CloudFormation provisions most resource types
on the event loop that serves every request; only the types ministack knows to block
(custom resources, wait conditions, nested stacks, ElastiCache clusters) run on a worker
thread (`stacks._runs_on_worker_thread`, then `run_reentrant`). fargo's
`ecs-service-waits-for-stability` makes the AWS::ECS::Service provisioner wait, as
CloudFormation does, until the service's tasks are running and healthy; on the event loop
that wait stopped the emulator answering anything, including the ECR pull of the very
image those tasks run, their credentials and the load balancer's health checks, so a
deploy of a pushed image hung until the wait gave up. A stack's database (the container
`rds-stack-databases-run` starts and waits for) blocked it the same way.

Now those types run on a worker thread too, like ministack's own waiting types.
"""

from collections.abc import Callable

from ._ministack import attr, module, replace

# Provisioners fargo's patches make wait on containers.
WAITING_TYPES = frozenset({"AWS::ECS::Service", "AWS::RDS::DBInstance"})


def provision_waiting_types_off_the_loop() -> None:
    stacks = module("ministack.services.cloudformation.stacks")
    original: Callable[[str], bool] = attr(stacks, "_runs_on_worker_thread")

    def runs_on_worker_thread(resource_type: str) -> bool:
        return resource_type in WAITING_TYPES or original(resource_type)

    replace(stacks, "_runs_on_worker_thread", runs_on_worker_thread)
