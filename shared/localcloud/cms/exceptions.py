"""CloudMonitor (CMS 2019-01-01) errors as the event-rule APIs answer them.

Two kinds (wire facts round 2, section 1): errors the API gateway raises with an HTTP status (``400
ParameterInvalid "Illegal parameters."``, ``404 ResourceNotFound "The specified resource is not found."``), and
business failures CMS answers with **HTTP 200** and ``"Success": false`` (terraform checks ``Success`` after
PutEventRule). The SDK raises only on the former; ``BusinessFailure`` carries the latter up to the wire layer, which
renders it as a 200 body with ``Code`` as a string ("400", "404").

Which failure gets which kind is not documented per API ("see Error Center"); the fake's choice:
- HTTP 400 ParameterInvalid: a required parameter missing, a malformed value (State, EventType, IsEnable, an
  integer), a list over its documented 1..50 / 1..5 bound;
- HTTP 404 ResourceNotFound: a rule name that does not exist for PutEventRuleTargets, DescribeEventRuleTargetList,
  DeleteEventRuleTargets, DeleteEventRules, EnableEventRules and DisableEventRules;
- HTTP 200 + Success false: an event pattern value outside its value set (LevelList, EventTypeList), a pattern
  without a product, and PutEventRuleTargets targets that cannot be used (listed in ``Failed*Parameters``).
"""

from __future__ import annotations

from typing import Any

from localcloud.errors import CloudError


class BusinessFailure(Exception):
    """A CMS answer with HTTP 200 and ``Success: false``; ``extra`` goes into the body as it is."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.extra = extra


def parameter_invalid(detail: str) -> CloudError:
    return CloudError("ParameterInvalid", f"Illegal parameters: {detail}", 400)


def resource_not_found(what: str) -> CloudError:
    return CloudError("ResourceNotFound", f"The specified resource is not found: {what}", 404)


def unknown_action(action: str) -> CloudError:
    return CloudError(
        "InvalidAction.NotFound", f"Specified api is not found, please check your url and method: {action}", 404
    )


def bad_pattern(detail: str) -> BusinessFailure:
    return BusinessFailure("400", f"Illegal event pattern: {detail}")
