"""The timeline page: self-contained, rendered by headless Chromium (what a person opening the file sees), every
string from the store escaped, and the same page from any store through ``ecs-events status --html``."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from tests.demo.conftest import DemoRun, render

from ecs_events.cli import main
from ecs_events.engine.saga import Action, HistoryEntry, Saga, SagaStatus, Step, StepState
from ecs_events.models.times import parse_time
from ecs_events.store import open_store
from ecs_events.store.base import Write


def test_page_is_self_contained(demo: DemoRun) -> None:
    page = demo.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<style>" in page
    for external in ("<script", "<link", " src=", " href=", "url(", "@import", "https://"):
        assert external not in page, external
    assert re.findall(r"http://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"]  # the SVG namespace, not a fetch


def test_chromium_shows_every_lane_the_deadline_and_the_final_statuses(
    demo: DemoRun, chromium: str, tmp_path: Path
) -> None:
    dom = render(chromium, demo.html, tmp_path, "--dump-dom").stdout
    ids = demo.instance_ids()
    for name in ("web-1", "web-2", "web-3", "web-4", "batch", "api-1", "api-2"):  # every managed instance
        assert f'data-instance="{ids[name]}"' in dom, name
        assert f"<h3>{name} ({ids[name]})</h3>" in dom
    assert f"<h3>legacy ({ids['legacy']}) — not managed (no opt-in tag): untouched</h3>" in dom
    assert dom.count('<g class="deadline">') == 2 and "notBefore 04:00:03</text>" in dom  # web-1's and api-1's
    assert re.search(r"SystemMaintenance\.Reboot on web-1 \(i-\w+\): Avoided", dom)  # DescribeInstanceHistoryEvents
    assert "SystemMaintenance.Reboot (e-" in dom and "succeeded, event Avoided" in dom
    assert re.search(r"Stalled on d-\w+ \(e-\w+\): succeeded, event ended", dom)
    assert "weights back on web-lb, web-8080" in dom and "removed from web-lb" in dom
    assert dom.count('class="span drain"') == 4 and dom.count('class="deferred"') == 1
    assert '<li class="fail">' not in dom and dom.count('<li class="ok">') == 7


def test_chromium_screenshot_is_a_png_of_the_window(demo: DemoRun, chromium: str, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    render(chromium, demo.html, tmp_path, f"--screenshot={shot}", "--window-size=1400,900")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert struct.unpack(">II", data[16:24]) == (1400, 900)  # IHDR width, height


def test_status_html_draws_the_same_sagas_from_the_store(
    demo: DemoRun, chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ECS_EVENTS_STORE", demo.store)
    monkeypatch.delenv("ECS_EVENTS_LOCALCLOUD", raising=False)
    page = tmp_path / "status.html"
    assert main(["status", "--html", str(page)]) == 0
    assert f"HTML timeline: {page.absolute()}" in capsys.readouterr().out
    dom = render(chromium, page, tmp_path, "--dump-dom").stdout
    ids = demo.instance_ids()
    for name in ("web-1", "web-3", "batch", "api-1"):  # the store knows the instances it acted on, by id
        assert f'data-instance="{ids[name]}"' in dom
    assert f'data-instance="{ids["web-2"]}"' not in dom
    assert "<b>4</b> sagas" in dom and "<b>4</b> succeeded" in dom and "notBefore 04:00:03" in dom


def test_status_html_of_an_absent_store_is_an_empty_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ECS_EVENTS_STORE", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    page = tmp_path / "empty.html"
    assert main(["status", "--json", "--html", str(page)]) == 0
    assert capsys.readouterr().out.startswith("{")  # --json stays one JSON object
    assert "no saga in the store" in page.read_text(encoding="utf-8")
    assert not (tmp_path / "none.sqlite3").exists()


EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def _evil_saga() -> Saga:
    """A saga whose every free-text field carries markup, as untrusted event data could."""
    at = parse_time("2026-11-26T02:00:00Z")
    return Saga(
        key=f"saga/i-evil/{EVIL}",
        instance_id="i-evil",
        event_id=EVIL,
        event_name=f"Instance:{EVIL}",
        event_type=EVIL,
        playbook="maintenance",
        status=SagaStatus.ACTIVE,
        event_status=EVIL,
        not_before=parse_time("2026-11-26T04:00:00Z"),
        created_at=at,
        updated_at=parse_time("2026-11-26T03:00:00Z"),
        drained=True,
        steps=[
            Step(action=Action.DRAIN, state=StepState.DONE, done_at=at, detail=EVIL),
            Step(action=Action.SNAPSHOT, state=StepState.FAILED, started_at=at, done_at=at, detail=EVIL),
        ],
        history=[
            HistoryEntry(at=at, what=f"received {EVIL}"),
            HistoryEntry(at=at, what=f"deferred: {EVIL}", step="drain"),
            HistoryEntry(at=at, what=f"aborted: {EVIL}"),
        ],
    )


def test_every_string_from_the_store_is_escaped(
    chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'evil.sqlite3'}"
    store = open_store(url)
    saga = _evil_saga()
    assert store.commit([Write(saga.key, saga.to_doc(), 0)])
    store.close()
    monkeypatch.setenv("ECS_EVENTS_STORE", url)
    page = tmp_path / "evil.html"
    assert main(["status", "--html", str(page)]) == 0
    capsys.readouterr()
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in text
    dom = render(chromium, page, tmp_path, "--dump-dom").stdout
    assert "<script" not in dom and "<img" not in dom  # nothing became an element in the browser
    assert 'class="span drain"' in dom and "stroke-dasharray" in dom  # still drained: an open span
    assert re.search(r"snapshot failed: &lt;script&gt;", dom) and "aborted: &lt;script&gt;" in dom
