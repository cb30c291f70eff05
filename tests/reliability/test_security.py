"""Security (issue 9, item 5), end to end against localcloud through the real SDKs:

(a) an instance without the opt-in tag (none, another value, a look-alike key) is never touched, whatever happens to
    it: maintenance reboot, failure reboot, disk stall, preemption, billing delete; the same events on a tagged
    instance act (the control);
(b) every call these scenarios make is granted by the RAM code policy of template.yml and s.yaml (the exact
    equality over every code path is tests/deploy/test_ram_actions.py; its helpers are reused here);
(c) no secret (access key secret, STS token, DingTalk secret and access_token, webhook token) in any log line, raw,
    URL-encoded or base64: a whole maintenance saga with a DingTalk robot and a webhook, failing notifications,
    an injected cloud failure, dead-lettered messages, all logging at DEBUG (root logger and the JSON lines), plus
    an ``ecs-events consume`` process, with the right credentials and with a wrong secret;
(d) localcloud refuses a bad signature (and an unknown key) on every service: ECS, SLB, CMS, MNS.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.deploy.support import code_policy_actions, ram_action, template
from tests.functional import conftest as functional
from tests.functional.conftest import QUEUE, TAG, World
from tests.notify.notify_support import HOOK, ROBOT, SECRET, TOKEN, WEBHOOK_TOKEN, Receiver
from tests.reliability.harness import report as report_figures
from tests.reliability.support_security import (
    KEY_ID,
    KEY_SECRET,
    STS_TOKEN,
    WRONG_SECRET,
    LogTaps,
    leaks,
    secret_forms,
)

from localcloud.testing import mns_error, sdk_error

world = functional.world  # the functional harness: a fleet on localcloud, events routed to the queue
receiver = functional.receiver  # a real local DingTalk robot / webhook receiver

BIN = Path(sys.executable).parent
POLICY = """\
lead: 30m
drain_period: 60s
snapshot: {maintenance: true, failure: true, disk_error: true, preemption: true}
pre_reboot_command:
  content: "systemctl stop myapp || true"
  timeout: 60s
accept_inquiring: true
"""
UNTAGGED: dict[str, Any] = {
    "instances": [
        {"name": "bare", "count": 1, "tags": {"app": "web"}, "disks": [{"size": 100}]},
        {"name": "off", "count": 1, "tags": {"app": "web", "ecs-events:managed": "false"}, "disks": [{"size": 100}]},
        {"name": "lookalike", "count": 1, "disks": [{"size": 100}],
         "tags": {"app": "web", "ECS-Events:Managed": "true", "ecs-events:managed ": "true"}},
        {"name": "case", "count": 1, "tags": {"app": "web", "ecs-events:managed": "TRUE"}, "disks": [{"size": 100}]},
        {"name": "bare-spot", "count": 1, "preemptible": True, "tags": {"app": "batch"}, "disks": [{"size": 20}]},
        {"name": "spot", "count": 1, "preemptible": True, "tags": {"app": "batch", **TAG}, "disks": [{"size": 20}]},
        {"name": "managed", "count": 1, "tags": {"app": "web", **TAG}, "disks": [{"size": 100}]},
    ],
    "load_balancers": [
        {"name": "sec-lb", "backends": [{"instances": g, "weight": 100}
                                        for g in ("bare", "off", "lookalike", "case", "bare-spot", "spot", "managed")],
         "vserver_groups": [{"name": "sec-80", "backends": [{"instances": g, "port": 80, "weight": 60}
                                                           for g in ("bare", "off", "lookalike", "case", "managed")]}]},
    ],
}  # fmt: skip
INSTANCE_OR_DISK = re.compile(r"\b[id]-[0-9a-z]{8,}")


def _policy(tmp_path: Path) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return str(path)


def _named(calls: list[Any]) -> set[str]:
    """Every instance or disk id a list of calls names anywhere in its parameters."""
    return {found for call in calls for found in INSTANCE_OR_DISK.findall(json.dumps(call.params))}


def _granted(world: World) -> None:
    """(b) every call made so far is granted by both templates' code policy."""
    made = {ram_action(c.product, c.action) for c in world.cloud.call_log if c.product in ("Ecs", "Slb", "Mns")}
    for name in ("template.yml", "s.yaml"):
        missing = made - code_policy_actions(template(name))
        assert not missing, f"{name} does not grant {sorted(missing)}"


