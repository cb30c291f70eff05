"""MNS error codes with their real messages and HTTP statuses (the MNS error-code reference and per-API pages).

Every constructor returns a ``CloudError``; ``wire.error_body`` renders it as the ``<Error>`` XML the SDK parses.
"""

from __future__ import annotations

from localcloud.errors import CloudError


def queue_not_exist() -> CloudError:
    return CloudError("QueueNotExist", "The queue name you provided is not exist.", 404)


def queue_already_exist() -> CloudError:
    return CloudError("QueueAlreadyExist", "The queue you want to create is already exist.", 409)


def topic_not_exist() -> CloudError:
    return CloudError("TopicNotExist", "The topic name you provided is not exist.", 404)


def topic_already_exist() -> CloudError:
    return CloudError("TopicAlreadyExist", "The topic you want to create is already exist.", 409)


def subscription_not_exist() -> CloudError:
    return CloudError("SubscriptionNotExist", "The subscription name you provided is not exist.", 404)


def subscription_already_exist() -> CloudError:
    return CloudError("SubscriptionAlreadyExist", "The subscription you want to create is already exist.", 409)


def message_not_exist() -> CloudError:
    return CloudError("MessageNotExist", "Message not exist.", 404)


def receipt_handle_error() -> CloudError:
    return CloudError("ReceiptHandleError", "The receipt handle you provide is not valid.", 400)


def malformed_xml() -> CloudError:
    return CloudError("MalformedXML", "The XML you provided was not well-formed.", 400)


def schema_error(element: str) -> CloudError:
    message = f"The XML you provided did not validate against our published schema, cause by {element}."
    return CloudError("InvalidArgument", message, 400)


def out_of_range(element: str, low: int, high: int, unit: str = "seconds") -> CloudError:
    suffix = f" {unit}" if unit else ""
    return CloudError("InvalidArgument", f"The value of {element} should between {low} and {high}{suffix}.", 400)


def invalid_argument(message: str) -> CloudError:
    return CloudError("InvalidArgument", message, 400)


def invalid_request_url() -> CloudError:
    return CloudError("InvalidRequestURL", "Http request URL format invalid.", 400)


def invalid_query_string(item: str) -> CloudError:
    return CloudError("InvalidQueryString", f'Http request URL contains invalid querystring item "{item}".', 400)


def missing_authorization_header() -> CloudError:
    return CloudError("MissingAuthorizationHeader", "Authorization header is required.", 400)


def invalid_authorization_header() -> CloudError:
    return CloudError("InvalidAuthorizationHeader", "The Authorization header format is invalid.", 400)


def missing_date_header() -> CloudError:
    return CloudError("MissingDateHeader", "Date header is required.", 400)


def invalid_digest() -> CloudError:
    return CloudError("InvalidDegist", "The Content-MD5 you specified is invalid.", 400)


def invalid_access_key_id() -> CloudError:
    return CloudError("InvalidAccessKeyId", "The AccessKey Id you provided is not exist.", 403)


def signature_does_not_match() -> CloudError:
    return CloudError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
    )


def time_expired() -> CloudError:
    return CloudError("TimeExpired", "The http request you sent is expired.", 403)
