"""Bad input through the real queue (issue 9, item 4): over 10,000 generated payloads of eight kinds, mixed with valid
events for the managed fleet, sent with BatchSendMessage to localcloud's MNS and consumed by the real consumer.

Generation is reproducible: hypothesis (``derandomize``) draws pools of nasty values (wrong-typed JSON values,
arbitrary text, invalid UTF-8, account ids, event names), then a seeded ``random.Random`` assembles the payloads
from those pools and from valid notification templates. One hypothesis example per message would take minutes.

What must hold:
- nothing raised out of the engine unhandled: no "internal error" line, nothing retried, no ERROR line but the
  dead-letter ones;
- every poison message is in the dead-letter queue exactly once, with its original body (matched by body, the
  store copy for the ones too big for the DLQ) and a non-empty one-line reason;
- every other message is handled: the consumer logged its outcome under its event id (``ignored: no playbook``,
  ``ignored: instance ... not found``, ``acted`` with its saga in the store);
- foreign-account events are refused with the account reason and never acted on: no saga names them and no
  mutating call names an instance that only they were about.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tests.functional import conftest as functional
from tests.functional.conftest import QUEUE, World
from tests.reliability.harness import report as report_figures

from ecs_events.models import EventKind, kind_of

world = functional.world  # the functional harness: fleet on localcloud, events queue, DLQ, an App

SEED = 20261126
MNS_LIMIT = 65536  # bytes of one message body, and of all bodies of one BatchSendMessage
COUNTS = {  # the bad payloads: 10,000 in all
    "invalid_json": 1700,
    "wrong_types": 1700,
    "oversized": 300,
    "non_utf8": 1200,
    "deep_nesting": 1000,
    "unknown_event": 1200,
    "foreign_account": 1500,
    "missing_instance": 1400,
}
VALID = 500
POISON = {"invalid_json", "wrong_types", "oversized", "non_utf8", "deep_nesting", "foreign_account"}
REASONS = {  # what the dead-letter reason of each kind says (one of)
    "invalid_json": ("JSON", "empty body"),
    "oversized": ("field", "JSON"),
    "non_utf8": ("not UTF-8", "neither JSON nor base64 JSON"),
    "deep_nesting": ("recursion limit exceeded",),
}
EVENT_TIME = "20261126T100000.000+0800"
# XML 1.0 text that survives the MNS wire as is (no CR: XML parsers turn it into LF).
XML_SAFE = st.characters(exclude_categories=["Cs"], exclude_characters="\r\ufffe\uffff", min_codepoint=0x20)
INSTANCE_ID = re.compile(r"i-[0-9a-z]{6,}")


@dataclass(frozen=True)
class Payload:
    kind: str
    wire: str  # the body exactly as it sits in the queue (what the consumer reads)
    event_id: str | None = None  # the notification id, for those that reach the engine
    instance_id: str | None = None
    expect: str = ""  # handled ones: what the consumer logs (outcome + reason prefix); poison: DLQ reason part
    saga: str | None = None  # valid ones that start a saga: its store key


# -- pools of nasty values, drawn by hypothesis -------------------------------------------------------------------
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
wrong_values = (  # never a string, never null: wrong for every string field the models declare
    st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.lists(scalars, max_size=3)
    | st.dictionaries(st.text(max_size=6), scalars, max_size=3)
)


@dataclass
class Pools:
    wrong: list[Any]
    texts: list[str]
    names: list[str]
    accounts: list[str]
    bad_utf8: list[bytes]


def draw_pools(examples: int = 40, per_example: int = 6) -> Pools:
    pools = Pools([], [], [], [], [])
    invalid_sequences = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\xe2\x82"]

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        for _ in range(per_example):
            pools.wrong.append(data.draw(wrong_values))
            pools.texts.append(data.draw(st.text(XML_SAFE, min_size=1, max_size=120)))
            pools.names.append(data.draw(st.text(min_size=1, max_size=40)))
            pools.accounts.append(data.draw(st.text(min_size=1, max_size=20) | st.from_regex(r"\A[0-9]{1,20}\Z")))
            head, tail = data.draw(st.binary(max_size=30)), data.draw(st.binary(max_size=30))
            raw = head + data.draw(st.sampled_from(invalid_sequences)) + tail
            try:  # a cut sequence completed by the tail is UTF-8 after all
                raw.decode("utf-8")
            except UnicodeDecodeError:
                pools.bad_utf8.append(raw)
            else:
                pools.bad_utf8.append(raw + b"\xff")

    draw()
    return pools


# -- notifications ------------------------------------------------------------------------------------------------
class Factory:
    """Notifications for the world's account and region; every one gets a unique id."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.account, self.region = world.cloud.account_id, world.cloud.region_id
        self.now = world.cloud.clock.now()
        self.rng = rng
        self.serial = 0

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"rel-{prefix}-{self.serial:06d}"

    def envelope(self, iid: str, name: str, content: Any, *, prefix: str, **changes: Any) -> dict[str, Any]:
        value = {
            "ver": "1.0",
            "id": self.next_id(prefix),
            "product": "ECS",
            "resourceId": f"acs:ecs:{self.region}:{self.account}:instance/{iid}",
            "level": "CRITICAL",
            "name": name,
            "userId": self.account,
            "eventTime": EVENT_TIME,
            "regionId": self.region,
            "content": content,
        }
        value.update(changes)
        return value

    def maintenance(self, iid: str, prefix: str, days: int = 3) -> dict[str, Any]:
        event_id = f"e-{self.next_id(prefix)}"
        not_before = (self.now + timedelta(days=days, minutes=self.rng.randrange(600))).strftime("%Y-%m-%dT%H:%M:%SZ")
        content = {
            "eventId": event_id,
            "publishTime": self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "instanceId": iid,
            "eventType": "SystemMaintenance.Reboot",
            "eventStatus": "Scheduled",
            "notBefore": not_before,
        }
        return self.envelope(iid, "Instance:SystemMaintenance.Reboot:Scheduled", content, prefix=prefix)

    def failure(self, iid: str, prefix: str) -> dict[str, Any]:
        content = {
            "eventId": f"e-{self.next_id(prefix)}",
            "instanceId": iid,
            "eventType": "SystemFailure.Reboot",
            "eventStatus": "Executing",
        }
        return self.envelope(iid, "Instance:SystemFailure.Reboot:Executing", content, prefix=prefix)

    def state(self, iid: str, state: str, prefix: str) -> dict[str, Any]:
        content = {"resourceId": iid, "resourceType": "ALIYUN::ECS::Instance", "state": state}
        return self.envelope(iid, "Instance:StateChange", content, prefix=prefix, level="INFO")

    def preemption(self, iid: str, prefix: str) -> dict[str, Any]:
        content = {"instanceId": iid, "action": "delete"}
        return self.envelope(iid, "Instance:PreemptibleInstanceInterruption", content, prefix=prefix, level="WARN")

    def any_event(self, iid: str, prefix: str) -> dict[str, Any]:
        pick = self.rng.randrange(4)
        if pick == 0:
            return self.maintenance(iid, prefix)
        if pick == 1:
            return self.failure(iid, prefix)
        if pick == 2:
            return self.state(iid, self.rng.choice(["Running", "Stopped"]), prefix)
        return self.preemption(iid, prefix)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encode(value: Any, rng: random.Random) -> str:
    """JSON as CloudMonitor sends it to a queue (base64) or as raw JSON text: both are accepted."""
    text = json.dumps(value)
    return b64(text.encode()) if rng.random() < 0.5 else text


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


