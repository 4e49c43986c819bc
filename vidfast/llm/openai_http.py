"""LLM backend that talks to a local OpenAI-compatible server (e.g. ``vllm serve``) over HTTP.

Requests of one attempt run concurrently (bounded by ``concurrency``) on one ``httpx.AsyncClient``;
transport errors, timeouts, 429 and 5xx answers are retried with exponential backoff by tenacity.
Only loopback hosts are accepted unless ``allow_remote`` is set: vidfast never sends data off the
machine unless the user says so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
from typing import Any
from urllib.parse import urlparse

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from vidfast import envs
from vidfast.errors import ConfigError
from vidfast.llm.base import LLMEngine
from vidfast.llm.types import Completion, LLMRequest

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (localhost or a loopback IP literal)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in RETRY_STATUS
    return isinstance(exc, httpx.TransportError)  # connect/read timeouts, refused, reset


class OpenAIHTTPEngine(LLMEngine):
    """Chat Completions client with bounded concurrency, timeouts and backoff retries."""

    name = "openai"

    def __init__(
        self,
        model: str = "default",
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
        timeout_s: float = 120.0,
        http_retries: int = 4,
        backoff_s: float = 0.5,
        backoff_max_s: float = 20.0,
        allow_remote: bool | None = None,
        structured: bool = True,
        max_retries: int = 2,
        retry_temperature_step: float = 0.2,
    ) -> None:
        super().__init__(max_retries=max_retries, retry_temperature_step=retry_temperature_step)
        self.base_url = (base_url or envs.get("VIDFAST_LLM_ENDPOINT")).rstrip("/")
        allow = envs.flag("VIDFAST_LLM_ALLOW_REMOTE") if allow_remote is None else allow_remote
        if not allow and not is_loopback(self.base_url):
            raise ConfigError(
                f"LLM endpoint {self.base_url} is not on this machine; vidfast only talks to "
                "loopback servers unless you allow it (allow_remote=True or VIDFAST_LLM_ALLOW_REMOTE=1)"
            )
        self.model, self.api_key, self.structured = model, api_key, structured
        self.concurrency, self.timeout_s = concurrency, timeout_s
        self.http_retries, self.backoff_s, self.backoff_max_s = http_retries, backoff_s, backoff_max_s

    def payload(self, request: LLMRequest) -> dict[str, Any]:
        """The Chat Completions JSON body for one request (schema sent as ``response_format``)."""
        s = request.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "messages": list(request.messages),
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
        }
        if s.seed is not None:
            body["seed"] = s.seed
        if s.frequency_penalty:
            body["frequency_penalty"] = s.frequency_penalty
        if request.schema and self.structured:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.task, "schema": request.schema},
            }
        return body

    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._complete_all(requests))
        # Called from inside an event loop (notebook, async app): run ours on a worker thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self._complete_all(requests)).result()

    async def _complete_all(self, requests: list[LLMRequest]) -> list[Completion]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.concurrency)
        gate = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=headers, limits=limits, timeout=httpx.Timeout(self.timeout_s)
        ) as client:
            return list(await asyncio.gather(*(self._one(client, gate, r) for r in requests)))

    async def _one(
        self, client: httpx.AsyncClient, gate: asyncio.Semaphore, request: LLMRequest
    ) -> Completion:
        async with gate:
            try:
                return _parse_response(await self._post(client, self.payload(request)))
            except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
                return Completion("", error=f"{type(exc).__name__}: {exc}")

    async def _post(self, client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.http_retries + 1),
            reraise=True,
            wait=wait_exponential(multiplier=self.backoff_s, max=self.backoff_max_s),
            retry=retry_if_exception(_retryable),
        )
        async for attempt in retrying:
            with attempt:
                resp = await client.post("/chat/completions", json=body)
                resp.raise_for_status()
                return resp.json()
        raise AssertionError("unreachable: tenacity re-raises the last error")


def _parse_response(doc: dict[str, Any]) -> Completion:
    text = doc["choices"][0]["message"].get("content") or ""
    usage = doc.get("usage") or {}
    return Completion(
        text=text,
        tokens_in=int(usage.get("prompt_tokens", 0)),
        tokens_out=int(usage.get("completion_tokens", 0)),
    )
