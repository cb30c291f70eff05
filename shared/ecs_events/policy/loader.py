"""Reading a policy file: YAML -> ``Policy``, every failure a one-line ``PolicyError`` naming the file and field.

The operator fixes these before deploying, so the message says where: ``policy.yaml: field window.daily: expected
HH:MM-HH:MM, got '25:00-03:00'``, ``policy.yaml:4:9: invalid YAML: ...``. A key given twice is an error too (YAML
would silently keep the last one, hiding a typo or a bad merge).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ecs_events.policy.errors import FieldValueError, PolicyError, shown
from ecs_events.policy.model import Policy


def load_policy(path: str | Path | None) -> Policy:
    """The policy in ``path``; the defaults for None or an empty file. Raises ``PolicyError``."""
    if path is None:
        return Policy()
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("no such file", file=file) from None
    except IsADirectoryError:
        raise PolicyError("is a directory, expected a YAML file", file=file) from None
    except UnicodeDecodeError:
        raise PolicyError("not UTF-8 text", file=file) from None
    except OSError as exc:
        raise PolicyError(f"cannot read: {exc.strerror or exc}", file=file) from None
    return parse_policy(_load_yaml(text, file), file=file)


def parse_policy(data: Mapping[str, Any] | None, *, file: str = "policy") -> Policy:
    """A policy from already-parsed data (None = defaults); ``file`` names the source in errors."""
    if data is None:
        return Policy()
    if not isinstance(data, Mapping):
        raise PolicyError(f"expected a mapping of policy keys at the top level, got {type(data).__name__}", file=file)
    try:
        return Policy.model_validate(dict(data))
    except ValidationError as exc:
        raise _policy_error(exc, file) from None


def _load_yaml(text: str, file: str) -> Any:
    import yaml

    class _Loader(yaml.SafeLoader):
        """SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                mark = key_node.start_mark
                where = f"{file}:{mark.line + 1}:{mark.column + 1}"
                raise PolicyError(f"key {shown(key)} given twice in one mapping", file=where) from None
            seen.add(key)
        return loader.construct_mapping(node)

    def readable(kind: str, construct: Any) -> Any:
        """A scalar constructor that reports what YAML itself cannot read (``2026-02-30``, an int of 5000 digits:
        PyYAML raises a bare ValueError for those) as a PolicyError at the value."""

        def construct_scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
            try:
                return construct(loader, node)
            except (ValueError, OverflowError) as exc:
                mark = node.start_mark
                reason = str(exc).split(";")[0].split(":")[0]
                where = f"{file}:{mark.line + 1}:{mark.column + 1}"
                raise PolicyError(
                    f"invalid YAML: {shown(node.value)} is not a valid {kind} ({reason})", file=where
                ) from None

        return construct_scalar

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    for tag, kind, construct in (
        ("int", "integer", yaml.SafeLoader.construct_yaml_int),
        ("float", "number", yaml.SafeLoader.construct_yaml_float),
        ("timestamp", "date", yaml.SafeLoader.construct_yaml_timestamp),
    ):
        _Loader.add_constructor(f"tag:yaml.org,2002:{tag}", readable(kind, construct))
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        problem = exc.problem or "syntax error"
        if exc.context and exc.context_mark and exc.context_mark is not mark:
            started = exc.context_mark
            problem = f"{exc.context} at {started.line + 1}:{started.column + 1}: {problem}"
        raise PolicyError(f"invalid YAML: {problem}", file=where) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"invalid YAML: {' '.join(str(exc).split())}", file=file) from None


def _policy_error(exc: ValidationError, file: str) -> PolicyError:
    """The first error, as one line: its location as a dotted field, and a reason an operator can act on."""
    errors = exc.errors()
    first = errors[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, FieldValueError):
        field = ".".join(part for part in (field, cause.field) if part)
    reason = _reason(first)
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more)"
    return PolicyError(reason, file=file, field=field)


def _reason(error: Any) -> str:
    kind, message, value = error["type"], error["msg"], error.get("input")
    if kind == "extra_forbidden":
        return "unknown key (a typo?)"
    if kind == "missing":
        return "required"
    if kind == "value_error":
        return str(message).removeprefix("Value error, ")
    quoted = shown(value) if isinstance(value, (str, int, float, bool)) or value is None else type(value).__name__
    return f"{message}, got {quoted}"
