"""LLM routing from Python (``docs/routing.md``): rank in the database, call, fall back.

``RouterSelectClient(client).rank(service, request)`` is one call of ``api.rank_routes`` (one
round trip, one snapshot). ``query_routed(service, request, send)`` ranks, calls the first
route with ``send``, records every outcome against the snapshot (``api.record_route_outcome``,
which decides cooldowns and whether to fall back) and falls down the ranking; when a whole
ranking failed it ranks again (``max_retries``), sleeping only when no healthy route is left
(Retry-After up to 60 s, else exponential backoff). The router is the only retry loop: the
provider client is built with ``max_retries=0``.

``OpenAICompatible`` is a ``send`` for OpenAI-compatible endpoints (OpenAI, OpenRouter, most
providers, local servers) on the ``openai`` SDK, its key read from the vault per call.
``FakeOpenAIServer`` is such an endpoint on a local port, for demos and tests: a fixed latency
and error rate, prices reported in the route only.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from collab.client import Client
from collab.errors import CollabError
from collab.vault import KeyVaultClient

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_FALLBACKS = 5
RETRY_AFTER_CAP_SECONDS = 60.0


class ProviderError(CollabError):
    """A failed provider call: HTTP ``status`` (0: no response, a connection error; 408: a
    timeout) and the provider's ``Retry-After`` in seconds when it sent one."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RoutingFailed(CollabError):
    """No route answered: ``attempts`` lists every call made (route, status, error)."""

    def __init__(self, message: str, attempts: list[Attempt]) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass
class CallResult:
    """What ``send`` returns: the answer and what it cost."""

    value: Any
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None


@dataclass
class Attempt:
    route: str
    snapshot_id: int
    status: int
    latency_ms: float
    error: str | None = None
    cooled: bool = False


@dataclass
class Routed:
    """The answer of ``query_routed``: the value, the route that gave it, every attempt."""

    value: Any
    route: str
    snapshot_id: int
    attempts: list[Attempt] = field(default_factory=list)


Send = Callable[[Mapping[str, Any], Mapping[str, Any]], CallResult]


def ranked(snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ranked candidates of a snapshot, best first (excluded ones left out)."""
    return [dict(c) for c in snapshot["candidates"] if c.get("rank") is not None]


class RouterSelectClient:
    def __init__(
        self,
        client: Client,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_fallbacks: int = DEFAULT_MAX_FALLBACKS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.max_retries = max_retries
        self.max_fallbacks = max_fallbacks
        self.sleep = sleep

    def rank(self, service: str, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``api.rank_routes``: the snapshot written, candidates in rank order."""
        return self.client.rank_routes(service, request)

    def snapshot(self, service: str) -> dict[str, Any]:
        return self.client.routing_snapshot(service)

    def query_routed(self, service: str, request: Mapping[str, Any], send: Send) -> Routed:
        """Rank, call, record, fall back; raises ``RoutingFailed`` when nothing answered, or at
        once on a client error (400, 413, 422: the request itself is wrong). A fallback skips
        the routes the last failure's outcome names as cooling: another caller may have cooled
        one of them since the snapshot was ranked."""
        routing_request = {k: v for k, v in request.items() if k != "messages"}
        attempts: list[Attempt] = []
        waits: list[float] = []
        for round_ in range(self.max_retries + 1):
            if round_ and waits:
                self.sleep(min(max(waits), RETRY_AFTER_CAP_SECONDS))
            waits = []
            snapshot = self.rank(service, routing_request)
            candidates = ranked(snapshot)[: self.max_fallbacks + 1]
            if not candidates:
                waits.append(min(2.0**round_ * 0.5, RETRY_AFTER_CAP_SECONDS))
                continue
            cooling: set[str] = set()
            for candidate in candidates:
                if candidate["route"] in cooling:
                    continue
                started = time.perf_counter()
                try:
                    result = send(candidate, request)
                except ProviderError as exc:
                    ms = (time.perf_counter() - started) * 1000
                    outcome = self.client.record_route_outcome(
                        int(snapshot["snapshot_id"]),
                        candidate["route"],
                        exc.status,
                        latency_ms=ms,
                        error=str(exc)[:2000],
                        retry_after=exc.retry_after,
                    )
                    attempts.append(
                        Attempt(
                            candidate["route"],
                            int(snapshot["snapshot_id"]),
                            exc.status,
                            ms,
                            str(exc),
                            bool(outcome["cooled"]),
                        )
                    )
                    if not outcome["fallback"]:
                        raise RoutingFailed(
                            f"route {candidate['route']} refused the request ({exc.status}): {exc}",
                            attempts,
                        ) from exc
                    waits.append(exc.retry_after if exc.retry_after else 2.0**round_ * 0.5)
                    cooling = set(outcome.get("cooling") or ())
                    continue
                ms = (time.perf_counter() - started) * 1000
                self.client.record_route_outcome(
                    int(snapshot["snapshot_id"]),
                    candidate["route"],
                    200,
                    latency_ms=ms,
                    input_tokens=result.input_tokens,
                    output_tokens=result.output_tokens,
                    cost=result.cost,
                )
                attempts.append(Attempt(candidate["route"], int(snapshot["snapshot_id"]), 200, ms))
                return Routed(
                    result.value, candidate["route"], int(snapshot["snapshot_id"]), attempts
                )
        raise RoutingFailed(f"no route of {service} answered ({len(attempts)} attempts)", attempts)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class OpenAICompatible:
    """A ``send`` for OpenAI-compatible chat completions: the route's ``base_url`` and
    ``model``, the key read from the vault (``secret_name``) at each call; a route without a
    secret (a local server) sends a placeholder key. Request keys: ``messages``,
    ``max_output_tokens``."""

    def __init__(self, vault: KeyVaultClient | None = None, timeout: float = 60.0) -> None:
        self.vault = vault
        self.timeout = timeout
        self._clients: dict[tuple[str | None, str], Any] = {}  # one SDK client per endpoint, key

    def close(self) -> None:
        for sdk in self._clients.values():
            sdk.close()
        self._clients.clear()

    def __call__(self, candidate: Mapping[str, Any], request: Mapping[str, Any]) -> CallResult:
        import openai

        secret = candidate.get("secret_name")
        if secret and self.vault is None:
            raise ProviderError(401, f"route {candidate['route']} needs secret {secret}: no vault")
        key = self.vault.get(str(secret)) if secret and self.vault else "no-key"
        base_url = candidate.get("base_url")
        sdk = self._clients.get((base_url, key))
        if sdk is None:
            sdk = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=self.timeout)
            self._clients[(base_url, key)] = sdk
        try:
            answer = sdk.chat.completions.create(
                model=str(candidate["model"]),
                messages=list(request.get("messages", [])),
                max_tokens=request.get("max_output_tokens"),
            )
        except openai.APIStatusError as exc:
            raise ProviderError(
                exc.status_code, str(exc)[:500], _retry_after(exc.response.headers)
            ) from exc
        except openai.APITimeoutError as exc:
            raise ProviderError(408, f"timeout after {self.timeout} s") from exc
        except openai.APIConnectionError as exc:
            raise ProviderError(0, f"connection error: {exc}") from exc
        usage = answer.usage
        return CallResult(
            answer.choices[0].message.content if answer.choices else None,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )


