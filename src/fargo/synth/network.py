"""Network stack: VPC, subnets, routing, ECS cluster, security groups, and the ALB and its
listeners when a service takes HTTP traffic."""

from __future__ import annotations

import ipaddress

from troposphere import GetAtt, GetAZs, Join, Output, Ref, Select, Template, ec2, ecs
from troposphere import elasticloadbalancingv2 as elbv2

from fargo.model.app import App, StackKind
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, add, finish, new_template, skip_check
from fargo.synth.listeners import add_listeners
from fargo.synth.origin_verify import add_secret
from fargo.synth.stack import StackTemplate

# /20 slots in the /16: public from 0, private (NAT) from 4, isolated data from 8.
_PUBLIC_SLOT, _PRIVATE_SLOT, _DATA_SLOT = 0, 4, 8


def synth_network(app: App) -> StackTemplate:
    template = new_template(app, StackKind.NETWORK, "VPC, subnets, ECS cluster and load balancer")
    net = app.network
    vpc = add(
        template,
        ec2.VPC("Vpc", CidrBlock=net.cidr, EnableDnsHostnames=True, EnableDnsSupport=True),
        "the app's own VPC",
    )
    gateway = add(template, ec2.InternetGateway("InternetGateway"), "internet access for the VPC")
    attach = add(
        template,
        ec2.VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(gateway)
        ),
        "attaches the internet gateway",
    )
    public_routes = add(
        template, ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc)), "routes public subnets"
    )
    add(
        template,
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attach.title,
            RouteTableId=Ref(public_routes),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(gateway),
        ),
        "public subnets reach the internet through the gateway",
    )
    public = _subnets(template, app, "Public", _PUBLIC_SLOT, Ref(public_routes))
    data_routes = add(
        template,
        ec2.RouteTable("DataRouteTable", VpcId=Ref(vpc)),
        "routes data subnets: local only, nothing reaches the internet",
    )
    data = _subnets(template, app, "Data", _DATA_SLOT, Ref(data_routes))
    task_subnets = public
    if net.private_tasks:
        task_subnets = _private_subnets(template, app, public)
    # No service takes HTTP traffic, no load balancer (it bills by the hour): adding one
    # later adds it, its listeners and its security group, and opens the task group to it.
    balancer_group = _load_balancer_security_group(template, app) if app.load_balanced else None
    tasks_group = _task_security_group(template, app, balancer_group)
    _cluster(template)
    inputs = Inputs(template)
    if balancer_group is not None:
        _load_balancer(template, app, public, balancer_group, inputs)
    _outputs(
        template,
        task_subnets,
        data,
        (balancer_group, tasks_group),
        assign_public_ip=not net.private_tasks,
    )
    if app.domain is not None and balancer_group is None:
        template.add_output(Output(out.DOMAIN_ZONE, Value=app.domain.name))
    if app.cdn is not None:
        add_secret(template, app)
    return finish(template, app, StackKind.NETWORK, inputs.values)


def _cidr(app: App, slot: int) -> str:
    block = ipaddress.ip_network(app.network.cidr)
    return str(list(block.subnets(new_prefix=20))[slot])


def _subnets(template: Template, app: App, tier: str, slot: int, routes: Ref) -> list[Ref]:
    return [
        _subnet(template, app, tier, slot=slot, index=index, routes=routes)
        for index in range(app.network.azs)
    ]


def _subnet(template: Template, app: App, tier: str, *, slot: int, index: int, routes: Ref) -> Ref:
    subnet = add(
        template,
        ec2.Subnet(
            f"{tier}Subnet{index + 1}",
            VpcId=Ref("Vpc"),
            CidrBlock=_cidr(app, slot + index),
            AvailabilityZone=Select(index, GetAZs("")),
        ),
        f"{tier.lower()} subnet in availability zone {index + 1}",
    )
    add(
        template,
        ec2.SubnetRouteTableAssociation(
            f"{tier}Subnet{index + 1}Routes", SubnetId=Ref(subnet), RouteTableId=routes
        ),
        f"{tier.lower()} subnet {index + 1} uses the {tier.lower()} routes",
    )
    return Ref(subnet)


def _private_subnets(template: Template, app: App, public: list[Ref]) -> list[Ref]:
    """Private task subnets behind NAT: one gateway for `single`, one per AZ for `per-az`."""
    gateways = 1 if app.network.nat == "single" else app.network.azs
    for index in range(gateways):
        eip = add(
            template,
            ec2.EIP(f"NatAddress{index + 1}", Domain="vpc"),
            f"public address of NAT gateway {index + 1}",
        )
        add(
            template,
            ec2.NatGateway(
                f"NatGateway{index + 1}",
                AllocationId=GetAtt(eip, "AllocationId"),
                SubnetId=public[index],
            ),
            f"NAT gateway {index + 1}: outbound internet for private subnets",
        )
    out = []
    for index in range(app.network.azs):
        routes = add(
            template,
            ec2.RouteTable(f"PrivateRouteTable{index + 1}", VpcId=Ref("Vpc")),
            f"routes private subnet {index + 1} through NAT",
        )
        add(
            template,
            ec2.Route(
                f"PrivateDefaultRoute{index + 1}",
                RouteTableId=Ref(routes),
                DestinationCidrBlock="0.0.0.0/0",
                NatGatewayId=Ref(f"NatGateway{min(index, gateways - 1) + 1}"),
            ),
            f"private subnet {index + 1} reaches the internet through NAT",
        )
        out.append(
            _subnet(template, app, "Private", slot=_PRIVATE_SLOT, index=index, routes=Ref(routes))
        )
    return out


