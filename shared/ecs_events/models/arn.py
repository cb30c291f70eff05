"""Alibaba Cloud Resource Names: ``acs:ecs:<region>:<account>:<type>/<id>``."""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple

from pydantic import PlainSerializer, PlainValidator

from ecs_events.errors import quote

_new = tuple.__new__


class ResourceArn(NamedTuple):
    service: str
    region: str
    account: str
    resource_type: str  # instance | disk | snapshot | ...
    resource_id: str

    def __str__(self) -> str:
        return f"acs:{self.service}:{self.region}:{self.account}:{self.resource_type}/{self.resource_id}"

    @classmethod
    def parse(cls, value: Any) -> ResourceArn:
        """Parse an ARN; raises ValueError naming what is wrong."""
        if value.__class__ is not str:  # a str (from JSON) is what arrives: one class test for it
            if isinstance(value, ResourceArn):
                return value
            if not isinstance(value, str):
                raise ValueError(f"expected an ARN string, got {type(value).__name__}")
        parts = value.split(":", 4)
        if len(parts) != 5 or parts[0] != "acs" or not parts[1]:
            raise ValueError(f"not an ARN: {quote(value)} (expected acs:ecs:<region>:<account>:<type>/<id>)")
        resource_type, slash, resource_id = parts[4].partition("/")
        if not slash or not resource_type or not resource_id:
            raise ValueError(f"ARN resource is not <type>/<id>: {quote(value)}")
        return _new(cls, (parts[1], parts[2], parts[3], resource_type, resource_id))  # the named __new__ is Python


Arn = Annotated[
    ResourceArn,
    PlainValidator(ResourceArn.parse, json_schema_input_type=str),
    PlainSerializer(str, return_type=str),
]
