"""MNS wire details: the signature (checked against the SDK's own signer), error bodies and headers, malformed
requests, fault injection and the call log."""

from __future__ import annotations

import base64
import hashlib
import http.client
import xml.etree.ElementTree as ET
from email.utils import formatdate

import pytest
from mns.account import Account, AccountMeta
from mns.auth import Credentials
from mns.mns_client import MNSClient
from mns.mns_exception import MNSClientNetworkException
from mns.queue import Message, QueueMeta

from localcloud.cloud import LocalCloud
from localcloud.errors import CloudError
from localcloud.mns import auth, wire
from localcloud.testing import last_call
from localcloud.testing import mns_error as server_error

AK, SK = "LTAI-localcloud", "localcloud-secret"


def raw(
    cloud: LocalCloud,
    method: str,
    uri: str,
    body: bytes = b"",
    *,
    secret: str = SK,
    signed: bool = True,
    extra: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request signed by the SDK's own ``get_signature`` (``extra`` headers signed too), sent with http.client."""
    headers = {"x-mns-version": "2015-06-06", "date": formatdate(usegmt=True), "host": cloud.endpoint}
    if body:
        headers["content-type"] = "text/xml;charset=UTF-8"
        headers["content-md5"] = base64.b64encode(hashlib.md5(body).hexdigest().encode()).decode()
    headers.update(extra or {})
    if signed and "Authorization" not in headers:
        client = MNSClient(cloud.url, AK, secret)
        headers["Authorization"] = client.get_signature(method, headers, uri, Credentials(AK, secret))
    conn = http.client.HTTPConnection(cloud.endpoint, timeout=10)
    try:
        conn.request(method, uri, body, headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def error_fields(payload: bytes) -> dict[str, str]:
    root = ET.fromstring(payload)
    assert root.tag == "{http://mns.aliyuncs.com/doc/v1/}Error"
    return {child.tag.rsplit("}", 1)[1]: child.text or "" for child in root}


# -- signature ----------------------------------------------------------------------------------------------------


def test_our_signature_is_the_sdks_signature() -> None:
    headers = {
        "x-mns-version": "2015-06-06",
        "x-mns-user-request-id": "abc",
        "date": "Thu, 26 Nov 2026 09:19:51 GMT",
        "content-md5": "ZDQxZDhjZDk4ZjAwYjIwNGU5ODAwOTk4ZWNmODQyN2U=",
        "content-type": "text/xml;charset=UTF-8",
        "host": "127.0.0.1:1",
    }
    resource = "/queues/q1/messages?waitseconds=3"
    sdk = MNSClient("http://127.0.0.1:1", AK, SK).get_signature("GET", headers, resource, Credentials(AK, SK))
    assert auth.authorization(AK, SK, "GET", headers, resource) == sdk
    assert auth.string_to_sign("GET", headers, resource).endswith(
        "x-mns-user-request-id:abc\nx-mns-version:2015-06-06\n/queues/q1/messages?waitseconds=3"
    )


def test_wrong_secret_is_signature_does_not_match_403(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account(access_key_secret="wrong").get_queue("q1")
    err = server_error(queue.create, QueueMeta())
    assert err.type == "SignatureDoesNotMatch"
    call = last_call(localcloud, "CreateQueue")
    assert (call.code, call.status) == ("SignatureDoesNotMatch", 403)
    assert localcloud.mns.queue_names(localcloud.account_id) == []


def test_error_body_has_code_message_request_id_host_id_and_the_request_id_header(localcloud: LocalCloud) -> None:
    status, headers, payload = raw(localcloud, "GET", "/queues/q1", secret="wrong")
    assert status == 403
    found = error_fields(payload)
    assert found["Code"] == "SignatureDoesNotMatch"
    assert found["Message"].startswith("The request signature we calculated does not match")
    assert found["RequestId"] == headers["x-mns-request-id"]
    assert found["HostId"]
    assert headers["content-type"] == "text/xml;charset=utf-8"


def test_unknown_access_key_is_invalid_access_key_id_403(localcloud: LocalCloud) -> None:
    account = Account(localcloud.url, "LTAI-nobody", SK)
    err = server_error(account.get_queue("q1").get_attributes)
    assert err.type == "InvalidAccessKeyId"
    assert last_call(localcloud, "GetQueueAttributes").status == 403


def test_missing_authorization_header_is_400(localcloud: LocalCloud) -> None:
    status, _, payload = raw(localcloud, "GET", "/queues/q1", signed=False)
    assert status == 400
    assert error_fields(payload)["Code"] == "MissingAuthorizationHeader"


def test_sts_security_token_is_accepted_for_the_configured_pair(localcloud: LocalCloud) -> None:
    account = Account(localcloud.url, AK, SK, security_token="CAIS-sts-token")
    queue = account.get_queue("q1")
    queue.create(QueueMeta())
    queue.send_message(Message("with token"))
    assert queue.receive_message(0).message_body == b"with token"


def test_success_responses_carry_request_id_and_version(localcloud: LocalCloud) -> None:
    localcloud.mns.create_queue(localcloud.account_id, "q1")
    status, headers, payload = raw(localcloud, "GET", "/queues/q1")
    assert status == 200
    assert len(headers["x-mns-request-id"]) == 24
    assert headers["x-mns-version"] == "2015-06-06"
    assert b'<Queue xmlns="http://mns.aliyuncs.com/doc/v1/">' in payload


def test_malformed_authorization_header_is_invalid_authorization_header(localcloud: LocalCloud) -> None:
    status, _, payload = raw(localcloud, "GET", "/queues/q1", extra={"Authorization": "MNS no-colon"})
    assert (status, error_fields(payload)["Code"]) == (400, "InvalidAuthorizationHeader")


def test_content_md5_that_does_not_match_the_body_is_invalid_digest(localcloud: LocalCloud) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").hexdigest().encode()).decode()
    status, _, payload = raw(localcloud, "PUT", "/queues/q1", b"<Queue/>", extra={"content-md5": wrong})
    assert (status, error_fields(payload)["Code"]) == (400, "InvalidDegist")


# -- malformed requests -------------------------------------------------------------------------------------------


def test_malformed_xml_is_400_malformed_xml(localcloud: LocalCloud) -> None:
    status, _, payload = raw(localcloud, "PUT", "/queues/q1", b"<Queue><VisibilityTimeout>30</Queue")
    assert status == 400
    assert error_fields(payload)["Code"] == "MalformedXML"


def test_send_without_message_body_is_invalid_argument(localcloud: LocalCloud) -> None:
    localcloud.mns.create_queue(localcloud.account_id, "q1")
    body = b'<?xml version="1.0"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><Priority>1</Priority></Message>'
    status, _, payload = raw(localcloud, "POST", "/queues/q1/messages", body)
    assert status == 400
    found = error_fields(payload)
    assert found["Code"] == "InvalidArgument"
    assert "MessageBody" in found["Message"]


def test_wrong_root_element_and_non_integer_values_are_invalid_argument(localcloud: LocalCloud) -> None:
    status, _, payload = raw(
        localcloud, "PUT", "/queues/q1", b"<Topic><MaximumMessageSize>1</MaximumMessageSize></Topic>"
    )
    assert (status, error_fields(payload)["Code"]) == (400, "InvalidArgument")
    status, _, payload = raw(localcloud, "PUT", "/queues/q1", b"<Queue><DelaySeconds>soon</DelaySeconds></Queue>")
    assert (status, error_fields(payload)["Code"]) == (400, "InvalidArgument")


def test_bad_query_value_is_invalid_query_string(localcloud: LocalCloud) -> None:
    localcloud.mns.create_queue(localcloud.account_id, "q1")
    status, _, payload = raw(localcloud, "GET", "/queues/q1/messages?waitseconds=abc")
    assert (status, error_fields(payload)["Code"]) == (400, "InvalidQueryString")


def test_change_visibility_without_visibility_timeout_is_missing_visibility_timeout(localcloud: LocalCloud) -> None:
    localcloud.mns.create_queue(localcloud.account_id, "q1")
    status, _, payload = raw(localcloud, "PUT", "/queues/q1/messages?ReceiptHandle=1-abc")
    assert (status, error_fields(payload)["Code"]) == (400, "MissingVisibilityTimeout")


def test_unknown_url_is_invalid_request_url(localcloud: LocalCloud) -> None:
    status, _, payload = raw(localcloud, "GET", "/queues/q1/elsewhere")
    assert (status, error_fields(payload)["Code"]) == (400, "InvalidRequestURL")


def test_batch_send_with_one_bad_message_reports_per_message_errors(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account().get_queue("q1")
    queue.create(QueueMeta())
    err = server_error(queue.batch_send_message, [Message("ok"), Message("bad", priority=99)])
    assert err.type == "InvalidArgument"
    assert [sorted(entry) for entry in err.sub_errors] == [
        ["MessageBodyMD5", "MessageId"],
        ["ErrorCode", "ErrorMessage"],
    ]
    assert last_call(localcloud, "BatchSendMessage").status == 400


def test_receipt_handles_are_read_raw_from_the_query() -> None:
    assert wire.parse_query("ReceiptHandle=1-ab+c/d==&VisibilityTimeout=5") == {
        "receipthandle": "1-ab+c/d==",
        "visibilitytimeout": "5",
    }


# -- faults, call log, in-process API -----------------------------------------------------------------------------


def test_injected_throttling_surfaces_as_server_exception(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account().get_queue("q1")
    queue.create(QueueMeta())
    localcloud.faults.set("Mns", "SendMessage", throttling_rate=1.0)
    err = server_error(queue.send_message, Message("x"))
    assert err.type == "Throttling"
    assert last_call(localcloud, "SendMessage").code == "Throttling"
    assert localcloud.mns.queue_messages(localcloud.account_id, "q1") == []
    localcloud.faults.clear()
    queue.send_message(Message("x"))


def test_injected_internal_errors_surface_with_their_code(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account().get_queue("q1")
    queue.create(QueueMeta())
    localcloud.faults.set("Mns", "*", error_rate=1.0)
    err = server_error(queue.receive_message, 0)
    assert err.type in {"InternalError", "ServiceUnavailable"}
    assert last_call(localcloud, "ReceiveMessage").status in {500, 503}


def test_injected_connection_reset_is_a_network_exception(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account().get_queue("q1")
    queue.create(QueueMeta())
    localcloud.faults.set("Mns", "ReceiveMessage", reset_rate=1.0)
    with pytest.raises(MNSClientNetworkException):
        queue.receive_message(0)
    localcloud.faults.clear()
    assert server_error(queue.receive_message, 0).type == "MessageNotExist"


def test_call_log_records_each_call(localcloud: LocalCloud) -> None:
    queue = localcloud.mns_account().get_queue("q1")
    queue.create(QueueMeta())
    queue.send_message(Message("x", delay_seconds=5))
    server_error(queue.receive_message, 0)
    calls = [(c.action, c.code, c.status) for c in localcloud.call_log.calls(product="Mns")]
    assert calls == [("CreateQueue", "OK", 201), ("SendMessage", "OK", 201), ("ReceiveMessage", "MessageNotExist", 404)]
    last = last_call(localcloud, "ReceiveMessage")
    assert (last.account_id, last.region_id, last.params["QueueName"]) == (localcloud.account_id, "cn-hangzhou", "q1")


def test_in_process_send_needs_an_existing_queue(localcloud: LocalCloud) -> None:
    with pytest.raises(CloudError) as info:
        localcloud.mns.send_message(localcloud.account_id, "missing", "body")
    assert (info.value.code, info.value.status) == ("QueueNotExist", 404)
    localcloud.mns.create_queue(localcloud.account_id, "q1", visibility_timeout=60)
    message_id = localcloud.mns.send_message(localcloud.account_id, "q1", "body", priority=2)
    (view,) = localcloud.mns.queue_messages(localcloud.account_id, "q1")
    assert (view.message_id, view.body, view.priority) == (message_id, "body", 2)
    assert localcloud.call_log.calls(product="Mns") == []


def test_account_attributes_round_trip(localcloud: LocalCloud) -> None:
    account = localcloud.mns_account()
    assert account.get_attributes().logging_bucket == ""
    account.set_attributes(AccountMeta("my-bucket"))
    assert account.get_attributes().logging_bucket == "my-bucket"


def test_reset_drops_everything(localcloud: LocalCloud) -> None:
    localcloud.mns.create_queue(localcloud.account_id, "q1")
    localcloud.mns.create_topic(localcloud.account_id, "t1")
    localcloud.mns.reset()
    assert localcloud.mns.queue_names(localcloud.account_id) == []
    err = server_error(localcloud.mns_account().get_topic("t1").get_attributes)
    assert err.type == "TopicNotExist"
