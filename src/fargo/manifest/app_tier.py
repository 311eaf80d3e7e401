"""Manifest sections of the app tier: cache, queues, buckets, mail and alerts."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from fargo.manifest.base import Int, Strict, invalid

_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@([A-Za-z0-9\-]+\.)+[A-Za-z]{2,63}$")
_DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_NODE = re.compile(r"^cache\.[a-z0-9]+\.[a-z0-9]+$")


class CacheSpec(Strict):
    engine: Literal["valkey", "redis"] = "valkey"
    node: str | None = Field(
        None, description="a node type such as cache.t4g.micro; omit for ElastiCache Serverless"
    )

    @field_validator("node")
    @classmethod
    def _node(cls, value: str | None) -> str | None:
        if value is not None and not _NODE.fullmatch(value):
            raise invalid(f"`{value}` is not a cache node type", "for example cache.t4g.micro")
        return value


class DeadLetterSpec(Strict):
    max_receives: Int = Field(5, ge=1, le=1000, description="receives before a message moves")


class QueueSpec(Strict):
    fifo: bool = False
    visibility: Int = Field(30, ge=0, le=43200, description="visibility timeout, seconds")
    retention: Int = Field(4, ge=1, le=14, description="days a message is kept")
    dlq: DeadLetterSpec = Field(default_factory=DeadLetterSpec)


class BucketSpec(Strict):
    versioning: bool = True
    expire_noncurrent_days: Int = Field(
        30, ge=1, le=3650, description="days old versions are kept (with versioning)"
    )


class MailSpec(Strict):
    domain: str = Field(description="the domain mail is sent from; verified with Easy DKIM")
    from_: str = Field(alias="from", description="the sender address, e.g. no-reply@DOMAIN")

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not _DOMAIN.fullmatch(value):
            raise invalid(f"`{value}` is not a domain name", "for example example.com")
        return value

    @model_validator(mode="after")
    def _sender(self) -> MailSpec:
        if not _EMAIL.fullmatch(self.from_):
            raise invalid(f"`{self.from_}` is not an email address", "e.g. no-reply@example.com")
        sender_domain = self.from_.rsplit("@", 1)[1].lower()
        if sender_domain != self.domain and not sender_domain.endswith("." + self.domain):
            raise invalid(
                f"`{self.from_}` is not an address of {self.domain}",
                "SES sends only from the verified domain or its subdomains",
            )
        return self


class AlertsSpec(Strict):
    email: tuple[str, ...] = Field(description="addresses that receive alarm notifications")

    @field_validator("email", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("email")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if not _EMAIL.fullmatch(address):
                raise invalid(f"`{address}` is not an email address", "e.g. ops@example.com")
        return value
