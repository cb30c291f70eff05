"""Issue 6, CLI half of the input path: bounded reads, regular files only, capped error output, one-line
failures (never a traceback), escaped output, and ``parse`` not importing localcloud."""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecs_events.cli import main, parse_cmd

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
GOOD = SAMPLES / "cloudmonitor" / "instance-systemmaintenance-reboot-scheduled.json"
CLOUD_EVENT = json.loads((SAMPLES / "delivery" / "eventbridge-cloudevent.json").read_bytes())
LIMIT = 6 * 1024 * 1024
EXE = str(Path(sys.executable).with_name("ecs-events"))


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    # The timeout only keeps a regression from hanging the suite; nothing asserts on time.
    return subprocess.run([EXE, *args], capture_output=True, text=True, check=False, timeout=60, **kwargs)


def _single_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    return result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_not_read() -> None:
    result = _run(["parse", "/dev/zero"])
    assert result.returncode == 2
    assert _single_line_error(result) == "/dev/zero: file: not a regular file\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_without_a_writer_is_refused_not_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = _run(["parse", str(fifo), str(GOOD)])
    assert result.returncode == 2
    assert _single_line_error(result) == f"{fifo}: file: not a regular file\n"
    assert "Instance:SystemMaintenance.Reboot:Scheduled" in result.stdout


def test_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"{tmp_path}: file: not a regular file\n"


def test_huge_file_is_refused_from_its_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: no disk used
    assert main(["parse", str(huge)]) == 2
    assert capsys.readouterr().err == f"{huge}: file: 314572800 bytes is over the {LIMIT}-byte limit\n"


def test_stdin_is_read_up_to_the_limit_plus_one_byte(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = io.BytesIO(b"[" + b" " * (LIMIT + 1024 * 1024))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(raw))
    assert main(["parse", "-"]) == 2
    assert raw.tell() <= LIMIT + 1 + io.DEFAULT_BUFFER_SIZE
    assert "over the" in capsys.readouterr().err


def test_a_batch_of_bad_items_shows_twenty_then_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps([CLOUD_EVENT] + [42] * 25))
    assert main(["parse", str(path)]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 21
    assert lines[0] == f"{path}: eventbridge: field [1]: expected a JSON object, got int"
    assert lines[-1] == f"{path}: ... and 5 more bad items"
    assert out.count("Instance:SystemMaintenance.Reboot") == 1


def test_unexpected_exception_is_one_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(args: Any) -> int:
        raise RuntimeError("broke\non two lines \x1b[31m")

    monkeypatch.setattr(parse_cmd, "run", boom)
    monkeypatch.delenv("ECS_EVENTS_DEBUG", raising=False)
    assert main(["parse", str(GOOD)]) == 1
    err = capsys.readouterr().err
    assert err == "ecs-events: parse: internal error: RuntimeError: broke\\x0aon two lines \\x1b[31m\n"
    monkeypatch.setenv("ECS_EVENTS_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["parse", str(GOOD)])


def test_a_time_that_cannot_print_is_refused_not_a_traceback(tmp_path: Path) -> None:
    payload = json.loads(GOOD.read_bytes())
    payload["content"]["notBefore"] = "9999-12-31T23:59:59-12:00"
    path = tmp_path / "far.json"
    path.write_text(json.dumps(payload))
    result = _run(["parse", str(path)])
    assert result.returncode == 2
    assert "content.notBefore" in _single_line_error(result)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_disk_on_stdout_is_one_line_exit_1() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run([EXE, "parse", str(GOOD)], stdout=full, stderr=subprocess.PIPE, text=True,
                                check=False, timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert _single_line_error(result) == "ecs-events: parse: No space left on device\n"


def test_closed_pipe_is_exit_0() -> None:
    with subprocess.Popen([EXE, "parse", *[str(GOOD)] * 2000], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in err and err == b""


def test_parse_does_not_import_localcloud() -> None:
    code = (
        "import sys\n"
        "from ecs_events.cli import main\n"
        f"code = main(['parse', '--json', {str(GOOD)!r}])\n"
        "print(sorted(m for m in sys.modules if m == 'localcloud' or m.startswith(('localcloud.', 'yaml'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.splitlines()[-1] == "[]"


def test_help_lists_every_command_without_importing_them(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "parse" in out and "localcloud" in out


def _event_with(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(json.loads(GOOD.read_bytes()))
    payload.update(changes)
    return payload


def test_control_characters_in_an_event_are_escaped_in_text_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = _event_with(name="Instance:Evil\n/etc/passwd: forged line\x1b[2J\x9b", regionId="cn\rx\x7f")
    path = tmp_path / "evil\nname.json"
    path.write_text(json.dumps(payload))
    assert main(["parse", str(path)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 2
    assert not any(ch in out for ch in "\x1b\r\x9b\x7f")
    assert "\\x1b[2J" in out
    assert main(["parse", "--json", str(path)]) == 0
    line = capsys.readouterr().out
    assert len(line.splitlines()) == 1
    assert not any(ch in line for ch in "\x1b\r\x9b\x7f")
    record = json.loads(line)
    assert record["name"] == payload["name"]
    assert record["region"] == "cn\rx\x7f"
