"""What ECS's task descriptions say beyond their status."""

from __future__ import annotations

from typing import Any


def private_address(task: dict[str, Any]) -> str | None:
    """A Fargate task's interface address; an emulator that runs no container gives none."""
    for attachment in task.get("attachments") or []:
        if attachment.get("type") != "ElasticNetworkInterface":
            continue
        for detail in attachment.get("details") or []:
            if detail.get("name") == "privateIPv4Address" and detail.get("value"):
                return str(detail["value"])
    return None
