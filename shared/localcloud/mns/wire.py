"""MNS XML in and out, and the raw query string.

Requests: ``<Root xmlns="http://mns.aliyuncs.com/doc/v1/"><Element>text</Element>...</Root>``; a body that does not
parse is MalformedXML, a wrong root or a missing required element InvalidArgument (the schema message). Responses
are compact XML with the same namespace; every element the SDK's decoders require is always present (an element
without text would make the SDK raise RespDataDamaged in its list decoders).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

from localcloud.errors import CloudError
from localcloud.mns import exceptions as exc
from localcloud.mns.models import XMLNS, MessageView

Fields = Sequence[tuple[str, object]]

_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_ROOT_RE = re.compile(rb"^\s*(?:<\?xml[^>]*\?>)?\s*<(?:[\w.-]+:)?([\w.-]+)")


def parse_query(raw: str) -> dict[str, str]:
    """Query parameters by lowercased name, values raw: receipt handles are sent unencoded (``+`` stays ``+``)."""
    out: dict[str, str] = {}
    for part in raw.split("&"):
        if part:
            name, _, value = part.partition("=")
            out[name.lower()] = value
    return out


def root_name(body: bytes) -> str:
    """The local name of the document element, without parsing the whole body ('' if none)."""
    match = _ROOT_RE.match(body)
    return match.group(1).decode() if match else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(body: bytes, root: str) -> ET.Element:
    if not body.strip():
        raise exc.schema_error(root)
    try:
        elem = ET.fromstring(body)  # expat refuses external entities
    except ET.ParseError as err:
        raise exc.malformed_xml() from err
    if _local(elem.tag) != root:
        raise exc.schema_error(root)
    return elem


def fields(elem: ET.Element) -> dict[str, str]:
    """Child elements by local name -> text ('' for an empty element)."""
    return {_local(child.tag): child.text or "" for child in elem}


def items(elem: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in elem if _local(child.tag) == name]


def int_value(values: dict[str, str], name: str) -> int | None:
    raw = values.get(name)
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError as err:
        raise exc.invalid_argument(f"The value of {name} should be an integer: {raw!r}.") from err


def bool_value(values: dict[str, str], name: str) -> bool | None:
    raw = values.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise exc.invalid_argument(f"The value of {name} should be True or False: {raw!r}.")
    return lowered == "true"


def query_int(query: dict[str, str], name: str, element: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as err:
        raise exc.invalid_query_string(f"{element}={raw}") from err


# -- rendering -------------------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    text = ("True" if value else "False") if isinstance(value, bool) else str(value)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )  # \r would otherwise be normalised to \n by the client's parser


def _elements(values: Fields) -> str:
    return "".join(f"<{name}>{_text(value)}</{name}>" for name, value in values)


def document(root: str, values: Fields) -> bytes:
    return f'{_DECL}<{root} xmlns="{XMLNS}">{_elements(values)}</{root}>'.encode()


def list_document(root: str, item: str, entries: Iterable[Fields], tail: Fields = ()) -> bytes:
    inner = "".join(f"<{item}>{_elements(e)}</{item}>" for e in entries)
    return f'{_DECL}<{root} xmlns="{XMLNS}">{inner}{_elements(tail)}</{root}>'.encode()


def error_document(err: CloudError, request_id: str, host_id: str) -> bytes:
    values: Fields = [("Code", err.code), ("Message", err.message), ("RequestId", request_id), ("HostId", host_id)]
    return document("Error", values)


def received_fields(m: MessageView) -> Fields:
    """All nine fields the SDK requires of a received message."""
    return [
        ("MessageId", m.message_id),
        ("ReceiptHandle", m.receipt_handle),
        ("MessageBodyMD5", m.body_md5),
        ("MessageBody", m.body),
        ("EnqueueTime", m.enqueue_time),
        ("NextVisibleTime", m.next_visible_time),
        ("FirstDequeueTime", m.first_dequeue_time),
        ("DequeueCount", m.dequeue_count),
        ("Priority", m.priority),
    ]


def peeked_fields(m: MessageView) -> Fields:
    return [
        ("MessageId", m.message_id),
        ("MessageBodyMD5", m.body_md5),
        ("MessageBody", m.body),
        ("EnqueueTime", m.enqueue_time),
        ("FirstDequeueTime", m.first_dequeue_time),
        ("DequeueCount", m.dequeue_count),
        ("Priority", m.priority),
    ]
