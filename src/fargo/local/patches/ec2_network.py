"""AWS::EC2::EIP, NatGateway, SecurityGroupIngress and SecurityGroupEgress.

Gap (ministack 1.5.33): its CloudFormation registers no provisioner for these
four types, so a template declaring one fails validation with "Unrecognized
resource types". ministack's EC2 API already keeps addresses, NAT gateways and
security-group rules, so these provisioners write records of the shape its EC2
handlers write, and DescribeAddresses, DescribeNatGateways and
DescribeSecurityGroups show what the stack made.
"""

import secrets
from functools import partial
from types import ModuleType
from typing import Any

from ._ministack import attr, module, provisioner_table

Props = dict[str, Any]
# A provisioner's answer: the physical id (what Ref gives) and the GetAtt attributes.
Provisioned = tuple[str, dict[str, Any]]

_EC2 = "ministack.services.ec2"
_PROVISIONERS = "ministack.services.cloudformation.provisioners"

# "Update requires: Replacement" in the CloudFormation template reference; every
# other property of these types updates in place.
_REPLACING = {
    "AWS::EC2::EIP": (
        "Address",
        "Domain",
        "IpamPoolId",
        "NetworkBorderGroup",
        "PublicIpv4Pool",
        "TransferAddress",
    ),
    "AWS::EC2::NatGateway": ("AllocationId", "ConnectivityType", "PrivateIpAddress", "SubnetId"),
    "AWS::EC2::SecurityGroupIngress": (
        "CidrIp",
        "CidrIpv6",
        "FromPort",
        "GroupId",
        "GroupName",
        "IpProtocol",
        "SourcePrefixListId",
        "SourceSecurityGroupId",
        "SourceSecurityGroupName",
        "SourceSecurityGroupOwnerId",
        "ToPort",
    ),
    "AWS::EC2::SecurityGroupEgress": (
        "CidrIp",
        "CidrIpv6",
        "DestinationPrefixListId",
        "DestinationSecurityGroupId",
        "FromPort",
        "GroupId",
        "IpProtocol",
        "ToPort",
    ),
}
# The ministack internals these provisioners use, checked once at start-up.
_USED = {
    _EC2: (
        "_addresses",
        "_nat_gateways",
        "_security_groups",
        "_subnets",
        "_tags",
        "_random_ip",
        "_now_ts",
        "_sg_rule_id",
        "_rules_match",
        "_ensure_defaults_initialized",
        "_DEFAULT_VPC_ID",
    ),
    _PROVISIONERS: ("_ec2_apply_tags", "_ec2_sg_permissions"),
}


def _ec2() -> ModuleType:
    return module(_EC2)


def _tags(resource_id: str, props: Props, old_props: Props | None = None) -> None:
    module(_PROVISIONERS)._ec2_apply_tags(resource_id, props, old_props)


def _hex_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def _address(public_ip: str) -> dict[str, Any] | None:
    return next((a for a in _ec2()._addresses.values() if a["PublicIp"] == public_ip), None)


def _eip_attributes(address: dict[str, Any]) -> dict[str, Any]:
    return {"AllocationId": address["AllocationId"], "PublicIp": address["PublicIp"]}


def _eip_create(logical_id: str, props: Props, stack_name: str) -> Provisioned:
    """Allocate an address; like AWS, its physical id (and Ref) is the public IP."""
    ec2 = _ec2()
    address = {
        "AllocationId": _hex_id("eipalloc"),
        "PublicIp": ec2._random_ip("52."),
        "Domain": props.get("Domain", "vpc"),
        "AssociationId": _hex_id("eipassoc") if props.get("InstanceId") else None,
        "InstanceId": props.get("InstanceId"),
        "NetworkInterfaceId": None,
        "PrivateIpAddress": None,
    }
    ec2._addresses[address["AllocationId"]] = address
    _tags(address["AllocationId"], props)
    return address["PublicIp"], _eip_attributes(address)


def _eip_update(
    physical_id: str, old_props: Props, new_props: Props, stack_name: str
) -> Provisioned:
    address = _address(physical_id)
    if address is None:
        raise ValueError(f"The Elastic IP address '{physical_id}' does not exist")
    address["InstanceId"] = new_props.get("InstanceId")
    _tags(address["AllocationId"], new_props, old_props)
    return physical_id, _eip_attributes(address)


def _eip_delete(physical_id: str, props: Props) -> None:
    address = _address(physical_id)
    if address is not None:
        _ec2()._addresses.pop(address["AllocationId"], None)
        _ec2()._tags.pop(address["AllocationId"], None)


def _nat_address(props: Props) -> dict[str, Any] | None:
    """The Elastic IP a public NAT gateway needs; AWS refuses one without it."""
    if props.get("ConnectivityType", "public") != "public":
        return None
    address: Props | None = _ec2()._addresses.get(props.get("AllocationId") or "")
    if address is None:
        raise ValueError(f"The allocation ID '{props.get('AllocationId')}' does not exist")
    if address.get("AssociationId"):
        raise ValueError(f"Elastic IP address [{address['AllocationId']}] is already associated")
    return address


