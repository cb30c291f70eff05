"""Fleet files: instances and load balancers built through the APIs, bad files rejected with the field named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aliyunsdkecs.request.v20140526.DescribeInstancesRequest import DescribeInstancesRequest

from localcloud.cloud import LocalCloud
from localcloud.fleet import FleetError
from localcloud.testing import sdk_call as call

DEMO = Path(__file__).resolve().parents[2] / "events" / "fleets" / "demo.yaml"


def test_demo_fleet_builds_instances_and_load_balancer(localcloud: LocalCloud) -> None:
    summary = localcloud.load_fleet(DEMO)
    assert {name: len(ids) for name, ids in summary.instances.items()} == {"web": 3, "db": 1, "batch": 1}
    assert len(localcloud.call_log.calls("RunInstances")) == 5
    request = DescribeInstancesRequest()
    request.set_Tags([{"Key": "ecs-events:managed", "Value": "true"}])
    request.set_Status("Running")
    body = call(localcloud.acs_client(), request)
    assert body["TotalCount"] == 4
    names = sorted(i["InstanceName"] for i in body["Instances"]["Instance"])
    assert names == ["db", "web-1", "web-2", "web-3"]
    (batch,) = summary.instances["batch"]
    assert localcloud.ecs.instance(batch).preemptible
    lb_id = summary.load_balancers["web-lb"]
    account, region = localcloud.account_id, localcloud.region_id
    assert localcloud.slb.backends(account, region, lb_id) == dict.fromkeys(summary.instances["web"], 100)
    group_id = summary.vserver_groups["web-lb/web-8080"]
    assert localcloud.slb.group_backends(account, region, group_id) == {
        (i, 8080): 100 for i in summary.instances["web"]
    }


def test_fleet_from_a_dict_with_data_disks(localcloud: LocalCloud) -> None:
    summary = localcloud.load_fleet({"instances": [{"name": "app", "count": 2, "disks": [{"size": 200}]}]})
    disks = localcloud.ecs.backend(localcloud.account_id).disks.values()
    assert sorted((d.device, d.size) for d in disks if d.instance_id == summary.instances["app"][0]) == [
        ("/dev/xvda", 40),
        ("/dev/xvdb", 200),
    ]
    assert "2 instances (app: 2)" in summary.describe()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"instances": [{"count": 1}]}, "instances[0].name"),
        ({"instances": [{"name": "a", "count": 0}]}, "instances[0].count"),
        ({"instances": [{"name": "a", "tags": ["x"]}]}, "instances[0].tags"),
        ({"instances": "web"}, "instances: must be a list"),
        ({"load_balancers": [{"name": "lb", "backends": [{"instances": "ghost"}]}]}, "backends[0].instances"),
        ({"instances": [{"name": "a", "disks": [{"size": 5}]}]}, "instances[0]"),
    ],
)
def test_bad_fleet_names_the_field(localcloud: LocalCloud, doc: dict[str, object], message: str) -> None:
    with pytest.raises(FleetError, match=message.replace("[", r"\[").replace("]", r"\]")):
        localcloud.load_fleet(doc)


def test_bad_yaml_file_names_the_file(localcloud: LocalCloud, tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("instances: [unclosed\n")
    with pytest.raises(FleetError, match=r"fleet\.yaml: not valid YAML"):
        localcloud.load_fleet(path)
    with pytest.raises(FleetError, match="cannot read"):
        localcloud.load_fleet(tmp_path / "missing.yaml")
    assert json.dumps(localcloud.call_log.calls("RunInstances")) == "[]"
