"""Ecs actions against localcloud through the real aliyun-python-sdk-ecs: every method, errors, idempotent snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from ecs_events import retry
from ecs_events.actions.errors import ActionError, ConflictError, NotFoundError
from ecs_events.runtime.clients import Clients
from localcloud.cloud import LocalCloud


def test_describe_instance_reads_status_name_tags_locks_and_spot(
    clients: Clients, running: Callable[..., list[str]]
) -> None:
    [plain] = running(tags={"app": "web", "ecs-events:managed": "true"}, name="web-1")
    [spot] = running(spot=True)
    ecs = clients.ecs()
    facts = ecs.describe_instance(plain)
    assert facts is not None
    assert (facts.instance_id, facts.status, facts.name) == (plain, "Running", "web-1")
    assert facts.tags == {"app": "web", "ecs-events:managed": "true"}
    assert facts.lock_reasons == ()
    assert facts.preemptible is False
    spot_facts = ecs.describe_instance(spot)
    assert spot_facts is not None and spot_facts.preemptible is True


def test_describe_instance_of_a_missing_id_is_none(clients: Clients) -> None:
    assert clients.ecs().describe_instance("i-bp1doesnotexist000000") is None


def test_describe_instances_sends_a_json_array_in_pages_of_100(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    ids = running(amount=3)
    wanted = [*ids, *(f"i-bp1missing{n:09d}" for n in range(150))]
    found = clients.ecs().describe_instances(wanted)
    assert sorted(found) == sorted(ids)
    calls = localcloud.call_log.calls("DescribeInstances")
    assert [len(json.loads(c.params["InstanceIds"])) for c in calls] == [100, 53]
    assert all(c.params["PageSize"] == "100" for c in calls)


def test_describe_disks_lists_system_and_data_disks(clients: Clients, running: Callable[..., list[str]]) -> None:
    [instance] = running(data_disks=[{"Size": 100, "Category": "cloud_essd"}])
    disks = clients.ecs().describe_disks(instance)
    assert sorted(d.type for d in disks) == ["data", "system"]
    data = next(d for d in disks if d.type == "data")
    assert (data.category, data.status) == ("cloud_essd", "In_use")
    assert data.device.startswith("/dev/")


def test_reboot_a_running_instance(localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]) -> None:
    [instance] = running()
    clients.ecs().reboot(instance)
    assert localcloud.ecs.status(instance) in ("Stopping", "Starting")
    [call] = localcloud.call_log.calls("RebootInstance")
    assert call.code == "OK" and "DryRun" not in call.params


def test_reboot_of_a_stopped_instance_is_a_conflict(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    from aliyunsdkecs.request.v20140526.StopInstanceRequest import StopInstanceRequest

    [instance] = running()
    stop = StopInstanceRequest()
    stop.set_InstanceId(instance)
    localcloud.acs_client().do_action_with_exception(stop)
    localcloud.advance(60)
    with pytest.raises(ConflictError) as info:
        clients.ecs().reboot(instance)
    err = info.value
    assert (err.product, err.action, err.code, err.status) == ("Ecs", "RebootInstance", "IncorrectInstanceStatus", 403)
    assert err.request_id
    assert str(err).startswith("Ecs.RebootInstance: IncorrectInstanceStatus (HTTP 403): The current status")
    assert len(localcloud.call_log.calls("RebootInstance")) == 1  # a conflict is not retried


def test_reboot_of_a_missing_instance_is_not_found(localcloud: LocalCloud, clients: Clients) -> None:
    with pytest.raises(NotFoundError) as info:
        clients.ecs().reboot("i-bp1doesnotexist000000")
    assert (info.value.code, info.value.status) == ("InvalidInstanceId.NotFound", 404)
    assert len(localcloud.call_log.calls("RebootInstance")) == 1


def test_create_snapshot_sends_the_token_and_a_second_call_with_it_returns_the_same_snapshot(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    [instance] = running(data_disks=[{"Size": 100}])
    ecs = clients.ecs()
    disk = next(d for d in ecs.describe_disks(instance) if d.type == "data")
    first = ecs.create_snapshot(disk.disk_id, token="saga-1:snap:d1", name="ecs-events-before-reboot", description="x")
    again = ecs.create_snapshot(disk.disk_id, token="saga-1:snap:d1", name="ecs-events-before-reboot", description="x")
    assert first == again and first.startswith("s-")
    calls = localcloud.call_log.calls("CreateSnapshot")
    assert [c.params["ClientToken"] for c in calls] == ["saga-1:snap:d1"] * 2
    assert calls[0].params["SnapshotName"] == "ecs-events-before-reboot"


def test_create_snapshot_retried_under_faults_creates_exactly_one_snapshot(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    [instance] = running(data_disks=[{"Size": 100}])
    ecs = clients.ecs()
    disk = next(d for d in ecs.describe_disks(instance) if d.type == "data")
    localcloud.faults.set("Ecs", "CreateSnapshot", error_rate=0.6)
    snapshot_id = ecs.create_snapshot(disk.disk_id, token="tok-42", name="ecs-events-snap")
    calls = localcloud.call_log.calls("CreateSnapshot")
    assert len(calls) > 1 and retry.stats["Ecs.CreateSnapshot"] == len(calls) - 1
    assert {c.params["ClientToken"] for c in calls} == {"tok-42"}
    localcloud.faults.clear()
    snapshots = ecs.describe_snapshots([snapshot_id])
    assert list(snapshots) == [snapshot_id]
    assert len(localcloud.ecs.backend(localcloud.account_id).snapshots) == 1


def test_create_snapshot_refuses_a_token_over_64_ascii(localcloud: LocalCloud, clients: Clients) -> None:
    for token in ("x" * 65, "jeton-é", ""):
        with pytest.raises(ActionError, match="1-64 printable ASCII") as info:
            clients.ecs().create_snapshot("d-1", token=token, name="snap")
        assert (info.value.code, info.value.status) == ("InvalidParameter", None)
    assert localcloud.call_log.calls("CreateSnapshot") == []


def test_create_snapshot_of_a_missing_disk_is_not_found(clients: Clients) -> None:
    with pytest.raises(NotFoundError) as info:
        clients.ecs().create_snapshot("d-bp1doesnotexist000000", token="t", name="snap")
    assert info.value.code == "InvalidDiskId.NotFound"


def test_describe_snapshots_follows_progress_to_accomplished(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    [instance] = running()
    ecs = clients.ecs()
    [disk] = ecs.describe_disks(instance)
    snapshot_id = ecs.create_snapshot(disk.disk_id, token="t1", name="snap-1")
    facts = ecs.describe_snapshots([snapshot_id])[snapshot_id]
    assert (facts.disk_id, facts.status) == (disk.disk_id, "progressing")
    localcloud.advance(3600)
    facts = ecs.describe_snapshots([snapshot_id])[snapshot_id]
    assert (facts.status, facts.progress) == ("accomplished", "100%")


def test_full_status_normalises_ok_and_passes_other_health_names(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    [instance] = running()
    ecs = clients.ecs()
    assert ecs.full_status(instance) == ("Running", "Ok")
    localcloud.ecs.set_health(instance, "Impaired")
    assert ecs.full_status(instance) == ("Running", "Impaired")
    assert ecs.full_status("i-bp1doesnotexist000000") is None


def test_accept_inquired_event_and_a_second_accept_is_not_found(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    [instance] = running()
    not_before = localcloud.clock.now() + timedelta(days=2)
    event_id = localcloud.ecs.create_system_event(instance, "SystemMaintenance.Reboot", not_before, "Inquiring")
    ecs = clients.ecs()
    ecs.accept_inquired(event_id)
    with pytest.raises(NotFoundError) as info:
        ecs.accept_inquired(event_id)
    assert info.value.code == "InvalidEventId.NoInquiringEventFound"


def test_console_output_is_decoded(localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]) -> None:
    [instance] = running()
    localcloud.ecs.set_console_output(instance, "kernel: Out of memory\nlogin:")
    assert clients.ecs().console_output(instance) == "kernel: Out of memory\nlogin:"


def test_run_command_and_its_result(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    [instance] = running()
    localcloud.ecs.set_command_output(instance, "drained\n", exit_code=0)
    ecs = clients.ecs()
    invoke_id = ecs.run_command(instance, "systemctl stop app && echo drained", timeout=30)
    [call] = localcloud.call_log.calls("RunCommand")
    assert (call.params["Type"], call.params["Timeout"], call.params["InstanceId.1"]) == (
        "RunShellScript",
        "30",
        instance,
    )
    assert call.params["ClientToken"]
    running_now = ecs.invocation_result(invoke_id, instance)
    assert (running_now.status, running_now.exit_code) == ("Running", None)
    localcloud.advance(300)
    done = ecs.invocation_result(invoke_id, instance)
    assert (done.invoke_id, done.status, done.exit_code, done.output) == (invoke_id, "Finished", 0, "drained\n")


def test_failed_command_has_its_exit_code(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    [instance] = running()
    localcloud.ecs.set_command_output(instance, "boom", exit_code=3)
    ecs = clients.ecs()
    invoke_id = ecs.run_command(instance, "exit 3")
    localcloud.advance(300)
    result = ecs.invocation_result(invoke_id, instance)
    assert (result.status, result.exit_code, result.output) == ("Failed", 3, "boom")


def test_invocation_result_of_an_unknown_invocation_is_not_found(clients: Clients) -> None:
    with pytest.raises(NotFoundError) as info:
        clients.ecs().invocation_result("t-hz0nothing", "i-bp1nothing")
    assert (info.value.action, info.value.code) == ("DescribeInvocationResults", "InvalidInvokeId.NotFound")


def test_run_command_on_a_missing_instance_is_not_found(clients: Clients) -> None:
    with pytest.raises(NotFoundError) as info:
        clients.ecs().run_command("i-bp1doesnotexist000000", "true")
    assert info.value.code == "InvalidInstanceId.NotFound"


def test_every_attempt_builds_a_new_request(
    localcloud: LocalCloud, clients: Clients, running: Callable[..., list[str]]
) -> None:
    """A reused request object would carry the last attempt's signature and nonce into the next URL."""
    [instance] = running()
    localcloud.faults.set("Ecs", "DescribeInstances", throttling_rate=0.7)
    ecs = clients.ecs()
    for _ in range(5):
        assert ecs.describe_instance(instance) is not None
    calls = localcloud.call_log.calls("DescribeInstances")
    assert len(calls) > 5
    assert all(len(c.params) == len(calls[0].params) for c in calls)