def _load_balancer_security_group(template: Template, app: App) -> Ref:
    ports = [(80, "HTTP")] + ([(443, "HTTPS")] if app.domain is not None else [])
    alb = add(
        template,
        ec2.SecurityGroup(
            "LoadBalancerSecurityGroup",
            # Kept as it is when a domain adds 443: a new description replaces the group.
            GroupDescription=f"{app.name}-{app.env} load balancer: HTTP from anywhere",
            VpcId=Ref("Vpc"),
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=port,
                    ToPort=port,
                    CidrIp="0.0.0.0/0",
                    Description=f"{name} from the internet",
                )
                for port, name in ports
            ],
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=1,
                    ToPort=65535,
                    CidrIp=app.network.cidr,
                    Description="to tasks inside the VPC only",
                )
            ],
        ),
        "admits web traffic to the load balancer",
    )
    skip_check(
        alb,
        "CKV_AWS_260",
        "the entry point of the internet-facing load balancer: HTTP from anywhere is its job; "
        "tasks admit traffic only from this group",
    )
    return Ref(alb)


def _task_security_group(template: Template, app: App, balancer: Ref | None) -> Ref:
    from_balancer = (
        []
        if balancer is None
        else [
            ec2.SecurityGroupRule(
                IpProtocol="tcp",
                FromPort=1,
                ToPort=65535,
                SourceSecurityGroupId=balancer,
                Description="from the load balancer",
            )
        ]
    )
    tasks = add(
        template,
        ec2.SecurityGroup(
            "TaskSecurityGroup",
            # The same with or without a load balancer: a new description replaces the group,
            # and the data stores' groups admit this one by id.
            GroupDescription=f"{app.name}-{app.env} tasks: only the load balancer may connect",
            VpcId=Ref("Vpc"),
            # Inline rules, not AWS::EC2::SecurityGroupIngress: one resource per group keeps
            # updates atomic. Without a load balancer nothing may connect.
            **({"SecurityGroupIngress": from_balancer} if from_balancer else {}),
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="-1",
                    CidrIp="0.0.0.0/0",
                    Description="image pulls, AWS APIs and the app's own outbound calls",
                )
            ],
        ),
        "guards the Fargate tasks",
    )
    return Ref(tasks)


def _cluster(template: Template) -> None:
    cluster = add(
        template,
        ecs.Cluster(
            "Cluster",
            CapacityProviders=["FARGATE", "FARGATE_SPOT"],
            DefaultCapacityProviderStrategy=[
                ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE", Weight=1)
            ],
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")],
        ),
        "ECS cluster running every service on Fargate (and Fargate Spot where asked)",
    )
    template.add_output(Output(out.CLUSTER_NAME, Value=Ref(cluster)))
    template.add_output(Output(out.CLUSTER_ARN, Value=GetAtt(cluster, "Arn")))


def _load_balancer(
    template: Template, app: App, public: list[Ref], alb_sg: Ref, inputs: Inputs
) -> None:
    alb = add(
        template,
        elbv2.LoadBalancer(
            "LoadBalancer",
            Scheme="internet-facing",
            Type="application",
            Subnets=public,
            SecurityGroups=[alb_sg],
            LoadBalancerAttributes=[
                elbv2.LoadBalancerAttributes(
                    Key="routing.http.drop_invalid_header_fields.enabled", Value="true"
                )
            ],
        ),
        "application load balancer in front of the HTTP services",
    )
    skip_check(
        alb,
        "CKV_AWS_91",
        "access logs need a log bucket with an ELB delivery policy and bill storage and "
        "requests; the per-service 5xx and latency alarms cover what the app needs",
    )
    listeners = add_listeners(template, app, Ref(alb), inputs)
    for key, value in (
        (out.LOAD_BALANCER_ARN, Ref(alb)),
        (out.LOAD_BALANCER_DNS_NAME, GetAtt(alb, "DNSName")),
        (out.LOAD_BALANCER_FULL_NAME, GetAtt(alb, "LoadBalancerFullName")),
        (out.LOAD_BALANCER_HOSTED_ZONE_ID, GetAtt(alb, "CanonicalHostedZoneID")),
        *listeners.items(),
    ):
        template.add_output(Output(key, Value=value))


def _outputs(
    template: Template,
    task_subnets: list[Ref],
    data_subnets: list[Ref],
    security: tuple[Ref | None, Ref],
    *,
    assign_public_ip: bool,
) -> None:
    balancer, tasks = security
    for key, value in (
        (out.VPC_ID, Ref("Vpc")),
        (out.TASK_SUBNET_IDS, Join(",", task_subnets)),
        (out.DATA_SUBNET_IDS, Join(",", data_subnets)),
        (out.TASK_SECURITY_GROUP_ID, tasks),
        *([(out.LOAD_BALANCER_SECURITY_GROUP_ID, balancer)] if balancer is not None else []),
        (out.ASSIGN_PUBLIC_IP, "ENABLED" if assign_public_ip else "DISABLED"),
    ):
        template.add_output(Output(key, Value=value))
