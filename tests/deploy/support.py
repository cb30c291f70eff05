"""Reading template.yml (ROS) and s.yaml (Serverless Devs fc3) into the same shapes, so the tests can compare them."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"

# localcloud logs MNS calls by their REST name; RAM knows the batch calls under the single-message action.
_MNS_RAM = {
    "SendMessage": "SendMessage",
    "BatchSendMessage": "SendMessage",
    "ReceiveMessage": "ReceiveMessage",
    "BatchReceiveMessage": "ReceiveMessage",
    "DeleteMessage": "DeleteMessage",
    "BatchDeleteMessage": "DeleteMessage",
    "ChangeMessageVisibility": "ChangeMessageVisibility",
    "GetQueueAttributes": "GetQueueAttributes",
    "CreateQueue": "CreateQueue",
    "PublishMessage": "PublishMessage",
}


def ram_action(product: str, action: str) -> str:
    """The RAM action of one logged call: ``Ecs``/``Slb`` RPC actions keep their name, MNS maps batch calls."""
    if product in ("Ecs", "Slb", "Alb", "Nlb"):
        return f"{product.lower()}:{action}"
    if product == "Mns" and action in _MNS_RAM:
        return f"mns:{_MNS_RAM[action]}"
    raise KeyError(f"no RAM action known for {product}.{action}")


@cache
def template(name: str) -> dict[str, Any]:
    """A template parsed with plain ``yaml.safe_load`` (no ROS tags: the long forms only)."""
    data = yaml.safe_load((ROOT / name).read_text())
    assert isinstance(data, dict), f"{name}: not a mapping"
    return data


def function_dirs() -> list[str]:
    return sorted(p.name for p in FUNCTIONS.iterdir() if (p / "index.py").is_file()) if FUNCTIONS.is_dir() else []


@dataclass(frozen=True)
class Fn:
    """One function as a template describes it."""

    name: str
    runtime: str
    handler: str
    initializer: str
    env: dict[str, Any]
    triggers: list[dict[str, Any]]  # {"name": ..., "type": ..., "config": {...}, "source_arn": ..., "condition": ...}


def ros_resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template("template.yml")["Resources"].items() if v["Type"] == kind}


def ros_functions() -> dict[str, Fn]:
    triggers: dict[str, list[dict[str, Any]]] = {}
    for res in ros_resources("ALIYUN::FC::Trigger").values():
        props = res["Properties"]
        triggers.setdefault(props["FunctionName"], []).append(
            {
                "name": props["TriggerName"],
                "type": props["TriggerType"],
                "config": props["TriggerConfig"],
                "source_arn": props.get("SourceArn"),
                "condition": res.get("Condition"),
            }
        )
    out = {}
    for res in ros_resources("ALIYUN::FC::Function").values():
        p = res["Properties"]
        name = p["FunctionName"]
        out[name] = Fn(name, p["Runtime"], p["Handler"], p["Initializer"], p["EnvironmentVariables"], triggers[name])
    return out


def s_functions() -> dict[str, Fn]:
    out = {}
    for key, res in template("s.yaml")["resources"].items():
        assert res["component"] == "fc3", f"s.yaml: {key} is not an fc3 resource"
        p = res["props"]
        trig = [
            {
                "name": t["triggerName"],
                "type": t["triggerType"],
                "config": t["triggerConfig"],
                "source_arn": t.get("sourceArn"),
            }
            for t in p.get("triggers", [])
        ]
        init = p["instanceLifecycleConfig"]["initializer"]["handler"]
        out[key] = Fn(key, p["runtime"], p["handler"], init, p["environmentVariables"], trig)
    return out


def ros_condition_values(parameters: dict[str, Any]) -> dict[str, bool]:
    """Every condition of template.yml evaluated for these parameter values (the others at their defaults)."""
    data = template("template.yml")
    values = {k: v.get("Default") for k, v in data["Parameters"].items()} | parameters

    def evaluate(node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((fn, args),) = node.items()
            if fn == "Ref":
                return values[args]
            if fn == "Condition":
                return evaluate(data["Conditions"][args])
            if fn == "Fn::Equals":
                return evaluate(args[0]) == evaluate(args[1])
            if fn == "Fn::Not":
                return not evaluate(args[0] if isinstance(args, list) else args)
            if fn == "Fn::Or":
                return any(evaluate(a) for a in args)
            if fn == "Fn::And":
                return all(evaluate(a) for a in args)
            raise AssertionError(f"template.yml: cannot evaluate {fn} in a condition")
        return node

    return {name: bool(evaluate(cond)) for name, cond in data["Conditions"].items()}


def ros_resources_created(parameters: dict[str, Any]) -> set[str]:
    """The logical ids of the resources ROS creates for these parameter values."""
    conditions = ros_condition_values(parameters)
    resources = template("template.yml")["Resources"]
    return {name for name, res in resources.items() if conditions.get(res.get("Condition", ""), True)}


def optional_env(value: Any) -> bool:
    """A ROS value that may remove its key (``Fn::If: [cond, value, Ref: ALIYUN::NoValue]``)."""
    return isinstance(value, dict) and "Fn::If" in value and {"Ref": "ALIYUN::NoValue"} in value["Fn::If"]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for st in statements:
        actions = st["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


def code_policy_actions(data: dict[str, Any]) -> set[str]:
    """The actions of the functions' code policy: ROS ``FunctionRole`` policy ``<prefix>-code``; s.yaml
    ``vars.codePolicy``."""
    if "Resources" in data:
        role = data["Resources"]["FunctionRole"]["Properties"]
        (policy,) = [p for p in role["Policies"] if str(p["PolicyName"].get("Fn::Sub", "")).endswith("-code")]
        return _actions(policy["PolicyDocument"]["Statement"])
    return _actions(data["vars"]["codePolicy"]["Statement"])


def every_policy_action(data: dict[str, Any]) -> list[str]:
    """Every Action anywhere in a template (trust policies too), to check none is a wildcard."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Action":
                    found.extend([value] if isinstance(value, str) else value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return found


def defined_functions(path: Path) -> set[str]:
    """Top-level function names defined in a Python file (parsed, never imported)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
