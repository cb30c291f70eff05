"""MNS topics through the real aliyun-mns-sdk: create, subscribe queues, publish fanned out per content format."""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET
from typing import Any

from mns.subscription import SubscriptionMeta
from mns.topic import Base64TopicMessage, TopicMessage, TopicMeta

from localcloud.cloud import LocalCloud
from localcloud.testing import last_call, make_queue
from localcloud.testing import mns_error as server_error

ACCOUNT = "1234567890123456"


def queue_endpoint(name: str) -> str:
    return f"acs:mns:cn-hangzhou:{ACCOUNT}:queues/{name}"


def make_topic(cloud: LocalCloud, name: str = "t1") -> Any:
    topic = cloud.mns_account().get_topic(name)
    topic.create(TopicMeta())
    return topic


def test_create_topic_and_get_attributes(localcloud: LocalCloud) -> None:
    topic = localcloud.mns_account().get_topic("alerts")
    url = topic.create(TopicMeta())
    assert url == f"http://{ACCOUNT}.mns.cn-hangzhou.aliyuncs.com/topics/alerts"
    assert last_call(localcloud, "CreateTopic").status == 201
    meta = topic.get_attributes()
    assert (meta.topic_name, meta.maximum_message_size, meta.message_count) == ("alerts", 65536, 0)
    assert meta.logging_enabled is False


