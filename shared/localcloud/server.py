"""The threaded HTTP server: one port for every service.

RPC calls (ECS, SLB, CMS: ``Action=`` in a V1-signed query string, or ``x-acs-action`` with a V3
``Authorization: ACS3-HMAC-SHA256 ...`` header) go to ``RpcDispatcher``; MNS REST calls
(``/queues``, ``/topics``, ``Authorization: MNS ...``) go to the MNS ``HttpService``; ``/_localcloud/...`` goes to
the control API (``localcloud.control``). The server must be threaded: the SDKs keep pooled keep-alive connections
that stall a single-threaded server.

Connection hygiene, as a real front end would do it: a ``Content-Length`` that is not a plain decimal is 400, a
body over ``MAX_BODY`` is 413 (unread), ``Transfer-Encoding`` is 411, a body that ends before its length is 400
and never executed; each of these closes the connection. A connection idle for ``idle_timeout`` seconds (waiting
for a request line, a header or body bytes) is closed. Clients that vanish mid-request are logged at debug only.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from localcloud.errors import ConnectionResetFault
from localcloud.rpc import RpcDispatcher

log = logging.getLogger("localcloud")

# Larger than any request the fake serves: an MNS batch send is at most 64 KB of bodies (plus XML), an RPC call's
# parameters a few KB. Anything bigger is refused with 413 before it is read.
MAX_BODY = 1024 * 1024 + 64 * 1024
DEFAULT_IDLE_TIMEOUT = 30.0
CONTROL_PREFIX = "/_localcloud"
_DECIMAL = re.compile(r"[0-9]{1,16}")


class HttpService(Protocol):
    """A REST-style service (MNS, the control API) that shapes its own wire."""

    def handle_http(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """``target`` is the raw request target (path and query, undecoded); headers have lowercased names.
        Raise ConnectionResetFault to drop the connection."""
        ...


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: LocalCloudHTTPServer

    timeout = DEFAULT_IDLE_TIMEOUT  # the server's idle_timeout replaces it in setup()

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise _BadRequest(411, "Transfer-Encoding is not supported; send a Content-Length.")
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return b""
        raw = values[0].strip()
        if len(set(values)) != 1 or not _DECIMAL.fullmatch(raw):
            raise _BadRequest(400, f"Invalid Content-Length: {values[0][:40]!r}.")
        length = int(raw)
        if length > MAX_BODY:
            raise _BadRequest(413, f"Request body of {length} bytes is over the limit of {MAX_BODY} bytes.")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise _BadRequest(400, f"Request body ended after {len(body)} of {length} bytes.")
        return body

    def _dispatch(self) -> None:
        try:
            body = self._body()
        except _BadRequest as bad:
            self._refuse(bad)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        path, _, query = self.path.partition("?")
        server = self.server
        try:
            if server.control is not None and (path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")):
                status, out_headers, payload = server.control.handle_http(self.command, self.path, headers, body)
            elif server.mns is not None and (
                path.startswith(("/queues", "/topics")) or headers.get("authorization", "").startswith("MNS ")
            ):
                status, out_headers, payload = server.mns.handle_http(self.command, self.path, headers, body)
            else:
                status, payload = server.rpc.handle(
                    self.command,
                    query,
                    body,
                    headers.get("content-type", ""),
                    headers=list(self.headers.items()),
                    path=path,
                )
                out_headers = {"Content-Type": "application/json;charset=utf-8"}
        except ConnectionResetFault:
            self.close_connection = True
            self.connection.close()
            return
        self._answer(status, out_headers, payload)

    def _refuse(self, bad: _BadRequest) -> None:
        """Answer a request that cannot be read safely, then close: what follows on the stream is not a request."""
        log.debug("%s - refused: %s", self.address_string(), bad.message)
        self.close_connection = True
        payload = json.dumps({"Code": "BadRequest", "Message": bad.message}).encode()
        self._answer(bad.status, {"Content-Type": "application/json;charset=utf-8", "Connection": "close"}, payload)
        self._linger()

    def _linger(self) -> None:
        """Half-close and drain what the client is still sending (bounded), so closing does not reset the
        connection before the client reads the answer."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1.0)
            for _ in range(64):
                if not self.connection.recv(4096):
                    break
        except OSError:
            pass

    def _answer(self, status: int, out_headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in out_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch


class LocalCloudHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        rpc: RpcDispatcher,
        mns: HttpService | None,
        control: HttpService | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        super().__init__(address, _Handler)
        self.rpc = rpc
        self.mns = mns
        self.control = control
        self.idle_timeout = idle_timeout
        self._busy = threading.Condition()
        self._connections = 0

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._busy:
            self._connections += 1
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._busy:
                self._connections -= 1
                self._busy.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no connection is open (every handler thread finished); False if ``timeout`` passed first."""
        with self._busy:
            return self._busy.wait_for(lambda: self._connections == 0, timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (reset, broken pipe, timeout) is routine: debug only. Anything else is a bug."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            log.debug("%s - connection lost: %r", client_address, error)
        else:
            log.error("localcloud: request from %s failed", client_address, exc_info=True)


class ServerThread:
    """Runs a LocalCloudHTTPServer in a background thread (the pytest fixture and ``make demo`` use it)."""

    def __init__(self, server: LocalCloudHTTPServer) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, name="localcloud-http", daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[0], self.server.server_address[1]
        return f"{host if isinstance(host, str) else host.decode()}:{port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
