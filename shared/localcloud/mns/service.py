"""The MNS service: the HTTP entry point the server calls, and the in-process API the ECS event emitter uses.

Per request: route (action name), check the MNS signature against ``ctx.credentials`` (the account is the one
bound to the access key), apply injected faults, act, log the call, and render errors as the ``<Error>`` XML with
an ``x-mns-request-id`` header. A ConnectionResetFault propagates so the server drops the connection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from localcloud.core import CallRecord, CloudContext
from localcloud.errors import CloudError, ConnectionResetFault
from localcloud.mns import auth, wire
from localcloud.mns import exceptions as exc
from localcloud.mns.models import MessageView, MnsIds, MnsModel, SubscriptionAttributes
from localcloud.mns.responses import MnsResponses, Request, Response, route

log = logging.getLogger("localcloud.mns")

API_VERSION = "2015-06-06"


class MnsService:
    """MNS queues and topics, per account, in the context's region."""

    product = "Mns"

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx
        self.ids = MnsIds(ctx.ids.seed)
        self.cond = threading.Condition()
        self.model = MnsModel(ctx.region_id, ctx.clock.now, self.ids)
        self.responses = MnsResponses(self.model, self.cond)

    def reset(self) -> None:
        """Drop every queue, message, topic and subscription; ids restart from the seed. Waiting receivers wake
        up and answer QueueNotExist."""
        with self.cond:
            for account in self.model.accounts.values():
                for queue in account.queues.values():
                    queue.deleted = True
            self.model.accounts.clear()
            self.responses.logging_buckets.clear()
            self.ids.reset()
            self.cond.notify_all()

    # -- HTTP ------------------------------------------------------------------------------------------------------
    def handle_http(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        request_id = self.ids.request_id()
        self.ctx.scheduler.run_due()
        path, _, raw_query = target.partition("?")
        query = wire.parse_query(raw_query)
        routed = route(method, path, query, body)
        action, names = routed if routed else ("Unknown", ())
        account_id = ""
        status, code = 200, "OK"
        try:
            _, account_id = auth.authenticate(
                self.ctx.credentials,
                method,
                headers,
                target,
                body,
                strict=self.ctx.strict_requests,
                wall=self.ctx.wall,
            )
            if routed is None or not action:
                raise exc.invalid_request_url()
            self.ctx.faults.check(self.product, action)
            response = self.responses.dispatch(Request(action, names, query, headers, body, account_id))
            status = response.status
            code = response.code or "OK"
        except ConnectionResetFault:
            code, status = "ConnectionReset", 0
            raise
        except CloudError as err:
            status, code = err.status, err.code
            response = Response(err.status, wire.error_document(err, request_id, self._host_id(account_id)))
        except Exception:  # a bug here must still answer like MNS, not drop a traceback on the SDK
            log.exception("MNS %s %s failed", method, target)
            internal = CloudError("InternalError", "Interal error.", 500)
            status, code = internal.status, internal.code
            response = Response(500, wire.error_document(internal, request_id, self._host_id(account_id)))
        finally:
            self._record(action, names, query, account_id=account_id, code=code, status=status)
        out = {"x-mns-request-id": request_id, "x-mns-version": API_VERSION, **response.headers}
        if response.body:
            out["Content-Type"] = "text/xml;charset=utf-8"
        return response.status, out, response.body

    def _host_id(self, account_id: str) -> str:
        region = self.ctx.region_id
        return f"http://{account_id}.mns.{region}.aliyuncs.com" if account_id else f"http://mns.{region}.aliyuncs.com"

    def _record(
        self, action: str, names: tuple[str, ...], query: Mapping[str, str], *, account_id: str, code: str, status: int
    ) -> None:
        params: dict[str, str] = {}
        if names:
            params["TopicName" if action in _TOPIC_ACTIONS else "QueueName"] = names[0]
        if len(names) > 1:
            params["SubscriptionName"] = names[1]
        params.update(query)
        self.ctx.call_log.record(
            CallRecord(
                time=self.ctx.clock.now(),
                product=self.product,
                action=action,
                params=params,
                code=code,
                status=status,
                account_id=account_id,
                region_id=self.ctx.region_id,
            )
        )

    # -- in-process API (no signature, faults or call log: the cloud itself is calling) -----------------------
    def create_queue(
        self,
        account_id: str,
        name: str,
        *,
        visibility_timeout: int = 30,
        maximum_message_size: int = 65536,
        message_retention_period: int = 345600,
        delay_seconds: int = 0,
        polling_wait_seconds: int = 0,
        logging_enabled: bool = False,
    ) -> str:
        """Create a queue (same attributes as an existing one: no-op; different: QueueAlreadyExist). Its URL."""
        values: dict[str, int | bool] = {
            "visibility_timeout": visibility_timeout,
            "maximum_message_size": maximum_message_size,
            "message_retention_period": message_retention_period,
            "delay_seconds": delay_seconds,
            "polling_wait_seconds": polling_wait_seconds,
            "logging_enabled": logging_enabled,
        }
        with self.cond:
            queue, _ = self.model.create_queue(account_id, name, values)
            return queue.url

    def set_queue_retention(self, account_id: str, name: str, seconds: int) -> None:
        """SetQueueAttributes' MessageRetentionPeriod (60-604800, else InvalidArgument)."""
        with self.cond:
            self.model.set_queue_attributes(account_id, name, {"message_retention_period": seconds})

    def queue_retention(self, account_id: str, name: str) -> int:
        """The queue's MessageRetentionPeriod, as GetQueueAttributes reports it."""
        with self.cond:
            return self.model.account(account_id).queue(name).attrs.message_retention_period

    def create_topic(
        self, account_id: str, name: str, maximum_message_size: int = 65536, logging_enabled: bool = False
    ) -> str:
        values: dict[str, int | bool] = {
            "maximum_message_size": maximum_message_size,
            "logging_enabled": logging_enabled,
        }
        with self.cond:
            topic, _ = self.model.create_topic(account_id, name, values)
            return topic.url

    def subscribe(
        self,
        account_id: str,
        topic_name: str,
        subscription_name: str,
        endpoint: str,
        *,
        notify_content_format: str = "XML",
        filter_tag: str = "",
    ) -> str:
        """Subscribe ``endpoint`` (``acs:mns:<region>:<account>:queues/<name>`` or a queue name) to a topic."""
        attrs = SubscriptionAttributes(endpoint, "BACKOFF_RETRY", notify_content_format, filter_tag)
        with self.cond:
            topic = self.model.account(account_id).topic(topic_name)
            topic.subscribe(subscription_name, attrs, self.model.now())
            return topic.subscriptions[subscription_name].url

    def send_message(
        self, account_id: str, queue_name: str, body: str, delay_seconds: int = 0, priority: int = 8
    ) -> str:
        """Enqueue ``body`` as is (the caller base64-encodes if it wants to); the message id. Creates nothing:
        raises CloudError QueueNotExist."""
        with self.cond:
            view = self.model.send(account_id, queue_name, body, delay_seconds, priority)
            self.cond.notify_all()
        return view.message_id

    def publish_message(self, account_id: str, topic_name: str, body: str, message_tag: str = "") -> str:
        """Publish to a topic, fanned out to every matching subscription; the message id (TopicNotExist if none)."""
        with self.cond:
            published = self.model.publish(account_id, topic_name, body, message_tag)
            self.cond.notify_all()
        return published.message_id

    def queue_names(self, account_id: str) -> list[str]:
        with self.cond:
            return sorted(self.model.account(account_id).queues)

    def queue_messages(self, account_id: str, queue_name: str) -> list[MessageView]:
        """Every message in a queue, visible or not, in send order (for assertions; changes nothing)."""
        with self.cond:
            queue = self.model.account(account_id).queue(queue_name)
            queue.purge_expired(self.model.now())
            return [MessageView.of(m) for m in queue.messages.values()]


_TOPIC_ACTIONS = frozenset(
    {
        "CreateTopic", "DeleteTopic", "GetTopicAttributes", "SetTopicAttributes", "PublishMessage", "Subscribe",
        "Unsubscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes", "ListSubscriptionByTopic",
    }
)  # fmt: skip
