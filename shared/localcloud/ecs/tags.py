"""ECS resource tags as the tag APIs change them: TagResources / UntagResources / ListTagResources and the older
AddTags / RemoveTags, on the same ``tags`` dicts that DescribeInstances / DescribeDisks / DescribeSnapshots show.

Rules (ECS 2014-05-26 API reference, TagResources / UntagResources / ListTagResources / AddTags):
- at most 50 resources and 20 tags per call, at most 20 tags on one resource;
- a key is 1-128 characters, does not start with ``aliyun`` or ``acs:`` and contains no ``http://`` /
  ``https://``; a value is 0-128 characters, does not start with ``acs:`` and contains no ``http://`` /
  ``https://``;
- a call is checked whole before it changes anything: one unknown resource id and nothing is tagged.

Every change is validated and applied here; ``responses.py`` only reads the parameters and shapes the output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from localcloud.ecs import errors
from localcloud.ecs.models import EcsBackend

MAX_RESOURCES = 50
MAX_TAGS_PER_CALL = 20
MAX_TAGS_PER_RESOURCE = 20
MAX_KEY = 128
MAX_VALUE = 128
LIST_PAGE = 50  # ListTagResources rows per page (the API has no page-size parameter)

# ResourceType (request) -> ResourceType in ListTagResources rows: lowercase, as the API reference's sample response
# and Alibaba's SDK models show it.
RESOURCE_TYPES = {"instance": "instance", "disk": "disk", "snapshot": "snapshot"}
# Types the API accepts but localcloud does not model: no resource of them exists here.
UNMODELED_TYPES = frozenset(
    {
        "image", "securitygroup", "volume", "eni", "ddh", "ddhcluster", "keypair", "launchtemplate",
        "reservedinstance", "snapshotpolicy", "elasticityassurance", "capacityreservation", "command",
        "invocation", "activation", "managedinstance",
    }
)  # fmt: skip
# AddTags / RemoveTags take fewer types.
LEGACY_TYPES = frozenset({"instance", "disk", "snapshot", "image", "securitygroup"})


@dataclass(frozen=True)
class TagRow:
    resource_id: str
    resource_type: str  # instance | disk | snapshot
    key: str
    value: str


def _has_url(text: str) -> bool:
    lowered = text.lower()
    return "http://" in lowered or "https://" in lowered


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY or key.startswith(("aliyun", "acs:")) or _has_url(key):
        raise errors.invalid_tag_key()


def check_value(value: str) -> None:
    if len(value) > MAX_VALUE or value.startswith("acs:") or _has_url(value):
        raise errors.invalid_tag_value()


def check_type(resource_type: str, allowed: frozenset[str] | None = None) -> None:
    known = resource_type in RESOURCE_TYPES or resource_type in UNMODELED_TYPES
    if not known or (allowed is not None and resource_type not in allowed):
        raise errors.invalid_resource_type()


def resource_tags(b: EcsBackend, resource_type: str, resource_id: str) -> dict[str, str] | None:
    """The live tag dict of one resource (None if it does not exist in this account and region)."""
    if resource_type == "instance":
        inst = b.instances.get(resource_id)
        return inst.tags if inst is not None else None
    if resource_type == "disk":
        disk = b.disks.get(resource_id)
        return disk.tags if disk is not None else None
    if resource_type == "snapshot":
        snap = b.snapshots.get(resource_id)
        return snap.tags if snap is not None else None
    return None


def _resolve(b: EcsBackend, resource_type: str, resource_ids: Sequence[str], plural: bool) -> list[dict[str, str]]:
    found = []
    for resource_id in resource_ids:
        tags = resource_tags(b, resource_type, resource_id)
        if tags is None:
            raise errors.tag_resource_not_found(plural)
        found.append(tags)
    return found


def _check_tags(tags: Sequence[tuple[str, str]], count_error: str) -> None:
    if len(tags) > MAX_TAGS_PER_CALL:
        raise errors.too_many_tags(count_error)
    seen: set[str] = set()
    for key, value in tags:
        check_key(key)
        check_value(value)
        if key in seen:
            raise errors.duplicate_tag_key()
        seen.add(key)


def tag(
    b: EcsBackend,
    resource_type: str,
    resource_ids: Sequence[str],
    tags: Sequence[tuple[str, str]],
    *,
    legacy: bool = False,
) -> None:
    """Add or overwrite ``tags`` on every resource, or change nothing and raise."""
    check_type(resource_type, LEGACY_TYPES if legacy else None)
    if len(resource_ids) > MAX_RESOURCES:
        raise errors.too_many_resources()
    _check_tags(tags, "InvalidTagCount" if legacy else "NumberExceed.Tags")
    targets = _resolve(b, resource_type, resource_ids, plural=not legacy)
    for have in targets:
        if len(set(have) | {k for k, _ in tags}) > MAX_TAGS_PER_RESOURCE:
            raise errors.tag_quota_exceeded()
    for have in targets:
        have.update(dict(tags))


def untag(
    b: EcsBackend,
    resource_type: str,
    resource_ids: Sequence[str],
    keys: Sequence[str],
    *,
    remove_all: bool = False,
) -> None:
    """UntagResources: remove ``keys`` (absent keys are ignored); with no keys, everything if ``remove_all``."""
    check_type(resource_type)
    if len(resource_ids) > MAX_RESOURCES:
        raise errors.too_many_resources()
    if len(keys) > MAX_TAGS_PER_CALL:
        raise errors.too_many_tags("NumberExceed.Tags")
    targets = _resolve(b, resource_type, resource_ids, plural=True)
    for have in targets:
        if keys:
            for key in keys:
                have.pop(key, None)
        elif remove_all:
            have.clear()


def remove_matching(
    b: EcsBackend, resource_type: str, resource_id: str, tags: Sequence[tuple[str, str | None]]
) -> None:
    """RemoveTags: remove each key, or only where its value matches when a value is given."""
    check_type(resource_type, LEGACY_TYPES)
    if len(tags) > MAX_TAGS_PER_CALL:
        raise errors.too_many_tags("InvalidTagCount")
    (have,) = _resolve(b, resource_type, [resource_id], plural=False)
    for key, value in tags:
        if key in have and (value is None or have[key] == value):
            del have[key]


def change(
    b: EcsBackend, resource_type: str, resource_id: str, set_tags: dict[str, str], remove: Sequence[str]
) -> dict[str, str]:
    """Remove ``remove`` and set ``set_tags`` on one resource as one checked change (all or nothing)."""
    (have,) = _resolve(b, resource_type, [resource_id], plural=True)
    _check_tags(list(set_tags.items()), "NumberExceed.Tags")
    after = {k: v for k, v in have.items() if k not in remove} | set_tags
    if len(after) > MAX_TAGS_PER_RESOURCE:
        raise errors.tag_quota_exceeded()
    have.clear()
    have.update(after)
    return dict(have)


def rows(
    b: EcsBackend,
    resource_type: str,
    resource_ids: Sequence[str],
    wanted: Sequence[tuple[str, str | None]],
) -> list[TagRow]:
    """ListTagResources: one row per tag of every resource that is among ``resource_ids`` (if given) and carries
    all of ``wanted`` (key, or key and value). An id that does not exist has no rows (not an error)."""
    check_type(resource_type)
    if len(resource_ids) > MAX_RESOURCES:
        raise errors.too_many_resources()
    if len(wanted) > MAX_TAGS_PER_CALL:
        raise errors.too_many_tags("NumberExceed.Tags")
    out: list[TagRow] = []
    wire_type = RESOURCE_TYPES.get(resource_type)
    if wire_type is None:
        return out
    for resource_id, have in _all_tags(b, resource_type).items():
        if resource_ids and resource_id not in resource_ids:
            continue
        if not all(k in have and (v is None or have[k] == v) for k, v in wanted):
            continue
        out.extend(TagRow(resource_id, wire_type, k, v) for k, v in have.items())
    return out


def _all_tags(b: EcsBackend, resource_type: str) -> Mapping[str, dict[str, str]]:
    if resource_type == "instance":
        return {i.instance_id: i.tags for i in b.instances.values()}
    if resource_type == "disk":
        return {d.disk_id: d.tags for d in b.disks.values()}
    return {s.snapshot_id: s.tags for s in b.snapshots.values()}