# -- (a) the opt-in tag ------------------------------------------------------------------------------------------
def _every_acting_event(world: World, instance: str, *, spot: bool) -> None:
    """Everything that makes the engine act on a tagged instance, aimed at ``instance``."""
    ecs, now = world.cloud.ecs, world.cloud.clock.now()
    if spot:
        ecs.interrupt_preemptible(instance)
        return
    ecs.create_system_event(instance, "SystemMaintenance.Reboot", now + timedelta(minutes=40))
    ecs.create_system_event(instance, "SystemMaintenance.Reboot", now + timedelta(hours=2), status="Inquiring")
    ecs.create_system_event(instance, "SystemFailure.Reboot", now, status="Executing")
    ecs.create_system_event(instance, "InstanceFailure.Reboot", now, status="Executing")
    ecs.create_system_event(instance, "InstanceExpiration.Delete", now + timedelta(days=3))
    ecs.create_system_event(instance, "AccountUnbalanced.Delete", now + timedelta(days=1))
    ecs.inject_disk_event(ecs.instance(instance).disk_ids[-1], "Stalled", duration_seconds=300)
    ecs.inject_disk_event(ecs.instance(instance).disk_ids[0], "ErrorDetected", duration_seconds=300)


@pytest.mark.slow
def test_an_instance_without_the_opt_in_tag_is_never_touched(world: World, tmp_path: Path) -> None:
    fleet = world.cloud.load_fleet(UNTAGGED)
    world.cloud.advance(60)
    world.cloud.call_log.clear()
    app = world.make_app(policy=_policy(tmp_path))
    untagged = [i for group in ("bare", "off", "lookalike", "case", "bare-spot") for i in fleet.instances[group]]
    untagged += world.ids("stray")
    disks = {d for i in untagged for d in world.cloud.ecs.instance(i).disk_ids}
    tagged = fleet.instances["managed"][0]
    for instance in untagged:
        _every_acting_event(world, instance, spot=instance in fleet.instances["bare-spot"])
    _every_acting_event(world, tagged, spot=False)  # the control: the same events act on a tagged instance
    _every_acting_event(world, fleet.instances["spot"][0], spot=True)
    world.run(seconds=3 * 3600, step=120, app=app)

    touched = _named(world.mutating_calls())
    assert not touched & (set(untagged) | disks)
    assert world.app.store.scan("saga/") and not [
        doc.key for doc in world.app.store.scan("saga/") if doc.key.split("/")[1] in set(untagged) | disks
    ]
    done = {c.action for c in world.mutating_calls()}
    assert {"RebootInstance", "CreateSnapshot", "RunCommand", "SetBackendServers", "SetVServerGroupAttribute",
            "RemoveBackendServers"} <= done  # fmt: skip
    # the control: on the tagged instances every one of these events started a saga
    control = {(d.key.split("/")[1], d.value["event_type"]) for d in world.app.store.scan("saga/")}
    assert control == {(fleet.instances["spot"][0], "PreemptibleInstanceInterruption")} | {
        (tagged, kind) for kind in ("SystemMaintenance.Reboot", "SystemFailure.Reboot", "InstanceFailure.Reboot",
                                    "InstanceExpiration.Delete", "AccountUnbalanced.Delete", "Stalled", "ErrorDetected")
    }  # fmt: skip
    assert tagged in touched and fleet.instances["spot"][0] in touched
    assert world.dead_letters() == []
    _granted(world)


# -- (c) secrets in logs ------------------------------------------------------------------------------------------
def _env(world: World, tmp_path: Path, receiver: Receiver, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
        "ALIBABA_CLOUD_SECURITY_TOKEN": STS_TOKEN,
        "ECS_EVENTS_ACCOUNT_ID": world.cloud.account_id,
        "ECS_EVENTS_REGION": world.cloud.region_id,
        "ECS_EVENTS_LOCALCLOUD": world.cloud.url,
        "ECS_EVENTS_QUEUE": QUEUE,
        "ECS_EVENTS_STORE": world.app.settings.store,
        "ECS_EVENTS_POLICY": _policy(tmp_path),
        "ECS_EVENTS_WEBHOOKS": f"{receiver.robot_url()},{receiver.url(HOOK)}?token={WEBHOOK_TOKEN}",
    }


