"""The threaded HTTP server: one port for every service.

RPC calls (ECS, SLB: ``Action=`` in a signed query string) go to ``RpcDispatcher``; MNS REST calls
(``/queues``, ``/topics``, ``Authorization: MNS ...``) go to the MNS ``HttpService``. The server must be
threaded: the SDKs keep pooled keep-alive connections that stall a single-threaded server.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from localcloud.errors import ConnectionResetFault
from localcloud.rpc import RpcDispatcher

log = logging.getLogger("localcloud")


class HttpService(Protocol):
    """A REST-style service (MNS) that shapes its own wire."""

    def handle_http(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """``target`` is the raw request target (path and query, undecoded); headers have lowercased names.
        Raise ConnectionResetFault to drop the connection."""
        ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: LocalCloudHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        body = self._body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        path, _, query = self.path.partition("?")
        try:
            if self.server.mns is not None and (
                path.startswith(("/queues", "/topics")) or headers.get("authorization", "").startswith("MNS ")
            ):
                status, out_headers, payload = self.server.mns.handle_http(self.command, self.path, headers, body)
            else:
                status, payload = self.server.rpc.handle(self.command, query, body, headers.get("content-type", ""))
                out_headers = {"Content-Type": "application/json;charset=utf-8"}
        except ConnectionResetFault:
            self.close_connection = True
            self.connection.close()
            return
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

    def __init__(self, address: tuple[str, int], rpc: RpcDispatcher, mns: HttpService | None) -> None:
        super().__init__(address, _Handler)
        self.rpc = rpc
        self.mns = mns


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