def test_create_topic_twice_same_is_204_different_is_topic_already_exist(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    topic.create(TopicMeta())
    assert last_call(localcloud, "CreateTopic").status == 204
    err = server_error(topic.create, TopicMeta(maximum_message_size=2048))
    assert err.type == "TopicAlreadyExist"
    assert last_call(localcloud, "CreateTopic").status == 409


def test_missing_topic_is_topic_not_exist_404(localcloud: LocalCloud) -> None:
    topic = localcloud.mns_account().get_topic("nope")
    assert server_error(topic.get_attributes).type == "TopicNotExist"
    assert server_error(topic.publish_message, TopicMessage("x")).type == "TopicNotExist"
    assert last_call(localcloud, "PublishMessage").status == 404


def test_delete_topic(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    topic.delete()
    assert last_call(localcloud, "DeleteTopic").status == 204
    assert server_error(topic.get_attributes).type == "TopicNotExist"


def test_publish_fans_out_to_two_queues_simplified_and_json(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    raw_q = make_queue(localcloud, "raw", encoding=False)
    json_q = make_queue(localcloud, "structured", encoding=False)
    topic.get_subscription("to-raw").subscribe(
        SubscriptionMeta(queue_endpoint("raw"), notify_content_format="SIMPLIFIED")
    )
    topic.get_subscription("to-json").subscribe(
        SubscriptionMeta(queue_endpoint("structured"), notify_content_format="JSON")
    )
    assert last_call(localcloud, "Subscribe").status == 201

    published = topic.publish_message(TopicMessage("hello topic", message_tag="ops"))
    assert published.message_body_md5 == hashlib.md5(b"hello topic").hexdigest().upper()

    assert raw_q.receive_message(0).message_body == "hello topic"
    notification = json.loads(json_q.receive_message(0).message_body)
    publish_ms = int(localcloud.clock.now().timestamp() * 1000)
    assert notification == {
        "TopicOwner": ACCOUNT,
        "TopicName": "t1",
        "Subscriber": ACCOUNT,
        "SubscriptionName": "to-json",
        "MessageId": published.message_id,
        "MessageMD5": published.message_body_md5,
        "MessageTag": "ops",
        "Message": "hello topic",
        "PublishTime": publish_ms,
    }
    assert topic.get_attributes().message_count == 1


def test_base64_topic_message_reaches_an_encoding_queue_as_the_original_bytes(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    queue = make_queue(localcloud, "q")
    topic.get_subscription("s").subscribe(SubscriptionMeta(queue_endpoint("q"), notify_content_format="SIMPLIFIED"))
    topic.publish_message(Base64TopicMessage('{"name": "Instance:StateChange"}'))
    assert queue.receive_message(0).message_body == b'{"name": "Instance:StateChange"}'


def test_xml_format_is_the_default_and_carries_the_notification_fields(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    queue = make_queue(localcloud, "q", encoding=False)
    topic.get_subscription("s").subscribe(SubscriptionMeta(queue_endpoint("q")))
    assert topic.get_subscription("s").get_attributes().notify_content_format == "XML"
    published = topic.publish_message(TopicMessage("<b>&</b>"))
    root = ET.fromstring(queue.receive_message(0).message_body.encode())
    found = {child.tag.rsplit("}", 1)[1]: child.text for child in root}
    assert root.tag.endswith("Notification")
    assert found["Message"] == "<b>&</b>"
    assert found["MessageId"] == published.message_id
    assert found["SubscriptionName"] == "s"


def test_plain_queue_name_endpoint_is_accepted(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    queue = make_queue(localcloud, "plain", encoding=False)
    topic.get_subscription("s").subscribe(SubscriptionMeta("plain", notify_content_format="SIMPLIFIED"))
    topic.publish_message(TopicMessage("by name"))
    assert queue.receive_message(0).message_body == "by name"


def test_filter_tag_selects_messages(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    queue = make_queue(localcloud, "q", encoding=False)
    topic.get_subscription("s").subscribe(
        SubscriptionMeta(queue_endpoint("q"), notify_content_format="SIMPLIFIED", filter_tag="critical")
    )
    topic.publish_message(TopicMessage("skip me", message_tag="info"))
    topic.publish_message(TopicMessage("untagged"))
    topic.publish_message(TopicMessage("take me", message_tag="critical"))
    assert [m.message_body for m in queue.batch_receive_message(16, 0)] == ["take me"]


def test_subscription_attributes_and_listing(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    make_queue(localcloud, "q", encoding=False)
    topic.get_subscription("b").subscribe(SubscriptionMeta(queue_endpoint("q"), notify_content_format="JSON"))
    topic.get_subscription("a").subscribe(SubscriptionMeta(queue_endpoint("q"), filter_tag="x"))
    meta = topic.get_subscription("b").get_attributes()
    assert (meta.topic_owner, meta.topic_name, meta.subscription_name) == (ACCOUNT, "t1", "b")
    assert (meta.endpoint, meta.notify_strategy, meta.notify_content_format) == (
        queue_endpoint("q"),
        "BACKOFF_RETRY",
        "JSON",
    )
    assert topic.get_subscription("a").get_attributes().filter_tag == "x"
    urls, marker = topic.list_subscription()
    assert [u.rsplit("/", 1)[1] for u in urls] == ["a", "b"]
    assert marker == ""


def test_subscribe_again_same_is_204_different_is_subscription_already_exist(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    sub = topic.get_subscription("s")
    sub.subscribe(SubscriptionMeta(queue_endpoint("q")))
    sub.subscribe(SubscriptionMeta(queue_endpoint("q")))
    assert last_call(localcloud, "Subscribe").status == 204
    err = server_error(sub.subscribe, SubscriptionMeta(queue_endpoint("other")))
    assert err.type == "SubscriptionAlreadyExist"
    assert last_call(localcloud, "Subscribe").status == 409


def test_unsubscribe_stops_delivery(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    queue = make_queue(localcloud, "q", encoding=False)
    sub = topic.get_subscription("s")
    sub.subscribe(SubscriptionMeta(queue_endpoint("q"), notify_content_format="SIMPLIFIED"))
    sub.unsubscribe()
    assert last_call(localcloud, "Unsubscribe").status == 204
    topic.publish_message(TopicMessage("nobody listens"))
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"
    assert server_error(sub.get_attributes).type == "SubscriptionNotExist"
    assert last_call(localcloud, "GetSubscriptionAttributes").status == 404


def test_subscribe_to_missing_topic_and_bad_format(localcloud: LocalCloud) -> None:
    missing = localcloud.mns_account().get_topic("nope").get_subscription("s")
    assert server_error(missing.subscribe, SubscriptionMeta(queue_endpoint("q"))).type == "TopicNotExist"
    sub = make_topic(localcloud).get_subscription("s")
    err = server_error(sub.subscribe, SubscriptionMeta(queue_endpoint("q"), notify_content_format="YAML"))
    assert err.type == "InvalidArgument"


def test_publish_to_a_subscription_whose_queue_is_gone_still_succeeds(localcloud: LocalCloud) -> None:
    topic = make_topic(localcloud)
    topic.get_subscription("s").subscribe(SubscriptionMeta(queue_endpoint("deleted")))
    assert topic.publish_message(TopicMessage("into the void")).message_id


def test_in_process_publish_reaches_sdk_consumers(localcloud: LocalCloud) -> None:
    localcloud.mns.create_topic(ACCOUNT, "events")
    localcloud.mns.create_queue(ACCOUNT, "inbox")
    localcloud.mns.subscribe(ACCOUNT, "events", "inbox-sub", "inbox", notify_content_format="SIMPLIFIED")
    body = base64.b64encode(b'{"product": "ECS"}').decode()
    message_id = localcloud.mns.publish_message(ACCOUNT, "events", body)
    queue = localcloud.mns_account().get_queue("inbox")
    assert queue.receive_message(0).message_body == b'{"product": "ECS"}'
    assert message_id.count("-") == 3
