"""Alibaba's ROS resource specification, read from the published ROS CDK packages, and a template checker on it.

Each ``ros-cdk-<product>`` wheel on PyPI ships its jsii assembly (``<pkg>/_jsii/<name>@<version>.jsii.tgz``, an npm
tarball holding ``package/.jsii`` and the generated JavaScript). The packages are never imported (that would start
the jsii runtime, which needs Node.js): the tarball is read as data.

- From the assembly (``package/.jsii``): every ``Ros*`` resource class, whose docs name its ROS type ("... around the
  ROS resource type `ALIYUN::FC::Function`"); its props interface (property, required or not, type: primitive, list,
  map, nested struct, union with ``IResolvable``); its attributes (``attr*`` properties, docs "Name: ...").
- From the generated JavaScript (``package/lib/<product>.generated.js``), because the assembly only has the
  camelCase names: the exact ROS property names (``'TTL': ...(properties.ttl)``, ``'Id': ...(properties.identity)``)
  and the literal constraints (``validateRange`` min/max, ``validateAllowedValues``).
- From ``ros-cdk-core``'s JavaScript: the intrinsic function names (``Fn::*``) and the pseudo parameters
  (``ALIYUN::Region`` ...).

What an intrinsic returns is typed where that is certain (``Fn::Sub``/``Fn::Join`` a string, ``Fn::Split``/
``Fn::GetAZs`` a list, ``Ref`` of a parameter its ``Type``, ``Fn::If`` each branch checked as a value), else any.
``Fn::GetAtt`` checks the attribute exists; its value is "any" (the specification does not type attributes).

The parse runs once per process (``load()`` is cached): about half a second for the seven packages.
"""

from __future__ import annotations

import gzip
import json
import re
import tarfile
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, files, version
from typing import Any

VERSION = "1.15.0"  # pinned in pyproject.toml's dev extras
PACKAGES = ("ros-cdk-cms", "ros-cdk-fc", "ros-cdk-fc3", "ros-cdk-mns", "ros-cdk-ram", "ros-cdk-sls")
CORE = "ros-cdk-core"
RESOLVABLE = "@alicloud/ros-cdk-core.IResolvable"
TEMPLATE_SECTIONS = frozenset(
    {"ROSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Mappings", "Conditions", "Rules",
     "Resources", "Outputs", "Locals", "Transform", "Workspace"}
)  # fmt: skip
RESOURCE_KEYS = frozenset(
    {"Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "Metadata", "Count"}
)
PARAMETER_TYPES = {
    "String": "string",
    "Number": "number",
    "CommaDelimitedList": "list",
    "Json": "map",
    "Boolean": "boolean",
}
# What an intrinsic returns, where certain; any other known intrinsic returns "any".
RETURNS = {
    "Fn::Sub": "string", "Fn::Join": "string", "Fn::Base64": "string", "Fn::Base64Encode": "string",
    "Fn::Base64Decode": "string", "Fn::Str": "string", "Fn::Replace": "string", "Fn::Indent": "string",
    "Fn::FormatTime": "string", "Fn::MarketplaceImage": "string",
    "Fn::Split": "list", "Fn::GetAZs": "list", "Fn::ListMerge": "list", "Fn::Cidr": "list",
    "Fn::MergeMapToList": "list", "Fn::SelectMapList": "list",
    "Fn::Equals": "boolean", "Fn::Not": "boolean", "Fn::And": "boolean", "Fn::Or": "boolean", "Fn::Any": "boolean",
    "Fn::Contains": "boolean", "Fn::EachMemberIn": "boolean", "Fn::EachMemberEquals": "boolean",
    "Fn::MatchPattern": "boolean",
    "Fn::Length": "number", "Fn::Add": "number", "Fn::Avg": "number", "Fn::Max": "number", "Fn::Min": "number",
    "Fn::Index": "number", "Fn::Calculate": "number",
}  # fmt: skip
_SUB_VAR = re.compile(r"\$\{([^!}][^}]*)\}")


class SpecError(Exception):
    """The installed ROS CDK packages cannot be read as expected (wrong version, changed layout)."""


@dataclass(frozen=True)
class Prop:
    name: str  # the ROS name (``VSwitchIds``)
    required: bool
    type: dict[str, Any]  # a jsii type reference
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Struct:
    fqn: str
    props: dict[str, Prop]  # by ROS name


@dataclass(frozen=True)
class ResourceType:
    name: str  # ``ALIYUN::FC::Function``
    props: str  # fqn of its props struct
    attributes: frozenset[str]


@dataclass
class Spec:
    resources: dict[str, ResourceType] = field(default_factory=dict)
    structs: dict[str, Struct] = field(default_factory=dict)
    intrinsics: frozenset[str] = frozenset()
    pseudo: frozenset[str] = frozenset()


# -- reading the packages -----------------------------------------------------------------------------------------
def _tarball(dist: str) -> tarfile.TarFile:
    try:
        found = version(dist)
    except PackageNotFoundError:
        raise SpecError(f"{dist} is not installed: pip install -e '.[dev]'") from None
    if found != VERSION:
        raise SpecError(f"{dist} {found} is installed, the checks are written for {VERSION}")
    tgz = [f for f in files(dist) or [] if str(f).endswith(".jsii.tgz")]
    if len(tgz) != 1:
        raise SpecError(f"{dist}: expected one _jsii/*.jsii.tgz, found {[str(f) for f in tgz]}")
    return tarfile.open(str(tgz[0].locate()), "r:gz")


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    handle = tar.extractfile(name)
    if handle is None:
        raise SpecError(f"{tar.name!r}: no {name}")
    return handle.read()


def _assembly(tar: tarfile.TarFile) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_member(tar, "package/.jsii"))
    if data.get("schema") == "jsii/file-redirect":  # a compressed assembly beside a redirect
        raw = _member(tar, "package/" + data["filename"])
        data = json.loads(gzip.decompress(raw) if data.get("compression") == "gzip" else raw)
    if not str(data.get("schema", "")).startswith("jsii/"):
        raise SpecError(f"{tar.name!r}: package/.jsii is not a jsii assembly")
    return data


