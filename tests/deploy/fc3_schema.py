"""A JSON schema of s.yaml for Serverless Devs' ``fc3`` component, and a checker on it.

No registry publishes the fc3 component's schema as a package (the component is published to Serverless Devs' own
registry, not to npm or PyPI), so this schema is written here from these references, nothing copied:

- devsapp/fc3 ``src/schema.json`` (commit 4ca1c1b, generated from ``src/interface/index.ts``): the function props
  (``IProps``), ``ITrigger``, the trigger configs (``ITimerTriggerConfig``, ``IMnsTriggerConfig``,
  ``IEventBridge``), ``ILogConfig``, ``IVpcConfig``, ``ILifecycleHook``, their required keys and ranges;
- FC 3.0's own models (alibabacloud_fc20230330: ``EventBridgeTriggerConfig``, ``EventSourceConfig``,
  ``SourceMNSParameters``, ``EventSinkConfig``/``DeliveryOption``, ``RunOptions``, ``BatchWindow``,
  ``RetryStrategy``, ``DeadLetterQueue``) for the EventBridge trigger's nested keys and values, which the fc3
  schema leaves open (``additionalProperties: true``).

Stricter than the component (which only logs its schema errors at debug level): unknown keys are errors wherever the
references enumerate the keys, so a misspelled property fails here instead of being ignored at deploy time. Triggers
are checked against the config of their own ``triggerType`` (the reference accepts any config for any type).
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft7Validator, ValidationError


def _obj(props: dict[str, Any], required: tuple[str, ...] = (), closed: bool = True) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": not closed}


STRING = {"type": "string"}
BOOL = {"type": "boolean"}
STRINGS = {"type": "array", "items": STRING}

LIFECYCLE_HOOK = _obj({"handler": STRING, "timeout": {"type": "number", "minimum": 1}, "command": STRINGS})
LOG_CONFIG = _obj(
    {
        "project": STRING,
        "logstore": STRING,
        "enableRequestMetrics": BOOL,
        "enableInstanceMetrics": BOOL,
        "enableLlmMetrics": BOOL,
        "logBeginRule": {"enum": ["DefaultRegex", "None"]},
    },
    ("project", "logstore"),
)
VPC_CONFIG = _obj(
    {"vpcId": STRING, "vSwitchIds": {"anyOf": [STRINGS, {"const": "auto"}]}, "securityGroupId": STRING},
    ("vpcId", "vSwitchIds", "securityGroupId"),
)
TIMER = _obj({"cronExpression": STRING, "enable": BOOL, "payload": STRING}, ("cronExpression", "enable"))
MNS_TOPIC = _obj(
    {
        "filterTag": STRING,
        "notifyContentFormat": {"enum": ["JSON", "STREAM"]},
        "notifyStrategy": {"enum": ["BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"]},
    },
    ("notifyContentFormat", "notifyStrategy"),
)
MNS_SOURCE = _obj({"QueueName": STRING, "RegionId": STRING, "IsBase64Decode": BOOL}, ("QueueName",))
EVENTBRIDGE = _obj(
    {
        "triggerEnable": BOOL,
        "asyncInvocationType": BOOL,
        "eventRuleFilterPattern": STRING,
        "eventSourceConfig": _obj(
            {
                "eventSourceType": {"enum": ["Default", "MNS", "RocketMQ", "RabbitMQ", "Kafka", "MQTT", "DTS"]},
                # the other sources' parameters (sourceKafkaParameters, ...) are not enumerated here
                "eventSourceParameters": {
                    "type": "object",
                    "properties": {"sourceMNSParameters": MNS_SOURCE},
                    "additionalProperties": True,
                },
            },
            ("eventSourceType",),
        ),
        "eventSinkConfig": _obj(
            {
                "deliveryOption": _obj(
                    {"eventSchema": {"enum": ["CloudEvents", "RawData"]}, "concurrency": {"type": "integer"}},
                    ("eventSchema",),
                )
            },
            ("deliveryOption",),
        ),
        "runOptions": _obj(
            {
                "mode": {"enum": ["event-streaming", "event-driven"]},
                "maximumTasks": {"type": "integer", "minimum": 1},
                "batchWindow": _obj(
                    {
                        "CountBasedWindow": {"type": "integer", "minimum": 1, "maximum": 10000},
                        "TimeBasedWindow": {"type": "integer", "minimum": 0, "maximum": 15},
                    },
                    ("CountBasedWindow", "TimeBasedWindow"),
                ),
                "retryStrategy": _obj(
                    {
                        "PushRetryStrategy": {"enum": ["BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"]},
                        "MaximumRetryAttempts": {"type": "integer"},
                        "MaximumEventAgeInSeconds": {"type": "integer"},
                    },
                    ("PushRetryStrategy",),
                ),
                "errorsTolerance": {"enum": ["ALL", "NONE"]},
                "deadLetterQueue": _obj({"Arn": STRING}, ("Arn",)),
            },
            ("mode",),
        ),
    },
    # the reference requires all six (IEventBridge)
    (
        "triggerEnable",
        "asyncInvocationType",
        "eventRuleFilterPattern",
        "eventSourceConfig",
        "eventSinkConfig",
        "runOptions",
    ),
)
TRIGGER_TYPES = ["cdn_events", "eventbridge", "http", "log", "mns_topic", "oss", "tablestore", "timer"]
CONFIGS = {"timer": TIMER, "mns_topic": MNS_TOPIC, "eventbridge": EVENTBRIDGE}
TRIGGER: dict[str, Any] = _obj(
    {
        "triggerName": STRING,
        "triggerType": {"enum": TRIGGER_TYPES},
        "triggerConfig": {"type": "object"},
        "description": STRING,
        "qualifier": STRING,
        "sourceArn": STRING,
        "invocationRole": STRING,
    },
    ("triggerName", "triggerType", "triggerConfig"),
)
TRIGGER["allOf"] = [
    {
        "if": {"properties": {"triggerType": {"const": kind}}, "required": ["triggerType"]},
        "then": {"properties": {"triggerConfig": config}},
    }
    for kind, config in CONFIGS.items()
]
CODE = {
    "anyOf": [
        STRING,
        _obj({"src": STRING, "ossBucketName": STRING, "ossObjectName": STRING}, ("ossBucketName", "ossObjectName")),
    ]
}
# IProps: the keys of the reference, typed where this project uses them (the others only have to exist)
OPEN = {}
FUNCTION = _obj(
    {
        "region": STRING,
        "functionName": STRING,
        "description": STRING,
        "runtime": {"enum": ["python3.9", "python3.10", "python3.12", "custom.debian10", "custom.debian11"]},
        "code": CODE,
        "handler": STRING,
        "timeout": {"type": "integer", "minimum": 1, "maximum": 86400},
        "memorySize": {"type": "integer", "multipleOf": 64, "minimum": 128, "maximum": 32768},
        "instanceConcurrency": {"type": "integer", "minimum": 1, "maximum": 200},
        "internetAccess": BOOL,
        "role": STRING,
        "environmentVariables": {"type": "object", "additionalProperties": STRING},
        "instanceLifecycleConfig": _obj({"initializer": LIFECYCLE_HOOK, "preStop": LIFECYCLE_HOOK}),
        "logConfig": {"anyOf": [LOG_CONFIG, {"const": "auto"}]},
        "vpcConfig": {"anyOf": [VPC_CONFIG, {"const": "auto"}]},
        "triggers": {"type": "array", "items": TRIGGER},
        **dict.fromkeys(
            (
                "annotations",
                "asyncInvokeConfig",
                "concurrencyConfig",
                "cpu",
                "customContainerConfig",
                "customDNS",
                "customRuntimeConfig",
                "diskSize",
                "enableLongLiving",
                "endpoint",
                "gpuConfig",
                "instanceIsolationMode",
                "layers",
                "nasConfig",
                "ossMountConfig",
                "provisionConfig",
                "resourceGroupId",
                "scalingConfig",
                "sessionAffinity",
                "sessionAffinityConfig",
                "supplement",
                "tags",
                "tracingConfig",
                "vpcBinding",
            ),
            OPEN,
        ),
    },
    ("region", "functionName", "runtime", "code", "handler"),
)
S_YAML = _obj(
    {
        "edition": {"const": "3.0.0"},
        "name": STRING,
        "access": STRING,
        "vars": {"type": "object"},
        "resources": {
            "type": "object",
            "additionalProperties": _obj({"component": {"const": "fc3"}, "props": FUNCTION}, ("component", "props")),
        },
    },
    ("edition", "name", "resources"),
)


def _deepest(error: ValidationError) -> ValidationError:
    """Inside an ``anyOf``, the alternative's error that got furthest into the value (the most telling)."""
    while error.context:
        error = max(error.context, key=lambda sub: len(sub.absolute_path))
    return error


def check(data: Any) -> list[str]:
    """Every disagreement of a parsed s.yaml with the schema, one line each naming where (empty: none)."""
    errors = [_deepest(e) for e in Draft7Validator(S_YAML).iter_errors(data)]
    lines = {f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors}
    return sorted(lines)
