"""``ecs-events localcloud`` / ``python -m localcloud``: serves, prints endpoint and credentials, builds a fleet."""

from __future__ import annotations

import argparse
import contextlib
import io
import threading
from pathlib import Path

from aliyunsdkcore.client import AcsClient
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest

from ecs_events.cli import localcloud_cmd
from localcloud.serve import serve
from localcloud.testing import sdk_call as call

DEMO = Path(__file__).resolve().parents[2] / "events" / "fleets" / "demo.yaml"


def parse(argv: list[str]) -> argparse.Namespace:
    """``ecs-events ARGV`` as the CLI parses it: the localcloud subcommand registered through its add_parser."""
    parser = argparse.ArgumentParser(prog="ecs-events")
    localcloud_cmd.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_defaults_are_documented() -> None:
    args = parse(["localcloud"])
    assert (args.host, args.port, args.seed, args.fleet, args.events_queue) == ("127.0.0.1", 8080, 0, None, None)
    assert args.access_key_id == "LTAI-localcloud" and callable(args.func)


def test_serve_prints_endpoint_and_credentials_and_builds_the_fleet() -> None:
    args = parse(
        ["localcloud", "--port", "0", "--seed", "3", "--fleet", str(DEMO), "--events-queue", "ecs-events",
         "--access-key-id", "AK-cli", "--access-key-secret", "SK-cli"]
    )  # fmt: skip
    ready, stop = threading.Event(), threading.Event()
    out = io.StringIO()
    result: list[int] = []

    def run() -> None:
        with contextlib.redirect_stdout(out):
            result.append(serve(args, ready=ready.set, stop=stop))

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert ready.wait(10)
        lines = out.getvalue().splitlines()
        endpoint = next(line for line in lines if line.startswith("endpoint: ")).split()[1].removeprefix("http://")
        assert "credentials: AK-cli / SK-cli" in lines[-2] or any(
            line.startswith("credentials: AK-cli") for line in lines
        )
        assert any(line.startswith("fleet: 5 instances") for line in lines)
        client = AcsClient("AK-cli", "SK-cli", "cn-hangzhou")
        client.add_endpoint("cn-hangzhou", "Ecs", endpoint)
        assert call(client, DescribeInstancesRequest())["TotalCount"] == 5
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]


def test_bad_fleet_is_a_one_line_error_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.yaml"
    bad.write_text("instances: [{count: 2}]\n")
    args = argparse.Namespace(
        host="127.0.0.1", port=0, seed=0, access_key_id="a", access_key_secret="b", account_id="1",
        region="cn-hangzhou", fleet=str(bad), events_queue=None,
    )  # fmt: skip
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert serve(args) == 2
    assert err.getvalue().count("\n") == 1 and "instances[0].name" in err.getvalue()


def test_port_out_of_range_is_one_line_exit_2() -> None:
    args = parse(["localcloud", "--port", "99999"])
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert serve(args) == 2
    assert err.getvalue().count("\n") == 1 and "99999" in err.getvalue()


def test_broken_yaml_is_one_line_naming_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.yaml"
    bad.write_text("instances:\n  - name: web\n    count: [1, 2\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert serve(parse(["localcloud", "--port", "0", "--fleet", str(bad)])) == 2
    text = err.getvalue()
    assert text.count("\n") == 1, text
    assert str(bad) in text and "at line 4, column 1" in text, text