# -- the eight kinds ----------------------------------------------------------------------------------------------
class Generator:
    def __init__(self, world: World, pools: Pools, rng: random.Random) -> None:
        self.world, self.pools, self.rng = world, pools, rng
        self.make = Factory(world, rng)
        web = world.ids("web")
        self.acting = web[0]  # the only instance a valid event acts on now
        self.others = [*web[1:], *world.ids("db"), *world.ids("batch"), *world.ids("stray")]

    def target(self) -> str:
        return self.rng.choice(self.others)

    def invalid_json(self) -> Payload:
        rng = self.rng
        form = rng.randrange(5)
        if form == 0:  # arbitrary text
            text = rng.choice(self.pools.texts)
            if _is_json(text):
                text = "{" + text
        elif form == 1:  # a real notification, cut or with a stray character
            text = json.dumps(self.make.any_event(self.target(), "ij"))
            at = rng.randrange(1, len(text))
            text = (
                text[:at] + rng.choice(["", ",", "{", "}", '"', ":", "]", "\\", "NaN"]) + text[at + rng.randrange(3) :]
            )
            if _is_json(text):
                text = text[:-1]
        elif form == 2:  # a second "name": the strict parser refuses duplicate keys at any depth
            text = json.dumps(self.make.failure(self.target(), "ij"))[:-1] + ', "name": "Instance:StateChange"}'
        elif form == 3:  # NaN / Infinity literals
            text = json.dumps(
                {**self.make.state(self.target(), "Running", "ij"), "level": float(rng.choice(["nan", "inf"]))}
            )
        else:  # JSON in a topic envelope whose Message is not JSON
            text = json.dumps(
                {"TopicOwner": "1", "TopicName": "t", "MessageId": "m", "Message": rng.choice(self.pools.texts) + "{"}
            )
        wire = b64(text.encode()) if rng.random() < 0.3 else text
        return Payload("invalid_json", wire if wire.strip() else wire + "x")

    def wrong_types(self) -> Payload:
        rng = self.rng
        value = self.make.any_event(self.target(), "wt")
        fields: list[tuple[str, ...]] = [("name",), ("resourceId",), ("regionId",), ("userId",), ("level",), ("id",),
                                         ("eventTime",), ("content",)]  # fmt: skip
        content = value["content"]
        fields += [("content", key) for key in ("eventStatus", "notBefore", "state", "eventId", "instanceId")
                   if key in content]  # fmt: skip
        path = rng.choice(fields)
        bad = rng.choice(self.pools.wrong)
        if path == ("content",):  # an object is the right type there: anything else
            bad = rng.choice([[bad] if isinstance(bad, dict) else bad, rng.choice(self.pools.texts), None])
        elif path in (("name",), ("regionId",), ("resourceId",)):
            bad = rng.choice([bad, None])
        target = value
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        return Payload("wrong_types", encode(value, rng), expect=".".join(path))

    def oversized(self) -> Payload:
        """As big as MNS takes (64 KB) and bad, inside out: junk, a notification with a huge bad field, a topic
        envelope with a huge bad Message, a batch of bad items."""
        rng = self.rng
        size = rng.choice([MNS_LIMIT, MNS_LIMIT - 1, rng.randrange(40_000, MNS_LIMIT)])
        form = rng.randrange(4)
        if form == 0:
            chunk = rng.choice(self.pools.texts).encode()[:20] or b"x"
            text = ("X" + (chunk.decode("utf-8", "ignore") or "x") * (size // len(chunk) + 1)).encode()[:size]
            wire = text.decode("utf-8", "ignore")
            return Payload("oversized", wire if not _is_json(wire) else "X" + wire[1:])
        if form == 1:
            value = self.make.maintenance(self.target(), "os")
            value["content"]["eventStatus"] = ""
            skeleton = len(json.dumps(value).encode())
            value["content"]["eventStatus"] = "Z" * (size - skeleton)
            return Payload("oversized", json.dumps(value))
        if form == 2:
            inner = self.make.failure(self.target(), "os")
            inner["resourceId"] = ""
            envelope = {"TopicOwner": "1", "TopicName": "ecs-events", "MessageId": "m-1", "Message": ""}
            skeleton = len(json.dumps({**envelope, "Message": json.dumps(inner)}).encode())
            inner["resourceId"] = "i" * (size - skeleton)
            return Payload("oversized", json.dumps({**envelope, "Message": json.dumps(inner)}))
        item = json.dumps({"name": 1, "content": None})
        count = (size - 2) // (len(item) + 2)
        return Payload("oversized", "[" + ", ".join([item] * count) + "]")

    def non_utf8(self) -> Payload:
        data = self.rng.choice(self.pools.bad_utf8)
        if self.rng.random() < 0.5:
            data = b'{"name": "' + data + b'", "content": {}}'
        return Payload("non_utf8", b64(data))

    def deep_nesting(self) -> Payload:
        rng = self.rng
        depth = rng.choice([rng.randrange(256, 2000), rng.randrange(2000, 30_000)])
        form = rng.randrange(5)
        if form == 0:
            text = "[" * depth + "]" * depth
        elif form == 1:
            text = '{"a":' * depth + "1" + "}" * depth
        elif form == 2:  # deep inside an otherwise valid notification
            value = self.make.state(self.target(), "Running", "dn")
            text = json.dumps(value)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
        elif form == 3:  # looks like one of our timers
            text = '{"ecs-events": ' + "[" * depth + "]" * depth + "}"
        else:  # deep inside a topic Message
            text = json.dumps(
                {"TopicOwner": "1", "TopicName": "t", "MessageId": "m", "Message": "[" * depth + "]" * depth}
            )
        if len(text) * 4 // 3 + 4 <= MNS_LIMIT and rng.random() < 0.4:
            return Payload("deep_nesting", b64(text.encode()))
        return Payload("deep_nesting", text[:MNS_LIMIT])

    def unknown_event(self) -> Payload:
        rng = self.rng
        while True:
            middle = rng.choice(self.pools.names)
            name = f"Instance:{middle}:{rng.choice(['Scheduled', 'Executing', ''])}"
            if kind_of(name) is EventKind.UNKNOWN:
                break
        iid = self.target()
        content = {"instanceId": iid, "eventType": middle, "eventStatus": rng.choice(self.pools.texts)}
        value = self.make.envelope(iid, name, content, prefix="ue")
        return Payload("unknown_event", encode(value, rng), value["id"], iid, "ignored:no playbook for")

    def foreign_account(self) -> Payload:
        rng = self.rng
        ours = self.make.account
        foreign = rng.choice(self.pools.accounts)
        if foreign == ours or ":" in foreign or "/" in foreign:
            foreign = f"9{foreign.replace(':', '').replace('/', '')}"
        iid = self.target()
        value = self.make.any_event(iid, "fa")
        form = rng.randrange(4)
        if form in (0, 1):  # both name the other account (1: no userId at all)
            value["resourceId"] = value["resourceId"].replace(f":{ours}:", f":{foreign}:")
            if form == 0:
                value["userId"] = foreign
            else:
                del value["userId"]
            expect = "event of account"
        elif form == 2:  # userId says another account, the ARN ours
            value["userId"] = foreign
            expect = "inconsistent event: ARN account"
        else:  # the ARN names another account, userId ours
            value["resourceId"] = value["resourceId"].replace(f":{ours}:", f":{foreign}:")
            expect = "inconsistent event: ARN account"
        if rng.random() < 0.04:  # a userId of tens of KB: the reason (and the DLQ record) must stay bounded
            value["userId"] = "9" * rng.randrange(30_000, MNS_LIMIT - 1000 - len(json.dumps(value)))
            return Payload("foreign_account", json.dumps(value), value["id"], iid, "inconsistent event: ARN account")
        return Payload("foreign_account", encode(value, rng), value["id"], iid, expect)

    def missing_instance(self) -> Payload:
        rng = self.rng
        iid = "i-bp1" + "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(17))
        pick = rng.randrange(3)
        if pick == 0:
            value = self.make.maintenance(iid, "mi")
        elif pick == 1:
            value = self.make.failure(iid, "mi")
        else:
            value = self.make.state(iid, "Stopped", "mi")
        return Payload("missing_instance", encode(value, rng), value["id"], iid, f"ignored:instance {iid} not found")

    def valid(self, number: int) -> Payload:
        """Valid events for the managed fleet: one failure that acts now (drains web[0]), maintenance reboots days
        away (a saga each, nothing done yet), Running state changes (nothing to advance); some padded near the
        MNS limit."""
        rng = self.rng
        web, db, batch = self.world.ids("web"), self.world.ids("db"), self.world.ids("batch")
        if number == 0:
            value = self.make.failure(self.acting, "ok")
            key = f"saga/{self.acting}/{value['content']['eventId']}"
            return Payload("valid", encode(value, rng), value["id"], self.acting, "acted:", key)
        if number % 2:
            iid = rng.choice(web[1:])
            value = self.make.maintenance(iid, "ok")
            key = f"saga/{iid}/{value['content']['eventId']}"
            return Payload("valid", encode(value, rng), value["id"], iid, "acted:", key)
        iid = rng.choice([*db, *batch])
        value = self.make.state(iid, "Running", "ok")
        if number % 10 == 2:  # near the limit, still valid: handled like any other
            value["content"]["padding"] = "p" * (MNS_LIMIT - 200 - len(json.dumps(value)))
        wire = json.dumps(value) if number % 10 == 2 else encode(value, rng)
        return Payload("valid", wire, value["id"], iid, "ignored:state Running: nothing to advance")


def generate(world: World) -> list[Payload]:
    rng = random.Random(SEED)
    gen = Generator(world, draw_pools(), rng)
    payloads = [getattr(gen, kind)() for kind, count in COUNTS.items() for _ in range(count)]
    payloads += [gen.valid(n) for n in range(VALID)]
    rng.shuffle(payloads)
    return payloads


# -- the queue ----------------------------------------------------------------------------------------------------
def send_all(world: World, payloads: list[Payload]) -> int:
    """BatchSendMessage through the SDK, bodies as they are (no SDK base64: the base64 ones are encoded already),
    at most 16 messages and 64 KB per request. Returns the number of requests."""
    from mns.queue import Message

    queue = world.cloud.mns_account().get_queue(QUEUE)
    queue.set_encoding(False)
    requests = 0
    batch: list[Payload] = []
    size = 0

    def flush() -> None:
        nonlocal requests, size
        if batch:
            sent = queue.batch_send_message([Message(p.wire) for p in batch])
            assert len(sent) == len(batch)
            requests += 1
            batch.clear()
            size = 0

    for payload in payloads:
        length = len(payload.wire.encode())
        assert 0 < length <= MNS_LIMIT, (payload.kind, length)
        if len(batch) == 16 or size + length > MNS_LIMIT:
            flush()
        batch.append(payload)
        size += length
    flush()
    return requests


@dataclass
class Line:
    logger: str
    level: int
    message: str
    event_id: str | None
    args: tuple[Any, ...]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[Line] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        self.lines.append(
            Line(record.name, record.levelno, record.getMessage(), getattr(record, "event_id", None), args)
        )


@contextmanager
def captured() -> Iterator[Capture]:
    logger = logging.getLogger("ecs_events")
    capture = Capture()
    level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)


def dead_letter_bodies(world: World, entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(original body, reason) of every DLQ entry; a truncated entry's full body comes from the store."""
    out = []
    for entry in entries:
        body = entry["body"]
        if entry.get("truncated"):
            doc = world.app.store.get(entry["store_key"])
            assert doc is not None, entry["store_key"]
            body = doc.value["body"]
        out.append((body, entry["reason"]))
    return out


def in_process_clock(world: World) -> None:
    """The app reads localcloud's clock over HTTP on every ``now()`` (the way a separate process must); in this
    process the same clock is one attribute away, and 10,000 dead-letter records would otherwise spend half the
    test asking for the time."""
    app, now = world.app, world.cloud.clock.now
    app.now = app.engine.now = app.consumer.now = now  # the outbox asks once per batch: left as it is


@contextmanager
def quick_thread_switches() -> Iterator[None]:
    """localcloud serves from a thread of this process: with the default 5 ms GIL switch interval every one of the
    ~20,000 requests waits for the GIL on its way back (a convoy), which would triple the test's time."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


# -- the test -----------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_ten_thousand_bad_payloads_through_the_real_queue(world: World) -> None:
    in_process_clock(world)
    started = time.monotonic()
    payloads = generate(world)
    generated = time.monotonic()
    with quick_thread_switches(), captured() as capture:
        requests = send_all(world, payloads)
        report = world.app.consumer.run(until_idle=True, wait_seconds=0)
        consumed = time.monotonic()
        entries = world.dead_letters()
    wall = time.monotonic() - started

    poison = [p for p in payloads if p.kind in POISON]
    handled = [p for p in payloads if p.kind not in POISON]
    kinds = Counter(p.kind for p in payloads)
    report_figures(
        "bad input through the real queue",
        [
            f"payloads per kind: {', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}",
            f"sent {len(payloads)} in {requests} BatchSendMessage requests; received {report.received} in "
            f"{report.batches} batches",
            f"dead-lettered {report.dead_lettered}, processed {report.handled}, retried {report.retried}",
            f"wall time {wall:.1f} s (generate {generated - started:.1f} s, send + consume "
            f"{consumed - generated:.1f} s); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        ],
    )

    # nothing unhandled, nothing retried
    internal = [line.message for line in capture.lines if line.message.startswith("internal error")]
    assert internal == []
    errors = [line.message for line in capture.lines if line.level >= logging.ERROR]
    assert [m for m in errors if not m.startswith("dead-lettered ")] == []
    assert [line.message for line in capture.lines if line.message.startswith("will retry")] == []
    assert report.retried == 0
    assert report.received == len(payloads)

    # every poison message in the DLQ once, with its body and a one-line reason
    dead = dead_letter_bodies(world, entries)
    missing = Counter(p.wire for p in poison) - Counter(body for body, _ in dead)
    assert not missing, [(p.kind, p.expect, p.wire[:300]) for p in poison if p.wire in missing]
    unexpected = Counter(body for body, _ in dead) - Counter(p.wire for p in poison)
    assert not unexpected, [(p.kind, p.wire[:300]) for p in handled if p.wire in unexpected]
    assert (report.dead_lettered, report.handled) == (len(poison), len(handled))
    reasons = dict(dead)
    for reason in reasons.values():
        assert reason.strip() and "\n" not in reason and "\r" not in reason, repr(reason[:200])
    for payload in poison:
        reason = reasons[payload.wire]
        if payload.kind == "foreign_account":
            assert payload.expect in reason and ("not acted on" in reason or "!= userId" in reason), reason
        elif payload.kind == "wrong_types":
            assert f"field {payload.expect}" in reason, (reason, payload.expect)
        else:
            assert any(marker in reason for marker in REASONS[payload.kind]), (payload.kind, reason)
    assert {entry["dequeue_count"] for entry in entries} == {1}  # dead-lettered at once, never retried first

    # every other message handled: its outcome logged under its event id
    outcomes: dict[str, list[str]] = {}
    for line in capture.lines:
        if line.logger == "ecs_events.consumer" and line.event_id and len(line.args) == 3:
            outcomes.setdefault(line.event_id, []).append(f"{line.args[0]}:{line.args[2]}")
    for payload in handled:
        assert payload.event_id is not None
        (outcome,) = outcomes[payload.event_id]
        assert outcome.startswith(payload.expect), (payload.kind, outcome, payload.expect)
        if payload.saga is not None:
            assert world.app.store.get(payload.saga) is not None, payload.saga
    foreign = [p for p in poison if p.kind == "foreign_account"]
    assert not [p for p in foreign if p.event_id in outcomes]

    # foreign events never acted on: no saga of theirs, and the only instance any mutating call names is the one
    # instance a valid event acts on now (the control: its drain is in the call log)
    saga_keys = " ".join(doc.key for doc in world.app.store.scan("saga/"))
    assert "rel-fa-" not in saga_keys
    mutating = world.mutating_calls()
    named = {iid for call in mutating for iid in INSTANCE_ID.findall(json.dumps(call.params))}
    acting = world.ids("web")[0]
    assert mutating and named == {acting}


def test_mns_takes_64_kb_and_no_more(world: World) -> None:
    """Why the oversized payloads stop at 65,536 bytes: MNS refuses a body (or a batch) over it at send."""
    from mns.queue import Message

    from localcloud.testing import mns_error

    queue = world.cloud.mns_account().get_queue(QUEUE)
    queue.set_encoding(False)
    queue.send_message(Message("x" * MNS_LIMIT))
    error = mns_error(queue.send_message, Message("x" * (MNS_LIMIT + 1)))
    assert error.type == "InvalidArgument" and str(MNS_LIMIT) in error.message
    error = mns_error(queue.batch_send_message, [Message("x" * (MNS_LIMIT // 2 + 1)) for _ in range(2)])
    assert error.type == "InvalidArgument" and str(MNS_LIMIT) in error.message
