"""The gateway: one async entry point for every model call, with retries, limits and the cache."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import time
from datetime import datetime, timezone
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import harness  # noqa: F401  (offline litellm flag first)
import litellm
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from harness.cache import CacheWriteError, ResponseCache, request_key
from harness.errors import CacheMissError, GatewayError, HarnessError
from harness.pool import Pool, PoolModel

logger = logging.getLogger(__name__)

litellm.suppress_debug_info = True
litellm.telemetry = False

# Generation parameters a task may set; anything else in a request is ignored
# so that the cache key depends only on what shapes the answer.
GENERATION_PARAMS = ("temperature", "max_tokens", "top_p", "stop", "seed", "frequency_penalty", "presence_penalty")


class MalformedResponseError(Exception):
    """The server answered, but the answer cannot be used (no choices, no text)."""


RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    litellm.RateLimitError,
    litellm.InternalServerError,
    litellm.ServiceUnavailableError,
    litellm.BadGatewayError,
    litellm.APIConnectionError,
    litellm.Timeout,
    litellm.APIError,
    MalformedResponseError,
    asyncio.TimeoutError,
)
# Subclasses of the errors above that no retry can fix.
FINAL_ERRORS: tuple[type[BaseException], ...] = (
    litellm.AuthenticationError,
    litellm.BadRequestError,
    litellm.NotFoundError,
    litellm.PermissionDeniedError,
    litellm.ContextWindowExceededError,
)


# Client errors that a later attempt may not get: timeout, conflict, too early, rate limit.
RETRYABLE_CLIENT_STATUS = frozenset({408, 409, 425, 429})


def is_retryable(error: BaseException) -> bool:
    """Return True when a failed call may succeed if sent again.

    A 4xx status other than those in ``RETRYABLE_CLIENT_STATUS`` is final even
    when litellm 1.110.2 wraps it in its generic ``APIError`` (it does so for 403).
    """
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUS:
        return False
    return isinstance(error, RETRYABLE_ERRORS) and not isinstance(error, FINAL_ERRORS)


def retry_after_seconds(error: BaseException) -> float | None:
    """Return the server's requested delay in seconds before the next attempt, when the error carries one.

    Reads ``retry-after-ms`` (milliseconds, sent by OpenAI) first, then
    ``Retry-After`` as seconds or as an HTTP date. A missing, invalid or
    past value gives None, so the caller falls back to its own backoff.
    """
    headers: Any = getattr(error, "headers", None)
    response = getattr(error, "response", None)
    if not headers and response is not None:
        headers = getattr(response, "headers", None)
    if not headers:
        return None
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    milliseconds = _parse_float(lowered.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000.0
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _parse_float(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _parse_float(value: str | None) -> float | None:
    """Return ``value`` as a finite number >= 0, or None when it is not one."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return max(0.0, number)


# Environment variables that override the gateway's retry defaults; tests and
# the soak benchmark use them to keep backoff short in a full run.
RETRY_ENV = {
    "max_attempts": ("HARNESS_MAX_ATTEMPTS", 6),
    "backoff_initial": ("HARNESS_BACKOFF_INITIAL", 1.0),
    "backoff_max": ("HARNESS_BACKOFF_MAX", 60.0),
}


def _retry_setting(name: str, given: float | None) -> float:
    """Return a retry setting: the argument when given, else its environment variable, else the default."""
    if given is not None:
        return given
    variable, default = RETRY_ENV[name]
    raw = os.environ.get(variable)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if name == "max_attempts" else float(raw)
    except ValueError:
        raise HarnessError(
            f"{variable}={raw!r} is invalid; set it to a {'whole ' if name == 'max_attempts' else ''}number "
            f"or unset it (default {default})"
        ) from None
    return value


@dataclass
class GatewayResult:
    """The answer of one model call, fresh or from the cache.

    ``cost`` is in US dollars, priced as tokens times the pool's declared
    price (or LiteLLM's price list when the pool declares none); None when
    the cost is unknown.
    """

    model_id: str
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    cached: bool
    latency_s: float
    attempts: int = 1
    cache_key: str = ""

    def to_payload(self) -> dict[str, Any]:
        payload = asdict(self)
        for transient in ("cached", "attempts", "cache_key"):
            payload.pop(transient)
        return payload


@dataclass
class GatewayStats:
    """Counts and spend of this process's gateway, reported at the end of a run."""

    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    new_cost: float = 0.0
    cached_cost: float = 0.0
    per_model_calls: dict[str, int] = field(default_factory=dict)