def _key(path: str) -> str:
    """``RosService.LogConfigProperty`` / ``RosService_LogConfigProperty`` -> ``rosServiceLogConfigProperty``."""
    flat = path.replace(".", "").replace("_", "")
    return flat[:1].lower() + flat[1:]


_TO_TEMPLATE = re.compile(
    r"^function (\w+)ToRosTemplate\(properties(?:, enableResourcePropertyConstraint)?\) \{$", re.M
)
_VALIDATOR = re.compile(r"^function (\w+)Validator\(properties\) \{$", re.M)
_MAPPING = re.compile(r"^\s+'([^']+)': .*\(properties\.(\w+)\),$", re.M)
_RANGE = re.compile(
    r"propertyValidator\('(\w+)', ros\.validateRange\)\(\{\s*data: properties\.\w+,"
    r"\s*min: (-?[\d.]+),\s*max: (-?[\d.]+),"
)
_ALLOWED = re.compile(
    r"propertyValidator\('(\w+)', ros\.validateAllowedValues\)\(\{\s*data: properties\.\w+,\s*allowedValues: (\[.*?\]),"
)


def _functions(js: str, pattern: re.Pattern[str]) -> dict[str, str]:
    """Top-level JavaScript functions matching ``pattern``: name (group 1, keyed) -> body."""
    heads = list(pattern.finditer(js))
    out = {}
    for head in heads:
        end = js.find("\n}\n", head.end())
        out[_key(head.group(1))] = js[head.end() : end]
    return out


def _names(js: str) -> dict[str, dict[str, str]]:
    """For each struct (keyed), its jsii property name -> ROS property name."""
    return {k: {jsii: ros for ros, jsii in _MAPPING.findall(body)} for k, body in _functions(js, _TO_TEMPLATE).items()}


def _constraints(js: str) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for k, body in _functions(js, _VALIDATOR).items():
        found: dict[str, dict[str, Any]] = {}
        for prop, low, high in _RANGE.findall(body):
            found.setdefault(prop, {}).update(minimum=float(low), maximum=float(high))
        for prop, values in _ALLOWED.findall(body):
            found.setdefault(prop, {})["allowed"] = tuple(json.loads(values))
        out[k] = found
    return out


_TYPE_DOC = re.compile(r"around the ROS resource type `(ALIYUN::[\w:]+)`")


