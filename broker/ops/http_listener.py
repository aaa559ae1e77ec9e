"""The broker's operations listener: plain HTTP with ``/metrics``, ``/healthz`` and ``/readyz``.

Plain HTTP on a port of its own, not on the gRPC port: Prometheus, load balancers and Kubernetes
probes call it without a client certificate, while the gRPC port admits only certificates the
authority issued. It serves counts and check results only, no data, and binds to the loopback
interface unless the operator names another address (``--metrics-listen``).

* ``GET /healthz`` — 200 while the process serves (liveness);
* ``GET /readyz`` — 200 when every readiness check passes, else 503; the body lists each check;
* ``GET /metrics`` — the Prometheus text format.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from tongdao.broker.ops.readiness import Check

DEFAULT_METRICS_LISTEN = "127.0.0.1:9464"


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (IPv6 in brackets) as (host, port).

    Raises:
        ValueError: not ``host:port`` with a port from 0 to 65535.
    """
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not HOST:PORT")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


class OpsHttpServer:
    """Serves the three paths on ``address`` from a daemon thread."""

    def __init__(
        self,
        address: str,
        registry: CollectorRegistry,
        ready: Callable[[], list[Check]],
    ) -> None:
        host, port = split_address(address)

        class Handler(BaseHTTPRequestHandler):
            server_version = "tongdao-broker"
            sys_version = ""

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    self._send(200, "application/json", b'{"status":"alive"}')
                elif path == "/readyz":
                    checks = ready()
                    ok = all(c.ok for c in checks)
                    body = {
                        "ready": ok,
                        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
                    }
                    data = json.dumps(body, ensure_ascii=False).encode()
                    self._send(200 if ok else 503, "application/json", data)
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
                else:
                    self._send(404, "text/plain", b"not found: try /healthz, /readyz or /metrics\n")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None  # scrapes every few seconds would drown the call log

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise RuntimeError(
                f"cannot listen on {address} for metrics and health: {exc}"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="tongdao-ops-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
