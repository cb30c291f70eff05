"""Every file in events/samples/ replays through detect + unwrap + validate and matches the expectations kept
beside it (events/samples/<folder>.expected.json). Expectations were written from the samples' own inputs, not
from the parser's output."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from ecs_events import errors
from ecs_events.sources import unwrap

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
GOOD_FOLDERS = ("seed", "cloudmonitor", "delivery")


def _expectations(folder: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{folder}.expected.json").read_text(encoding="utf-8"))


def _cases(folders: tuple[str, ...]) -> list[Any]:
    cases = []
    for folder in folders:
        expected = _expectations(folder)
        for path in sorted((SAMPLES / folder).iterdir()):
            cases.append(pytest.param(path, expected.get(path.name), id=f"{folder}/{path.name}"))
    return cases


@pytest.mark.parametrize("folder", (*GOOD_FOLDERS, "bad"))
def test_every_expectation_has_its_sample_and_every_sample_an_expectation(folder: str) -> None:
    files = {p.name for p in (SAMPLES / folder).iterdir()}
    assert files == set(_expectations(folder))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@pytest.mark.parametrize(("path", "expected"), _cases(GOOD_FOLDERS))
def test_sample_parses_to_expected_fields(path: Path, expected: list[dict[str, Any]]) -> None:
    deliveries = unwrap(path.read_bytes())
    assert len(deliveries) == len(expected)
    for delivery, want in zip(deliveries, expected, strict=True):
        assert delivery.error is None
        record = delivery.record()
        attrs = want.get("attrs", {})
        for key, value in want.items():
            if key != "attrs":
                assert record[key] == value, f"{path.name}: {key}"
        for key, value in attrs.items():
            assert _plain(getattr(delivery.event, key)) == value, f"{path.name}: {key}"


@pytest.mark.parametrize(("path", "expected"), _cases(("bad",)))
def test_bad_sample_gives_its_typed_one_line_error(path: Path, expected: dict[str, Any]) -> None:
    error_type = getattr(errors, expected["error"])
    with pytest.raises(error_type) as caught:
        unwrap(path.read_bytes())
    message = str(caught.value)
    assert "\n" not in message
    for needle in expected["message_contains"]:
        assert needle in message


def test_seed_avoided_example_keys_status_off_content_not_stale_name() -> None:
    (delivery,) = unwrap((SAMPLES / "seed" / "4.2-system-maintenance-reboot-avoided-stale-name.json").read_bytes())
    assert delivery.event is not None
    assert delivery.event.name.endswith(":Scheduled")
    assert delivery.event.status == "Avoided"
