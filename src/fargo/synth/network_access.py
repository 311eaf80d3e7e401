"""Security groups for data stores: one port, reachable only from the app's tasks."""

from __future__ import annotations

from troposphere import Ref, Template, ec2

from fargo.model.app import App
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, add


def data_security_group(
    template: Template, app: App, inputs: Inputs, title: str, *, what: str, port: int
) -> Ref:
    group = add(
        template,
        ec2.SecurityGroup(
            title,
            GroupDescription=f"{app.name}-{app.env} {what}: only the tasks may connect",
            VpcId=inputs.network(out.VPC_ID),
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=port,
                    ToPort=port,
                    SourceSecurityGroupId=inputs.network(out.TASK_SECURITY_GROUP_ID),
                    Description=f"{what} from the app's tasks",
                )
            ],
            # A data store starts no connections; the loopback rule replaces AWS's default
            # allow-all egress with nothing.
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="-1", CidrIp="127.0.0.1/32", Description="no outbound traffic"
                )
            ],
        ),
        f"guards the {what}",
    )
    return Ref(group)
