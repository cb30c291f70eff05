"""Support for test_security.py: the test credentials, every form a secret can take in a log line, and taps on
every log output of the process (the root logger at DEBUG, and ecs-events' own JSON lines)."""

from __future__ import annotations

import base64
import io
import json
import logging
import urllib.parse
from collections.abc import Iterable
from types import TracebackType

from ecs_events import logs

# Distinctive values with the characters that change under URL encoding ('/', '+', '='), as real ones have.
KEY_ID = "LTAI5tSecurityTestKey01"
KEY_SECRET = "Qx7/Secret+Key=Value9Zr2Lm8Np4Tw"
WRONG_SECRET = "Wr0ng/Secret+Not=Theirs5Kd8Jh2Pq"
STS_TOKEN = "CAIS8gF1q6Ft5B2yfSjIr5bSD+/2nLpXwL5z+Kk/Zr3y4Tt0Ur9+Sg0KzY7/Hq1Wm3Ve5Xc=="


def secret_forms(value: str) -> set[str]:
    """The secret as a log line could carry it: raw, URL-encoded (once: a query; twice: a string-to-sign),
    JSON-escaped, and base64 at each of the three byte alignments (the part that does not depend on neighbours)."""
    once = urllib.parse.quote(value, safe="")
    forms = {value, once, urllib.parse.quote_plus(value), urllib.parse.quote(once, safe=""), json.dumps(value)[1:-1]}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + value.encode()).decode()
        forms.add(encoded[4 if shift else 0 : -4])
    return {form for form in forms if len(form) >= 8}


def leaks(secrets: dict[str, str], lines: Iterable[str]) -> list[tuple[str, str]]:
    """(which secret, the start of the line) for every line holding any form of any secret."""
    found = []
    forms = {name: secret_forms(value) for name, value in secrets.items()}
    for line in lines:
        for name, variants in forms.items():
            if any(form in line for form in variants):
                found.append((name, line[:300]))
    return found


class LogTaps:
    """Everything logged while active: ``ecs_events.logs.configure("DEBUG")`` JSON lines into a buffer, and the
    root logger at DEBUG with a plain formatter (third-party loggers: the SDKs, urllib3). Restores both on exit."""

    def __init__(self) -> None:
        self.json_stream = io.StringIO()
        self.root_stream = io.StringIO()
        self.root_handler = logging.StreamHandler(self.root_stream)
        self.root_handler.setLevel(logging.DEBUG)
        self.root_handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self._ours = logging.getLogger(logs.ROOT)
        self._saved = (self._ours.level, self._ours.propagate, list(self._ours.handlers), logging.getLogger().level)

    def __enter__(self) -> LogTaps:
        logs.configure("DEBUG", stream=self.json_stream)
        root = logging.getLogger()
        root.addHandler(self.root_handler)
        root.setLevel(logging.DEBUG)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        level, propagate, handlers, root_level = self._saved
        self._ours.handlers[:] = handlers
        self._ours.setLevel(level)
        self._ours.propagate = propagate
        root = logging.getLogger()
        root.removeHandler(self.root_handler)
        root.setLevel(root_level)

    @property
    def json_records(self) -> list[str]:
        return self.json_stream.getvalue().splitlines()

    @property
    def root_records(self) -> list[str]:
        return self.root_stream.getvalue().splitlines()

    def lines(self) -> list[str]:
        return self.json_records + self.root_records