def _consume_process(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ecs-events"), "consume", "--until-idle", "--wait", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_no_secret_in_any_log_line(
    world: World, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = world.cloud
    cloud.ctx.credentials.add(KEY_ID, KEY_SECRET, cloud.account_id)  # localcloud takes STS tokens for its pairs
    env = _env(world, tmp_path, receiver, KEY_SECRET)
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"):
        monkeypatch.setenv(name, env[name])
    web, now = world.ids("web"), cloud.clock.now
    with LogTaps() as taps:
        app = world.make_app(policy=env["ECS_EVENTS_POLICY"], webhooks=tuple(env["ECS_EVENTS_WEBHOOKS"].split(",")))
        assert app.clients.credentials.security_token == STS_TOKEN
        receiver.errcode(ROBOT, 1, 310000, "sign not match")  # the error paths of both senders log too
        receiver.fail(HOOK, 2)
        event_id = cloud.ecs.create_system_event(web[0], "SystemMaintenance.Reboot", now() + timedelta(minutes=40))
        cloud.faults.set("Ecs", "DescribeInstances", error_rate=1.0)  # a cloud failure: retried, then logged
        world.consume(app)
        cloud.faults.clear()
        cloud.mns.send_message(cloud.account_id, QUEUE, "this is not an event")  # dead-lettered
        foreign = world.notification(web[1], "Instance:SystemFailure.Reboot:Executing", {"eventId": "e-x"})
        foreign["userId"] = "9999999999999999"
        world.send_notification(foreign)  # dead-lettered too: another account
        world.run(seconds=50 * 60, step=120, app=app)
        assert world.event_statuses(event_id)[-1] == "Avoided"

        cloud.ecs.create_system_event(web[2], "SystemFailure.Reboot", now(), status="Executing")
        process = _consume_process(env)  # another process: its stderr and stdout
        wrong = _consume_process({**env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": WRONG_SECRET})
    # localcloud's own DEBUG lines are the cloud's access log (the server side of the wire: it is sent the token,
    # as Alibaba Cloud is); every other line of this process and of the consume processes is ours or an SDK's
    cloud_side = [line for line in taps.root_records if line.startswith("localcloud ")]
    lines = taps.json_records + [line for line in taps.root_records if not line.startswith("localcloud ")]
    lines += process.stderr.splitlines() + process.stdout.splitlines()
    lines += wrong.stderr.splitlines() + wrong.stdout.splitlines()
    bodies = [r.body.decode("utf-8", "replace") for r in receiver.requests]  # what the robot and webhook received

    # the scenario really went through every path that logs
    assert process.returncode == 0, process.stderr[-2000:]
    assert wrong.returncode == 1 and "SignatureDoesNotMatch" in wrong.stderr
    text = "\n".join(lines)
    for expected in ("will retry message", "dead-lettered", "errcode 310000", "HTTP 500", "reboot", "consumed "):
        assert expected in text, expected
    assert len(world.dead_letters()) == 2
    assert any(r.sign_ok for r in receiver.at(ROBOT)) and receiver.at(HOOK)
    assert cloud_side and taps.json_records  # both taps saw lines (the root logger at DEBUG: localcloud's)

    secrets = {"access key secret": KEY_SECRET, "wrong secret": WRONG_SECRET, "STS token": STS_TOKEN,
               "DingTalk secret": SECRET, "DingTalk access_token": TOKEN, "webhook token": WEBHOOK_TOKEN}  # fmt: skip
    assert all(len(secret_forms(value)) >= 4 for value in secrets.values())  # raw, base64 x3 (+ URL, JSON forms)
    assert leaks({"STS token": STS_TOKEN}, cloud_side)  # the control: the token was on the wire, and is found
    assert leaks(secrets, lines) == []
    report_figures(
        "secrets in logs",
        [
            f"searched {len(lines)} log lines ({len(taps.json_records)} JSON lines at DEBUG, "
            f"{len(lines) - len(taps.json_records)} of the consume processes and third-party loggers) and "
            f"{len(bodies)} notification bodies for {len(secrets)} secrets in "
            f"{sum(len(secret_forms(v)) for v in secrets.values())} forms: none found",
            f"lines with a masked value (***): {sum('***' in line for line in lines)}; localcloud's own access log "
            f"lines (server side, not searched): {len(cloud_side)}",
        ],
    )
    assert leaks({k: v for k, v in secrets.items() if "DingTalk" not in k and "webhook" not in k}, bodies) == []
    _granted(world)


# -- (d) signatures -----------------------------------------------------------------------------------------------
def _rpc_requests() -> list[tuple[str, Any]]:
    from aliyunsdkcms.request.v20190101.DescribeEventRuleListRequest import DescribeEventRuleListRequest
    from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest
    from aliyunsdkecs.request.v20140526.RebootInstanceRequest import RebootInstanceRequest
    from aliyunsdkslb.request.v20140515.DescribeLoadBalancersRequest import DescribeLoadBalancersRequest
    from aliyunsdkslb.request.v20140515.SetBackendServersRequest import SetBackendServersRequest

    return [
        ("Ecs", DescribeInstancesRequest),
        ("Ecs", RebootInstanceRequest),
        ("Slb", DescribeLoadBalancersRequest),
        ("Slb", SetBackendServersRequest),
        ("Cms", DescribeEventRuleListRequest),
    ]


def _request(cls: Any, world: World) -> Any:
    request = cls()
    web = world.ids("web")[0]
    if hasattr(request, "set_InstanceId"):
        request.set_InstanceId(web)
    if hasattr(request, "set_BackendServers"):
        request.set_LoadBalancerId(next(iter(world.fleet.load_balancers.values())))
        request.set_BackendServers(json.dumps([{"ServerId": web, "Weight": "0"}]))
    return request


@pytest.mark.parametrize("token", [None, "sts"], ids=["access-key", "sts-token"])
def test_every_service_refuses_a_bad_signature(world: World, token: str | None) -> None:
    from aliyunsdkcore.auth.credentials import AccessKeyCredential, StsTokenCredential
    from mns.queue import Message

    cloud = world.cloud
    cloud.ctx.credentials.add(KEY_ID, KEY_SECRET, cloud.account_id)
    weights = world.weights()
    cloud.call_log.clear()  # the fixture's own calls (the CloudMonitor rule it puts)

    def credential(key_id: str, secret: str) -> Any:
        return StsTokenCredential(key_id, secret, STS_TOKEN) if token else AccessKeyCredential(key_id, secret)

    # (what, client, the code the server answers, the code the SDK raises): the SDK compares the string-to-sign the
    # server echoes with its own and, when they agree, reports the secret as the culprit
    clients = [
        ("wrong secret", cloud.acs_client(credential=credential(KEY_ID, WRONG_SECRET)),
         "SignatureDoesNotMatch", "InvalidAccessKeySecret"),
        ("unknown key", cloud.acs_client(credential=credential("LTAI-nobody", KEY_SECRET)),
         "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.NotFound"),
    ]  # fmt: skip
    seen: list[tuple[str, str, str]] = []
    for what, client, server_code, sdk_code in clients:
        for product, cls in _rpc_requests():
            error = sdk_error(client, _request(cls, world))
            answer = cloud.call_log.calls()[-1]
            seen.append((what, product, answer.code))
            assert (answer.product, answer.code) == (product, server_code), (what, answer)
            assert error.get_error_code() == sdk_code, (what, product, error.get_error_msg())
            assert error.get_http_status() in (400, 404)
    sts = {"security_token": STS_TOKEN} if token else {}
    for what, key_id, secret, code in (
        ("wrong secret", KEY_ID, WRONG_SECRET, "SignatureDoesNotMatch"),
        ("unknown key", "LTAI-nobody", KEY_SECRET, "InvalidAccessKeyId"),
    ):
        queue = cloud.mns_account(key_id, secret, **sts).get_queue(QUEUE)
        for call, args in ((queue.send_message, (Message("x"),)), (queue.batch_receive_message, (16, 0))):
            error = mns_error(call, *args)
            seen.append((what, "Mns", error.type))
            assert error.type == code, (what, error.type, error.message)
            assert cloud.call_log.calls()[-1].status == 403

    # the right pair (and token) works on every service: the refusals above were about the signature alone
    good = cloud.acs_client(credential=credential(KEY_ID, KEY_SECRET))
    for _, cls in _rpc_requests():
        if not cls.__name__.startswith(("Reboot", "Set")):
            good.do_action_with_exception(_request(cls, world))
    cloud.mns_account(KEY_ID, KEY_SECRET, **sts).get_queue(QUEUE).send_message(Message("x"))
    # nothing refused changed anything: every instance runs, no weight moved, nothing reached the queue but "x"
    assert {cloud.ecs.status(i) for i in world.fleet.instance_ids} == {"Running"}
    assert world.weights() == weights
    assert [c.action for c in cloud.call_log if c.code == "OK" and not c.action.startswith("Describe")] == [
        "SendMessage"
    ]
    assert len(seen) == 2 * (len(_rpc_requests()) + 2)