def _read_package(dist: str, spec: Spec) -> None:
    with _tarball(dist) as tar:
        asm = _assembly(tar)
        product = dist.removeprefix("ros-cdk-")
        js = _member(tar, f"package/lib/{product}.generated.js").decode()
    prefix = asm["name"] + "."
    names, constraints = _names(js), _constraints(js)
    for fqn, t in asm["types"].items():
        local = fqn.removeprefix(prefix)
        if local.startswith("datasource."):
            continue
        if t["kind"] == "interface" and t.get("datatype") and local.startswith("Ros"):
            key = _key(local)
            if key not in names:
                raise SpecError(f"{dist}: no ROS names for {fqn} in the generated JavaScript")
            props = {}
            for p in t.get("properties", []):
                ros = names[key].get(p["name"])
                if ros is None:
                    raise SpecError(f"{dist}: {fqn}.{p['name']} has no ROS name in the generated JavaScript")
                limits = constraints.get(key, {}).get(p["name"], {})
                props[ros] = Prop(ros, not p.get("optional", False), p["type"], **limits)
            spec.structs[fqn] = Struct(fqn, props)
        elif t["kind"] == "class" and (m := _TYPE_DOC.search(t.get("docs", {}).get("summary", ""))):
            params = {p["name"]: p["type"] for p in t["initializer"]["parameters"]}
            attrs = frozenset(
                p["docs"]["custom"]["Attribute"].split(":", 1)[0]
                for p in t.get("properties", [])
                if p["name"].startswith("attr") and "Attribute" in p.get("docs", {}).get("custom", {})
            )
            spec.resources[m.group(1)] = ResourceType(m.group(1), params["props"]["fqn"], attrs)


@cache
def load() -> Spec:
    """The specification of the packages in ``PACKAGES`` (parsed once per process)."""
    spec = Spec()
    for dist in PACKAGES:
        _read_package(dist, spec)
    with _tarball(CORE) as tar:
        fn_js = _member(tar, "package/lib/ros-fn.js").decode()
        pseudo_js = _member(tar, "package/lib/ros-pseudo.js").decode()
    spec.intrinsics = frozenset(re.findall(r'"(Fn::\w+)"', fn_js)) | {"Ref"}
    spec.pseudo = frozenset(re.findall(r'"(ALIYUN::\w+)"', pseudo_js))
    if not {"Fn::Sub", "Fn::GetAtt", "Fn::If"} <= spec.intrinsics or "ALIYUN::Region" not in spec.pseudo:
        raise SpecError(f"{CORE}: intrinsic functions or pseudo parameters not found where expected")
    return spec


# -- checking a template ------------------------------------------------------------------------------------------
def is_intrinsic(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) == 1
        and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::"))
    )


def _python_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "map" if isinstance(value, dict) else type(value).__name__


def _closeness(errors: list[str]) -> tuple[bool, int]:
    return len(errors) != 1 or "expected" in errors[0], len(errors)