def _nat_create(logical_id: str, props: Props, stack_name: str) -> Provisioned:
    ec2 = _ec2()
    subnet = ec2._subnets.get(props.get("SubnetId") or "")
    if subnet is None:
        raise ValueError(f"The subnet ID '{props.get('SubnetId')}' does not exist")
    address = _nat_address(props)
    nat_id = _hex_id("nat")
    if address is not None:
        address.update(AssociationId=_hex_id("eipassoc"), NetworkInterfaceId=_hex_id("eni"))
    ec2._nat_gateways[nat_id] = {
        "NatGatewayId": nat_id,
        "SubnetId": subnet["SubnetId"],
        "VpcId": subnet["VpcId"],
        "AllocationId": props.get("AllocationId"),
        "ConnectivityType": props.get("ConnectivityType", "public"),
        "State": "available",
        "CreateTime": ec2._now_ts(),
        "Tags": [],
    }
    _tags(nat_id, props)
    return nat_id, {"NatGatewayId": nat_id}


def _nat_update(
    physical_id: str, old_props: Props, new_props: Props, stack_name: str
) -> Provisioned:
    _tags(physical_id, new_props, old_props)
    return physical_id, {"NatGatewayId": physical_id}


def _nat_delete(physical_id: str, props: Props) -> None:
    """Mark it deleted, as EC2 lists a deleted gateway for a while, and free its address."""
    ec2 = _ec2()
    nat = ec2._nat_gateways.get(physical_id)
    if nat is None:
        return
    nat["State"] = "deleted"
    address = ec2._addresses.get(nat.get("AllocationId") or "")
    if address is not None:
        address.update(AssociationId=None, NetworkInterfaceId=None)


def _group(props: Props) -> dict[str, Any] | None:
    """The group a rule belongs to: by id, or by name in the default VPC."""
    ec2 = _ec2()
    ec2._ensure_defaults_initialized()
    if props.get("GroupId"):
        group: Props | None = ec2._security_groups.get(props["GroupId"])
        return group
    return next(
        (
            g
            for g in ec2._security_groups.values()
            if g["GroupName"] == props.get("GroupName") and g["VpcId"] == ec2._DEFAULT_VPC_ID
        ),
        None,
    )


def _rules(props: Props, *, egress: bool) -> tuple[str, list[dict[str, Any]]]:
    group = _group(props)
    if group is None:
        name = props.get("GroupId") or props.get("GroupName")
        raise ValueError(f"The security group '{name}' does not exist")
    rules: list[dict[str, Any]] = group.setdefault(
        "IpPermissionsEgress" if egress else "IpPermissions", []
    )
    return group["GroupId"], rules


def _permission(props: Props) -> dict[str, Any]:
    rule: dict[str, Any] = module(_PROVISIONERS)._ec2_sg_permissions([props])[0]
    return rule


def _rule_create(logical_id: str, props: Props, stack_name: str, *, egress: bool) -> Provisioned:
    """Authorize the rule on its group; the rule id is its physical id and Id."""
    ec2 = _ec2()
    group_id, rules = _rules(props, egress=egress)
    rule = _permission(props)
    if any(ec2._rules_match(existing, rule) for existing in rules):
        raise ValueError(f"The specified rule already exists in security group '{group_id}'")
    rule["SecurityGroupRuleId"] = rule_id = ec2._sg_rule_id(group_id, egress, rule)
    rules.append(rule)
    return rule_id, {"Id": rule_id}


def _rule_update(
    physical_id: str,
    old_props: Props,
    new_props: Props,
    stack_name: str,
    *,
    egress: bool,
) -> Provisioned:
    """Only Description changes in place; everything else is a replacement."""
    ec2 = _ec2()
    group_id, rules = _rules(new_props, egress=egress)
    rule = _permission(new_props) | {"SecurityGroupRuleId": physical_id}
    rules[:] = [
        rule if ec2._sg_rule_id(group_id, egress, existing) == physical_id else existing
        for existing in rules
    ]
    return physical_id, {"Id": physical_id}


def _rule_delete(physical_id: str, props: Props, *, egress: bool) -> None:
    ec2 = _ec2()
    group = _group(props)
    if group is None:
        return
    key = "IpPermissionsEgress" if egress else "IpPermissions"
    group[key] = [
        rule
        for rule in group.get(key, [])
        if ec2._sg_rule_id(group["GroupId"], egress, rule) != physical_id
    ]


def _rule_handlers(*, egress: bool) -> dict[str, Any]:
    return {
        "create": partial(_rule_create, egress=egress),
        "update": partial(_rule_update, egress=egress),
        "delete": partial(_rule_delete, egress=egress),
    }


def provision_network_types() -> None:
    """Closes the gap in the module docstring: registers the four provisioners,
    their replacing properties and stack-tag merging."""
    for owner, names in _USED.items():
        for name in names:
            attr(module(owner), name)
    provisioner_table("_RESOURCE_HANDLERS").update(
        {
            "AWS::EC2::EIP": {"create": _eip_create, "update": _eip_update, "delete": _eip_delete},
            "AWS::EC2::NatGateway": {
                "create": _nat_create,
                "update": _nat_update,
                "delete": _nat_delete,
            },
            "AWS::EC2::SecurityGroupIngress": _rule_handlers(egress=False),
            "AWS::EC2::SecurityGroupEgress": _rule_handlers(egress=True),
        }
    )
    # Without an entry every change is "Conditional" and never replaces.
    provisioner_table("_REPLACING_PROPERTIES").update(_REPLACING)
    # So stack-level tags reach the address and the gateway, as on AWS.
    stack_tags = provisioner_table("_STACK_TAG_PROPERTY")
    stack_tags.update(dict.fromkeys(("AWS::EC2::EIP", "AWS::EC2::NatGateway"), ("Tags", "list")))
