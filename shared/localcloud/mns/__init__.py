"""MNS (Message Service): queues and topics over the real REST/XML wire the aliyun-mns-sdk speaks.

Layout (moto style): ``models`` keeps the state and owns the transitions (visibility, delay, retention, receipt
handles, topic fan-out), ``responses`` routes requests and shapes the XML, ``wire`` parses and renders XML,
``auth`` checks the ``Authorization: MNS AK:SIG`` signature, ``exceptions`` carries the real error codes, and
``service.MnsService`` ties them to the server (``handle_http``) and offers the in-process API the ECS event
emitter uses (``create_queue``, ``create_topic``, ``subscribe``, ``send_message``, ``publish_message``).

Queue APIs: CreateQueue, SetQueueAttributes, GetQueueAttributes, DeleteQueue, ListQueue, SendMessage,
BatchSendMessage, ReceiveMessage / BatchReceiveMessage (long poll on ``waitseconds``), PeekMessage /
BatchPeekMessage, DeleteMessage, BatchDeleteMessage, ChangeMessageVisibility. Topic APIs: CreateTopic,
SetTopicAttributes, GetTopicAttributes, DeleteTopic, ListTopic, PublishMessage, Subscribe (queue endpoints
``acs:mns:<region>:<account>:queues/<name>`` or a bare queue name; SIMPLIFIED / JSON / XML; FilterTag),
SetSubscriptionAttributes, GetSubscriptionAttributes, Unsubscribe, ListSubscriptionByTopic. Account:
Get/SetAccountAttributes. HTTP, mail and SMS endpoints are accepted but nothing is pushed to them.
"""

from __future__ import annotations

from localcloud.mns.service import MnsService

__all__ = ["MnsService"]
