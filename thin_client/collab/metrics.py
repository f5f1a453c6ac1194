"""``/metrics`` for a Prometheus scrape: each request is one call of api.metrics_prometheus.

Standard library only (``http.server``); the exposition itself is built in the database.
"""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from collab.client import Client

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

log = logging.getLogger("collab.metrics")


class MetricsServer(ThreadingHTTPServer):
    """Serves ``GET /metrics`` (the exposition) and ``GET /healthz`` from one client."""

    daemon_threads = True

    def __init__(self, client: Client, host: str = "127.0.0.1", port: int = 9187) -> None:
        self.client = client
        super().__init__((host, port), MetricsHandler)


class MetricsHandler(BaseHTTPRequestHandler):
    server: MetricsServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            try:
                body = self.server.client.metrics_prometheus()
            except Exception as exc:  # a scrape must get an answer, never a hang
                log.error("metrics scrape failed", extra={"error_reason": type(exc).__name__})
                self._send(503, f"metrics unavailable: {exc}\n")
                return
            self._send(200, body, CONTENT_TYPE)
        elif path == "/healthz":
            self._send(200, "ok\n")
        else:
            self._send(404, "not found: try /metrics\n")

    def _send(
        self, status: int, body: str, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


def serve(client: Client, host: str = "127.0.0.1", port: int = 9187) -> None:
    """Serve until interrupted."""
    server = MetricsServer(client, host, port)
    log.info("serving /metrics on http://%s:%s/metrics", host, server.server_address[1])
    try:
        server.serve_forever()
    finally:
        server.server_close()