class Checker:
    """Checks one parsed template; ``errors`` collects one line per problem, each naming where it is."""

    def __init__(self, template: dict[str, Any], spec: Spec | None = None) -> None:
        self.spec = spec or load()
        self.template = template
        self.parameters: dict[str, Any] = template.get("Parameters") or {}
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.conditions: dict[str, Any] = template.get("Conditions") or {}
        self.errors: list[str] = []

    def run(self) -> list[str]:
        for section in self.template:
            if section not in TEMPLATE_SECTIONS:
                self.errors.append(f"{section}: not a ROS template section")
        for name, cond in self.conditions.items():
            self._intrinsics(cond, f"Conditions.{name}")
        for name, res in self.resources.items():
            self._resource(name, res)
        for name, out in (self.template.get("Outputs") or {}).items():
            self._intrinsics(out, f"Outputs.{name}")
        return self.errors

    def _resource(self, name: str, res: Any) -> None:
        where = f"Resources.{name}"
        if not isinstance(res, dict):
            self.errors.append(f"{where}: not a mapping")
            return
        for key in res:
            if key not in RESOURCE_KEYS:
                self.errors.append(f"{where}.{key}: not a resource attribute")
        kind = self.spec.resources.get(res.get("Type", ""))
        if kind is None:
            self.errors.append(f"{where}.Type: {res.get('Type')!r} is not a ROS resource type")
            return
        if "Condition" in res and res["Condition"] not in self.conditions:
            self.errors.append(f"{where}.Condition: no condition {res['Condition']!r}")
        depends = res.get("DependsOn", [])
        for dep in [depends] if isinstance(depends, str) else depends:
            if dep not in self.resources:
                self.errors.append(f"{where}.DependsOn: no resource {dep!r}")
        self._value(res.get("Properties", {}), {"fqn": kind.props}, f"{where}.Properties")

    # values against a jsii type -----------------------------------------------------------------------------------
    def _value(self, value: Any, typ: dict[str, Any], where: str) -> None:
        if is_intrinsic(value):
            self._intrinsic_value(value, typ, where)
            return
        members = typ["union"]["types"] if "union" in typ else [typ]
        members = [m for m in members if m.get("fqn") != RESOLVABLE]
        if not members:  # IResolvable only: an intrinsic is required
            self.errors.append(f"{where}: expected an intrinsic function, got {_python_kind(value)}")
            return
        failures: list[list[str]] = []
        for member in members:
            saved, self.errors = self.errors, []
            self._value_of(value, member, where)
            found, self.errors = self.errors, saved
            if not found:
                return
            failures.append(found)
        # report the member that got furthest (a struct with one bad key beats "expected a string")
        best: list[str] = min(failures, key=_closeness)
        self.errors.extend(best)

    def _value_of(self, value: Any, typ: dict[str, Any], where: str) -> None:
        if "primitive" in typ:
            want = typ["primitive"]
            if want in ("any", "json"):
                self._intrinsics(value, where)
            elif _python_kind(value) != want:
                self.errors.append(f"{where}: expected a {want}, got a {_python_kind(value)} ({value!r:.60})")
        elif "collection" in typ:
            coll, element = typ["collection"]["kind"], typ["collection"]["elementtype"]
            if coll == "array":
                if not isinstance(value, list):
                    self.errors.append(f"{where}: expected a list, got a {_python_kind(value)} ({value!r:.60})")
                    return
                for i, item in enumerate(value):
                    self._value(item, element, f"{where}[{i}]")
            else:
                if not isinstance(value, dict):
                    self.errors.append(f"{where}: expected a map, got a {_python_kind(value)} ({value!r:.60})")
                    return
                for key, item in value.items():
                    self._value(item, element, f"{where}.{key}")
        elif "fqn" in typ:
            struct = self.spec.structs.get(typ["fqn"])
            if struct is None:
                raise SpecError(f"{where}: type {typ['fqn']} is not in the specification")
            if not isinstance(value, dict):
                self.errors.append(f"{where}: expected a mapping ({struct.fqn}), got a {_python_kind(value)}")
                return
            for key, item in value.items():
                prop = struct.props.get(key)
                if prop is None:
                    self.errors.append(f"{where}.{key}: unknown property (known: {', '.join(sorted(struct.props))})")
                    continue
                self._value(item, prop.type, f"{where}.{key}")
                self._limits(item, prop, f"{where}.{key}")
            for prop in struct.props.values():
                if prop.required and prop.name not in value:
                    self.errors.append(f"{where}: required property {prop.name} missing")
        else:
            raise SpecError(f"{where}: unknown jsii type reference {typ}")

    def _limits(self, value: Any, prop: Prop, where: str) -> None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        bounded = prop.minimum is not None and prop.maximum is not None
        if number and bounded and not prop.minimum <= value <= prop.maximum:
            self.errors.append(f"{where}: {value} outside {prop.minimum:g}..{prop.maximum:g}")
        if prop.allowed is not None and not is_intrinsic(value) and value not in prop.allowed:
            self.errors.append(f"{where}: {value!r} not one of {list(prop.allowed)}")

    def _kinds(self, typ: dict[str, Any]) -> set[str]:
        """What shapes a jsii type takes, in the vocabulary of ``RETURNS``."""
        if "union" in typ:
            return set().union(*(self._kinds(m) for m in typ["union"]["types"]))
        if "primitive" in typ:
            return {"any"} if typ["primitive"] in ("any", "json") else {typ["primitive"]}
        if "collection" in typ:
            return {"list" if typ["collection"]["kind"] == "array" else "map"}
        return set() if typ["fqn"] == RESOLVABLE else {"map"}

    def _intrinsic_value(self, value: dict[str, Any], typ: dict[str, Any], where: str) -> None:
        """An intrinsic where a value of type ``typ`` goes: its return shape must fit (Fn::If: each branch)."""
        ((name, args),) = value.items()
        if name == "Fn::If" and isinstance(args, list) and len(args) == 3:
            self._condition_name(args[0], where)
            for i, branch in enumerate(args[1:], 1):
                if branch != {"Ref": "ALIYUN::NoValue"}:
                    self._value(branch, typ, f"{where}.Fn::If[{i}]")
            return
        self._intrinsics(value, where)
        returns = self._returns(name, args)
        kinds = self._kinds(typ)
        if returns != "any" and kinds and "any" not in kinds and returns not in kinds:
            shown = " or ".join(sorted(kinds))
            self.errors.append(f"{where}: expected a {shown}, got {name} (a {returns})")

    def _returns(self, name: str, args: Any) -> str:
        if name == "Ref" and isinstance(args, str) and args in self.parameters:
            return PARAMETER_TYPES.get(self.parameters[args].get("Type", ""), "any")
        if name == "Ref":
            return "string"  # a resource's id or a pseudo parameter
        return RETURNS.get(name, "any")

    # intrinsics anywhere ------------------------------------------------------------------------------------------
    def _condition_name(self, cond: Any, where: str) -> None:
        if cond not in self.conditions:
            self.errors.append(f"{where}: no condition {cond!r}")

    def _intrinsics(self, node: Any, where: str) -> None:
        """Every intrinsic inside ``node``: known function, existing targets (parameters, resources, attributes)."""
        if isinstance(node, list):
            for i, item in enumerate(node):
                self._intrinsics(item, f"{where}[{i}]")
            return
        if not isinstance(node, dict):
            return
        if not is_intrinsic(node):
            for key, item in node.items():
                self._intrinsics(item, f"{where}.{key}")
            return
        ((name, args),) = node.items()
        if name not in self.spec.intrinsics:
            self.errors.append(f"{where}: {name} is not a ROS intrinsic function")
        elif name == "Ref":
            self._ref(args, where)
        elif name == "Fn::GetAtt":
            self._get_att(args, where)
        elif name == "Fn::Sub":
            self._sub(args, where)
        elif name == "Fn::If" and isinstance(args, list) and args:
            self._condition_name(args[0], where)
            self._intrinsics(args[1:], f"{where}.Fn::If")
        else:
            self._intrinsics(args, f"{where}.{name}")

    def _ref(self, target: Any, where: str) -> None:
        known = target in self.parameters or target in self.resources or target in self.spec.pseudo
        if not known:
            self.errors.append(f"{where}: Ref {target!r}: no such parameter, resource or pseudo parameter")

    def _get_att(self, args: Any, where: str) -> None:
        if not (isinstance(args, list) and len(args) == 2 and all(isinstance(a, str) for a in args)):
            self.errors.append(f"{where}: Fn::GetAtt takes [resource, attribute], got {args!r}")
            return
        res, attr = args
        if res not in self.resources:
            self.errors.append(f"{where}: Fn::GetAtt: no resource {res!r}")
            return
        kind = self.spec.resources.get(self.resources[res].get("Type", ""))
        if kind is not None and attr not in kind.attributes:
            shown = ", ".join(sorted(kind.attributes))
            self.errors.append(f"{where}: Fn::GetAtt: {kind.name} has no attribute {attr!r} (has: {shown})")

    def _sub(self, args: Any, where: str) -> None:
        text, local = (
            (args, {}) if isinstance(args, str) else (args[0], args[1]) if isinstance(args, list) else ("", {})
        )
        if not isinstance(text, str):
            self.errors.append(f"{where}: Fn::Sub takes a string or [string, map], got {args!r}")
            return
        self._intrinsics(local, f"{where}.Fn::Sub")
        for var in _SUB_VAR.findall(text):
            if var in local:
                continue
            if "." in var and not var.startswith("ALIYUN::"):
                self._get_att(var.split(".", 1), where)
            else:
                self._ref(var, where)


def check(template: dict[str, Any]) -> list[str]:
    """Every disagreement of ``template`` with the ROS specification, one line each (empty: none)."""
    return Checker(template).run()
