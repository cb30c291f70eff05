"""Notice: the stored document round trip, validation errors, and the DingTalk markdown with untrusted values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from notify_support import make_notice

from ecs_events.errors import EcsEventsError
from ecs_events.notify import Notice, NotifyError, escape, notice_id, render_text


def test_to_doc_is_json_and_from_doc_gives_the_same_notice() -> None:
    notice = make_notice(3, fields={"weight": 0, "lbs": ["lb-1", "lb-2"], "note": None})
    doc = notice.to_doc()
    assert doc["at"] == "2025-03-01T07:59:00Z"
    assert doc["fields"] == {"weight": 0, "lbs": ["lb-1", "lb-2"], "note": None}
    assert Notice.from_doc(doc) == notice


def test_naive_and_other_zone_times_are_stored_in_utc() -> None:
    naive = make_notice(at=datetime(2025, 3, 1, 7, 59))
    shanghai = make_notice(at=datetime(2025, 3, 1, 15, 59, tzinfo=timezone(timedelta(hours=8))))
    assert naive.at == shanghai.at == datetime(2025, 3, 1, 7, 59, tzinfo=timezone.utc)


def test_a_notice_is_immutable() -> None:
    notice = make_notice()
    with pytest.raises(ValueError, match="frozen"):
        notice.title = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phase": "exploded"}, "notice: field phase: Input should be 'received', "),
        ({"level": "debug"}, "notice: field level: "),
        ({"id": "has space"}, "notice: field id: Value error, must be 1-200 characters"),
        ({"at": "yesterday"}, "notice: field at: "),
        ({"unknown": 1}, "notice: field unknown: Extra inputs are not permitted"),
    ],
)
def test_from_doc_refuses_a_bad_document_in_one_line(change: dict[str, object], message: str) -> None:
    doc = {**make_notice().to_doc(), **change}
    with pytest.raises(NotifyError) as caught:
        Notice.from_doc(doc)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, EcsEventsError)


def test_from_doc_of_a_missing_field_names_it() -> None:
    doc = make_notice().to_doc()
    del doc["title"]
    with pytest.raises(NotifyError, match=r"^notice: field title: Field required \(1 error\(s\)\)$"):
        Notice.from_doc(doc)


def test_notice_id_is_stable_and_key_safe() -> None:
    first = notice_id("saga/i-1/e-1", "started")
    assert first == notice_id("saga/i-1/e-1", "started")
    assert first != notice_id("saga/i-1/e-1", "succeeded")
    assert make_notice(id=first).id == first


def test_render_text_has_title_instance_event_phase_when_and_fields() -> None:
    text = render_text(make_notice(7))
    lines = text.split("\n")
    assert lines[0] == "### Reboot of i-bp1abc0007 started (n-0007)"
    assert "- **instance**: i-bp1abc0007" in lines
    assert "- **event**: e-0007" in lines
    assert "- **phase**: started" in lines
    assert "- **level**: warning" in lines
    assert "- **when**: 2025-03-01 07:59:00 UTC" in lines
    assert "- **saga**: saga/i-bp1abc0007/e-0007" in lines
    assert "Drained from 2 load balancers; rebooting now." in lines
    assert "- event_type: SystemMaintenance.Reboot" in lines


def test_render_text_leaves_out_facts_a_notice_does_not_have() -> None:
    text = render_text(make_notice(instance_id=None, event_id=None, saga=None, fields={}, text=""))
    assert "instance" not in text
    assert "event" not in text
    assert "saga" not in text


def test_render_text_escapes_control_characters_from_untrusted_values() -> None:
    notice = make_notice(
        title="pwned\x1b[31m\r\n### fake heading",
        instance_id="i-1\u202eexe.txt",
        fields={"output": "line1\nline2\x00\x07", "ke\ny": "v"},
        text="first line\nsecond\tline\x1b]0;title\x07",
    )
    text = render_text(notice)
    assert text.split("\n")[0] == "### pwned\\x1b[31m\\r\\n### fake heading"
    assert "- **instance**: i-1\\u202eexe.txt" in text
    assert "- output: line1\\nline2\\x00\\x07" in text
    assert "- ke\\ny: v" in text
    assert "second\\tline\\x1b]0;title\\x07" in text
    for raw in ("\x1b", "\x00", "\x07", "\r", "\t", "\u202e"):
        assert raw not in text
    # The only line breaks are the ones render_text puts between items and paragraphs.
    assert all(not line.startswith("### fake") for line in text.split("\n"))


def test_escape_cuts_long_values() -> None:
    assert escape("x" * 1000, 10) == "x" * 9 + "…"
    assert escape("short", 10) == "short"