class FakeOpenAIServer:
    """An OpenAI-compatible ``/v1/chat/completions`` on 127.0.0.1 (a free port) answering
    after ``latency_ms`` (changeable while it runs), failing with ``error_status`` at
    ``error_rate`` (seeded), counting its calls. For ``make demo`` and the routing tests."""

    def __init__(
        self,
        name: str,
        latency_ms: float = 0,
        error_rate: float = 0.0,
        error_status: int = 503,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.error_status = error_status
        self.calls = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with outer._lock:
                    outer.calls += 1
                    fail = outer._random.random() < outer.error_rate
                    delay = outer.latency_ms / 1000
                time.sleep(delay)
                if fail:
                    payload = {"error": {"message": f"{outer.name} failed", "type": "server_error"}}
                    self._send(outer.error_status, payload)
                    return
                text = f"{outer.name} answers {len(body.get('messages', []))} messages"
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{outer.calls}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", outer.name),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text},
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def route_table(snapshot: Mapping[str, Any]) -> Sequence[tuple[str, ...]]:
    """Rows of a snapshot for display: rank, route, provider/model, cost, latency, error
    rate, cooldown, excluded reason."""
    rows = []
    for c in snapshot["candidates"]:
        rows.append(
            (
                str(c.get("rank") or "-"),
                str(c["route"]),
                f"{c['provider']}/{c['model']}",
                f"{float(c.get('cost_estimate') or 0):.6f}",
                f"{float(c.get('latency_ms') or 0):.1f}",
                f"{float(c.get('error_rate') or 0):.2f}",
                str(c.get("cooldown_until") or ""),
                str(c.get("excluded_reason") or ""),
            )
        )
    return rows


def demo_routing(client: Client, dsn: str, calls: int = 20) -> dict[str, Any]:
    """``make demo``'s routing part: routes of service ``chat`` (a real OpenAI-compatible
    provider when ``COLLAB_DEMO_LLM_BASE_URL``, ``COLLAB_DEMO_LLM_MODEL`` and
    ``COLLAB_DEMO_LLM_API_KEY`` are set, its key stored in the vault; otherwise two fake
    providers on local ports, one slow and one flaky), ``calls`` routed calls, and the latest
    snapshot. ``client`` must act as the service role; ``dsn`` is a superuser URL of a plain
    Postgres (the master key is generated there when missing)."""
    import os

    from collab.vault import install_master_key

    install_master_key(dsn)
    vault = KeyVaultClient(client)
    servers: list[FakeOpenAIServer] = []
    base_url = os.environ.get("COLLAB_DEMO_LLM_BASE_URL")
    if base_url:
        vault.put("demo-llm-key", os.environ.get("COLLAB_DEMO_LLM_API_KEY", "none"))
        client.put_route(
            "chat",
            "configured",
            "configured",
            os.environ.get("COLLAB_DEMO_LLM_MODEL", "gpt-4o-mini"),
            base_url=base_url,
            secret_name="demo-llm-key",
        )
    else:
        vault.put("demo-fake-key", "sk-fake-demo")
        servers = [
            FakeOpenAIServer("fast-flaky", latency_ms=5, error_rate=0.3, seed=7),
            FakeOpenAIServer("steady", latency_ms=15, seed=8),
        ]
        for price, server in enumerate(servers, start=1):
            client.put_route(
                "chat",
                server.name,
                "fake",
                server.name,
                base_url=server.base_url,
                input_price=price,
                output_price=2 * price,
                secret_name="demo-fake-key",
            )
    router = RouterSelectClient(client, sleep=lambda s: None)
    send = OpenAICompatible(vault, timeout=30)
    request = {"messages": [{"role": "user", "content": "hello"}], "input_tokens": 5}
    try:
        for _ in range(calls):
            with contextlib.suppress(RoutingFailed):
                router.query_routed("chat", request, send)
        return router.snapshot("chat")
    finally:
        send.close()
        for server in servers:
            server.close()
