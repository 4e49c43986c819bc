"""The OpenAI-compatible HTTP backend against a small canned server on 127.0.0.1.

The server stands in for `vllm serve`: these tests are about the client (retries with backoff,
timeouts, bounded concurrency, loopback-only policy, payload shape), not about language.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vidfast.errors import ConfigError
from vidfast.llm.openai_http import OpenAIHTTPEngine, is_loopback
from vidfast.llm.prompts import load_prompt

ANSWER = '{"pred": "yes", "score": 4}'


class CannedServer(ThreadingHTTPServer):
    """Answers /v1/chat/completions; fails the first ``fail_first`` requests; optional delay."""

    daemon_threads = True

    def __init__(
        self, fail_first: int = 0, delay_s: float = 0.0, status: int = 503, answer: str = ANSWER
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail_first, self.delay_s, self.status, self.answer = fail_first, delay_s, status, answer
        self.lock = threading.Lock()
        self.count = self.in_flight = self.max_in_flight = 0
        self.bodies: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: CannedServer

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with srv.lock:
            srv.count += 1
            n = srv.count
            srv.bodies.append(body)
            srv.in_flight += 1
            srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
        try:
            time.sleep(srv.delay_s)
            if self.path != "/v1/chat/completions":
                return self._send(404, {"error": "not found"})
            if n <= srv.fail_first:
                return self._send(srv.status, {"error": "busy"})
            self._send(
                200,
                {
                    "choices": [{"message": {"role": "assistant", "content": srv.answer}}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 7},
                },
            )
        finally:
            with srv.lock:
                srv.in_flight -= 1

    def _send(self, status: int, doc: dict) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _serve(**kwargs) -> Iterator[CannedServer]:
    srv = CannedServer(**kwargs)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def server(request) -> Iterator[CannedServer]:
    yield from _serve(**getattr(request, "param", {}))


def _reqs(n: int):
    spec = load_prompt("judge_zero_shot")
    return [spec.request(key=str(i), question="q", answer="a", prediction="p") for i in range(n)]


def _engine(srv: CannedServer, **kw) -> OpenAIHTTPEngine:
    opts = {
        "base_url": srv.url,
        "model": "smollm2",
        "backoff_s": 0.01,
        "backoff_max_s": 0.05,
        "timeout_s": 5.0,
    }
    return OpenAIHTTPEngine(**{**opts, **kw})


def test_answers_are_parsed_and_payload_carries_schema(server):
    results = _engine(server).generate(_reqs(3))
    assert all(r.ok and r.data == {"pred": "yes", "score": 4} for r in results)
    assert [r.tokens_in for r in results] == [20] * 3 and results[0].tokens_out == 7
    body = server.bodies[0]
    assert body["model"] == "smollm2" and body["max_tokens"] == 24 and body["messages"][0]["role"] == "system"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["pred", "score"]


@pytest.mark.parametrize("server", [{"fail_first": 3}], indirect=True)
def test_server_errors_are_retried_with_backoff(server):
    engine = _engine(server, concurrency=1, http_retries=4)
    results = engine.generate(_reqs(2))
    assert all(r.ok and r.attempts == 1 for r in results)  # HTTP retries are below the validation retries
    assert server.count == 5


@pytest.mark.parametrize("server", [{"fail_first": 100, "status": 500}], indirect=True)
def test_persistent_errors_become_recorded_failures(server):
    engine = _engine(server, http_retries=2, max_retries=1)
    (res,) = engine.generate(_reqs(1))
    assert not res.ok and res.attempts == 2 and "500" in res.error
    assert server.count == 6  # (1 + 2 HTTP retries) x (1 + 1 validation retry), then it stops
    assert engine.stats["judge_zero_shot"].failed == 1


@pytest.mark.parametrize("server", [{"fail_first": 100, "status": 400}], indirect=True)
def test_client_errors_are_not_retried(server):
    (res,) = _engine(server, http_retries=3, max_retries=0).generate(_reqs(1))
    assert not res.ok and "400" in res.error and server.count == 1


@pytest.mark.parametrize("server", [{"delay_s": 1.0}], indirect=True)
def test_timeouts_are_enforced(server):
    t0 = time.perf_counter()
    (res,) = _engine(server, timeout_s=0.2, http_retries=1, max_retries=0).generate(_reqs(1))
    assert not res.ok and "Timeout" in res.error
    assert time.perf_counter() - t0 < 0.9 * 2


@pytest.mark.parametrize("server", [{"delay_s": 0.15}], indirect=True)
def test_concurrency_is_bounded_and_used(server):
    t0 = time.perf_counter()
    results = _engine(server, concurrency=4).generate(_reqs(12))
    elapsed = time.perf_counter() - t0
    assert all(r.ok for r in results)
    assert server.max_in_flight == 4
    assert elapsed < 12 * 0.15 * 0.6  # far quicker than one at a time


@pytest.mark.parametrize("server", [{"answer": "Sure, the answer is yes."}], indirect=True)
def test_invalid_content_goes_through_validation_retries(server):
    (res,) = _engine(server, max_retries=2).generate(_reqs(1))
    assert not res.ok and res.attempts == 3 and res.text == "Sure, the answer is yes." and server.count == 3
    temps = [b["temperature"] for b in server.bodies]
    assert temps[0] == 0.0 and temps[1] > 0.0 and temps[2] > temps[1]


def test_unreachable_server_is_a_recorded_failure():
    engine = OpenAIHTTPEngine(base_url="http://127.0.0.1:9/v1", http_retries=1, backoff_s=0.01, max_retries=0)
    (res,) = engine.generate(_reqs(1))
    assert not res.ok and res.error.startswith("backend error: ConnectError")


def test_remote_hosts_need_explicit_permission(monkeypatch):
    monkeypatch.delenv("VIDFAST_LLM_ALLOW_REMOTE", raising=False)
    with pytest.raises(ConfigError, match="not on this machine"):
        OpenAIHTTPEngine(base_url="http://10.1.2.3:8000/v1")
    with pytest.raises(ConfigError):
        OpenAIHTTPEngine(base_url="https://api.example.com/v1")
    assert OpenAIHTTPEngine(base_url="http://10.1.2.3:8000/v1", allow_remote=True).base_url.startswith(
        "http://10."
    )
    monkeypatch.setenv("VIDFAST_LLM_ALLOW_REMOTE", "1")
    OpenAIHTTPEngine(base_url="http://gpu-box:8000/v1")
    assert (
        is_loopback("http://localhost:8000")
        and is_loopback("http://[::1]:8000")
        and is_loopback("http://127.0.0.2")
    )


def test_works_inside_a_running_event_loop(server):
    import asyncio

    async def main():
        return _engine(server).generate(_reqs(2))

    assert all(r.ok for r in asyncio.run(main()))