def flatten_messages(messages: list[dict[str, Any]]) -> str:
    """Render chat messages as one completion prompt, for base models with no chat template."""
    parts = []
    for message in messages:
        content = message.get("content") or ""
        if isinstance(content, list):
            content = "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
        parts.append(str(content).strip())
    # A blank line before "Answer:" makes Gemma-3-270M (base) start with a
    # newline, which the stop sequence then cuts to an empty answer.
    return "\n\n".join(parts) + "\nAnswer:"


class Gateway:
    """Sends chat requests to pool models through LiteLLM, once per distinct request.

    Parameters
    ----------
    pool : Pool
        The candidate models.
    cache : ResponseCache
        Where answers are stored and replayed from.
    max_attempts : int, optional
        Attempts per call, the first included, before the call fails
        (default: ``HARNESS_MAX_ATTEMPTS`` or 6).
    backoff_initial : float, optional
        Seconds of the first exponential backoff step, before jitter
        (default: ``HARNESS_BACKOFF_INITIAL`` or 1).
    backoff_max : float, optional
        Upper bound in seconds of one wait between attempts, also for a
        longer ``Retry-After`` (default: ``HARNESS_BACKOFF_MAX`` or 60).
    before_call : callable, optional
        Called with the model before the first real (non-cached) call to it;
        the runner uses it to start the local model server only when needed.
    """

    def __init__(
        self,
        pool: Pool,
        cache: ResponseCache,
        *,
        max_attempts: int | None = None,
        backoff_initial: float | None = None,
        backoff_max: float | None = None,
        before_call: Callable[[PoolModel], None] | None = None,
    ) -> None:
        self.max_attempts = int(_retry_setting("max_attempts", max_attempts))
        self.backoff_initial = float(_retry_setting("backoff_initial", backoff_initial))
        self.backoff_max = float(_retry_setting("backoff_max", backoff_max))
        if self.max_attempts < 1:
            raise HarnessError(f"max_attempts must be >= 1, got {self.max_attempts}; set HARNESS_MAX_ATTEMPTS to 1 or more")
        if self.backoff_initial < 0 or self.backoff_max < 0:
            raise HarnessError(
                f"backoff times must be >= 0 seconds, got initial {self.backoff_initial} and max {self.backoff_max}; "
                "fix HARNESS_BACKOFF_INITIAL or HARNESS_BACKOFF_MAX"
            )
        self.pool = pool
        self.cache = cache
        self.before_call = before_call
        self.stats = GatewayStats()
        # Semaphores belong to one event loop; inspect-ai and the server may
        # each run their own, so keep one set per loop.
        self._semaphores: dict[tuple[int, str], asyncio.Semaphore] = {}
        self._inflight: dict[tuple[int, str], asyncio.Future] = {}
        # Set after the first failed cache write: later paid calls are refused,
        # because their answers could not be kept and a rerun would pay again.
        self.cache_write_error: str | None = None

    def preflight(self, model_ids: list[str] | None = None) -> None:
        """Check what can be checked before paid work: every model that may be called has its API key.

        Replay mode calls no model, so it needs no key. The cache folder is
        checked when the cache opens.

        Raises
        ------
        HarnessError
            Naming each missing environment variable and the models that need it.
        """
        if self.cache.mode == "replay":
            return
        models = [self.pool.get(model_id) for model_id in model_ids] if model_ids else list(self.pool.models)
        missing: dict[str, list[str]] = {}
        for model in models:
            if model.api_key_env and not model.api_key():
                missing.setdefault(model.api_key_env, []).append(model.id)
        if missing:
            needs = "; ".join(f"{variable} (for {', '.join(ids)})" for variable, ids in missing.items())
            raise HarnessError(
                f"missing API key(s) in the environment: {needs}; set them or add them to .env (see .env.example)"
            )

    def _semaphore(self, model: PoolModel) -> asyncio.Semaphore:
        key = (id(asyncio.get_running_loop()), model.id)
        if key not in self._semaphores:
            self._semaphores[key] = asyncio.Semaphore(model.max_concurrency)
        return self._semaphores[key]

    def build_request(self, model: PoolModel, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        """Return the request that is sent and cached: pool defaults overridden by the caller's parameters."""
        merged = {**model.params, **{k: v for k, v in params.items() if v is not None}}
        generation = {k: merged[k] for k in GENERATION_PARAMS if k in merged}
        if model.mode == "completion":
            stop = generation.get("stop") or ["\n\n"]
            generation["stop"] = stop
            return {"mode": "completion", "prompt": flatten_messages(messages), **generation}
        return {"mode": "chat", "messages": messages, **generation}

    async def complete(
        self,
        model_id: str,
        messages: list[dict[str, Any]],
        params: dict[str, Any] | None = None,
        *,
        sample_id: str | None = None,
        draw: int = 0,
    ) -> GatewayResult:
        """Return the answer of a pool model to a chat request, from the cache when it is there.

        ``draw`` numbers repeated samples of the same request (self-consistency
        votes at a temperature above 0). Draw 0 is the plain request; each
        other draw has its own cache entry, while the request sent stays the
        same.

        Raises
        ------
        CacheMissError
            In replay mode, when the request is not cached or its entry is damaged.
        CacheWriteError
            When an earlier answer of this gateway could not be stored, so no
            new paid call is made.
        GatewayError
            When every attempt failed, or the error cannot be fixed by retrying.
        """
        model = self.pool.get(model_id)
        request = self.build_request(model, messages, params or {})
        key = request_key(model.id, model.model, request if draw == 0 else {**request, "draw": int(draw)})

        cached = self.cache.get(key)
        if cached is not None:
            result = self._from_cache(model, cached, key)
            if result is not None:
                return result
        if self.cache.mode == "replay":
            damage = self.cache.damaged.get(key)
            state = f"is damaged ({damage})" if damage else "is not cached"
            draw_label = f" (vote draw {draw + 1})" if draw else ""
            raise CacheMissError(
                f"replay mode: the answer of model {model.id!r} to sample {sample_id or '?'}{draw_label} {state} "
                f"(key {key}); run without --replay (or cache_mode=replay) to fetch it"
            )
        if self.cache_write_error is not None:
            raise CacheWriteError(
                f"model {model.id!r}, sample {sample_id or '?'}: not called, because an earlier answer "
                f"could not be stored: {self.cache_write_error}"
            )

        # Two identical requests in flight (the router and a candidate, or two
        # samples with the same prompt) share one paid call.
        flight_key = (id(asyncio.get_running_loop()), key)
        pending = self._inflight.get(flight_key)
        if pending is not None:
            result = await asyncio.shield(pending)
            return GatewayResult(**{**asdict(result), "cached": True})
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[flight_key] = future
        try:
            result = await self._call_with_retries(model, request, key, sample_id)
            future.set_result(result)
            return result
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved when nobody else waits
            raise
        finally:
            self._inflight.pop(flight_key, None)

    def _from_cache(self, model: PoolModel, payload: dict[str, Any], key: str) -> GatewayResult | None:
        """Return the cached result, or None (logged as damaged) when the payload has the wrong fields."""
        try:
            result = GatewayResult(**payload, cached=True, cache_key=key)
            if not isinstance(result.text, str) or result.model_id != model.id:
                raise ValueError(f"text or model_id invalid (model_id {result.model_id!r})")
        except (TypeError, ValueError) as error:
            self.cache.report_damaged(key, f"payload does not match a gateway result: {error}")
            return None
        self.stats.cache_hits += 1
        if result.cost is not None:
            self.stats.cached_cost += result.cost
        return result

    async def _call_with_retries(
        self, model: PoolModel, request: dict[str, Any], key: str, sample_id: str | None
    ) -> GatewayResult:
        if self.before_call is not None:
            await asyncio.to_thread(self.before_call, model)
        secrets = [value for value in (model.api_key(),) if value]

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            suggested = retry_after_seconds(error) if error else None
            backoff = wait_exponential_jitter(
                multiplier=self.backoff_initial, max=self.backoff_max, jitter=self.backoff_initial
            )(state)
            return min(self.backoff_max, suggested) if suggested is not None else backoff

        def log_retry(state: RetryCallState) -> None:
            self.stats.retries += 1
            error = state.outcome.exception() if state.outcome else None
            logger.warning(
                "retrying model %s, sample %s (attempt %d of %d) after %s: %s",
                model.id,
                sample_id or "?",
                state.attempt_number,
                self.max_attempts,
                type(error).__name__,
                _short(error, secrets),
            )

        attempts = 0
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(is_retryable),
                stop=stop_after_attempt(self.max_attempts),
                wait=wait,
                before_sleep=log_retry,
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    async with self._semaphore(model):
                        # A total deadline: the client's own timeout applies to
                        # each read, so a server that trickles bytes never hits it.
                        result = await asyncio.wait_for(self._send(model, request), timeout=model.timeout)
        except Exception as error:
            self.stats.failures += 1
            message = _short(error, secrets) or f"timed out after {model.timeout} s (the model's 'timeout' in the pool file)"
            hint = _fix_hint(model, error)
            logger.error(
                "model %s, sample %s failed after %d attempt(s): %s: %s",
                model.id, sample_id or "?", attempts, type(error).__name__, message,
            )
            raise GatewayError(
                f"model {model.id!r}, sample {sample_id or '?'}: call failed after {attempts} attempt(s): "
                f"{type(error).__name__}: {message}{hint}"
            ) from None

        result.attempts = attempts
        result.cache_key = key
        self._store(key, result)
        self.stats.calls += 1
        self.stats.per_model_calls[model.id] = self.stats.per_model_calls.get(model.id, 0) + 1
        if result.cost is not None:
            self.stats.new_cost += result.cost
        return result

    def _store(self, key: str, result: GatewayResult) -> None:
        """Write a paid answer to the cache; on failure, keep the answer for this run and stop paid calls."""
        try:
            self.cache.set(key, result.to_payload())
        except CacheWriteError as error:
            if self.cache_write_error is None:
                self.cache_write_error = str(error)
                logger.error("%s; the gateway makes no further paid calls in this process", error)

    async def _send(self, model: PoolModel, request: dict[str, Any]) -> GatewayResult:
        """Make one HTTP call through LiteLLM and price it."""
        api_key = model.api_key()
        if model.api_key_env and not api_key:
            raise GatewayError(
                f"model {model.id!r} needs an API key in the environment variable {model.api_key_env}; "
                "set it or add it to .env (see .env.example)"
            )
        common: dict[str, Any] = {
            "model": model.model,
            "api_base": model.api_base,
            # Local OpenAI-compatible servers take any key; the OpenAI client needs one.
            "api_key": api_key or "no-key",
            "timeout": model.timeout,
            "num_retries": 0,
            "max_retries": 0,
        }
        generation = {k: v for k, v in request.items() if k not in ("mode", "messages", "prompt")}

        started = time.perf_counter()
        if request["mode"] == "completion":
            response = await litellm.atext_completion(prompt=request["prompt"], **common, **generation)
        else:
            response = await litellm.acompletion(messages=request["messages"], **common, **generation)
        latency = time.perf_counter() - started

        choices = getattr(response, "choices", None) or []
        if not choices:
            raise MalformedResponseError("the response has an empty 'choices' list")
        choice = choices[0]
        if request["mode"] == "completion":
            text = getattr(choice, "text", None)
        else:
            message = getattr(choice, "message", None)
            text = getattr(message, "content", None) if message is not None else None
        if text is None:
            raise MalformedResponseError("the response has no text in its first choice")

        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        return GatewayResult(
            model_id=model.id,
            text=text,
            finish_reason=str(getattr(choice, "finish_reason", None) or "stop"),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=self._price(model, response, usage),
            cached=False,
            latency_s=round(latency, 4),
        )

    @staticmethod
    def _price(model: PoolModel, response: Any, usage: Any) -> float | None:
        if usage is None:
            return None
        if model.price is not None:
            return model.price.cost(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0))
        try:
            return float(litellm.completion_cost(completion_response=response, model=model.model))
        except Exception as error:  # litellm raises many types for unknown models
            logger.warning("no price for model %s (%s); its cost is recorded as unknown", model.id, _short(error))
            return None


def _fix_hint(model: PoolModel, error: BaseException) -> str:
    """Return advice to append to a failure message, or an empty string."""
    if isinstance(error, litellm.AuthenticationError) and model.api_key_env:
        return f"; check the API key in the environment variable {model.api_key_env}"
    if isinstance(error, litellm.AuthenticationError):
        return "; the server requires an API key, so set 'api_key_env' for this model in the pool file"
    # litellm 1.110.2 reports a refused connection as InternalServerError("Connection error.").
    unreachable = isinstance(error, litellm.APIConnectionError) or "Connection error" in str(error)
    if unreachable or isinstance(error, (asyncio.TimeoutError, litellm.Timeout)):
        return f"; check that the server at {model.api_base or 'the provider'} is up, or raise 'timeout' in the pool file"
    return ""


def _short(error: BaseException | None, secrets: list[str] | None = None, limit: int = 300) -> str:
    """Return an error's message on one line, at most ``limit`` characters, with each secret replaced."""
    text = " ".join(str(error).split()) if error is not None else ""
    for secret in secrets or []:
        text = text.replace(secret, "[redacted]")
    return text if len(text) <= limit else text[: limit - 3] + "..."
