"""inspect-ai model providers: ``pool/<model-id>`` and ``router/<fitted-router-folder>``."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import harness  # noqa: F401  (offline litellm flag first)
from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput, ModelUsage
from inspect_ai.tool import ToolChoice, ToolInfo

from harness.errors import HarnessError
from harness.gateway import Gateway, GatewayResult
from harness.session import get_gateway

logger = logging.getLogger(__name__)


def messages_to_dicts(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """Convert inspect chat messages to plain OpenAI-style role/content dicts (text only)."""
    return [{"role": message.role, "content": message.text} for message in messages]


def config_to_params(config: GenerateConfig) -> dict[str, Any]:
    """Return the generation parameters a task set; unset ones fall back to the pool's defaults."""
    params = {
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "top_p": config.top_p,
        "stop": config.stop_seqs,
        "seed": config.seed,
    }
    return {name: value for name, value in params.items() if value is not None}


def last_user_text(messages: list[ChatMessage]) -> str:
    """Return the text of the last user message: the query that the router embeds."""
    for message in reversed(messages):
        if message.role == "user":
            return message.text
    raise HarnessError("the router needs a user message to route; the input has none")


def to_model_output(result: GatewayResult, served_by: str, **metadata: Any) -> ModelOutput:
    """Build inspect's output from a gateway result, with its usage and cost."""
    stop_reason = "max_tokens" if result.finish_reason == "length" else "stop"
    output = ModelOutput.from_content(model=served_by, content=result.text, stop_reason=stop_reason)
    output.usage = ModelUsage(
        input_tokens=result.prompt_tokens,
        output_tokens=result.completion_tokens,
        total_tokens=result.prompt_tokens + result.completion_tokens,
        total_cost=result.cost,
    )
    output.time = result.latency_s
    output.metadata = {
        "served_by": served_by,
        "cost_usd": result.cost,
        "cached": result.cached,
        "attempts": result.attempts,
        **metadata,
    }
    return output


class _GatewayModelAPI(ModelAPI):
    """Shared set-up of the two providers: model args select the pool file and the cache."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        pool: str | None = None,
        cache_dir: str | None = None,
        cache_mode: str | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        if model_args:
            raise HarnessError(
                f"unknown model argument(s) {', '.join(sorted(model_args))}; "
                "the harness providers take pool, cache_dir and cache_mode"
            )
        self.gateway: Gateway = get_gateway(pool, cache_dir, cache_mode)

    def should_retry(self, ex: Exception) -> bool:
        # The gateway already retried with backoff; a retry here would pay twice.
        return False


class PoolModelAPI(_GatewayModelAPI):
    """``pool/<model-id>``: one candidate model of the pool, called through the gateway."""

    def __init__(self, model_name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(model_name, *args, **kwargs)
        self.pool_model = self.gateway.pool.get(model_name)

    def max_connections(self) -> int:
        return self.pool_model.max_concurrency

    def connection_key(self) -> str:
        return self.pool_model.id

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        result = await self.gateway.complete(
            self.pool_model.id, messages_to_dicts(input), config_to_params(config), sample_id=_sample_id()
        )
        return to_model_output(result, served_by=self.pool_model.id)


class RouterModelAPI(_GatewayModelAPI):
    """``router/<folder>``: embeds the query, picks a pool model with a fitted router, calls it.

    The candidate's call goes through the same gateway and cache, so an answer
    already paid for during the candidates' own evaluation is reused. The
    serving model is recorded in the output's ``model`` and metadata.

    Model arguments: ``alpha`` overrides the router's trade-off. ``samples``
    greater than 1 turns on self-consistency: the routed model answers
    ``samples`` times at ``vote_temperature`` (default 0.7) and the most
    frequent answer is returned (see :mod:`harness.voting`). The output's
    usage and cost are the sums over all draws.
    """

    def __init__(
        self,
        model_name: str,
        *args: Any,
        alpha: float | None = None,
        samples: int = 1,
        vote_temperature: float = 0.7,
        **kwargs: Any,
    ) -> None:
        super().__init__(model_name, *args, **kwargs)
        from harness.embedding import get_embedder
        from harness.router import load_router

        self.router = load_router(model_name)
        self.embedder = get_embedder(self.router.embedder_name)
        self.router.check_compatible(self.gateway.pool.ids, self.embedder.name)
        if alpha is not None and not 0.0 <= float(alpha) <= 1.0:
            raise HarnessError(f"alpha {alpha!r} is outside [0, 1]; pass a value such as -M alpha=0.5")
        self.alpha = None if alpha is None else float(alpha)
        try:
            self.samples = int(samples)
        except (TypeError, ValueError):
            self.samples = 0
        if self.samples < 1 or str(samples).strip() != str(self.samples):
            raise HarnessError(f"samples {samples!r} is invalid; pass a whole number >= 1 such as -M samples=5")
        if not 0.0 < float(vote_temperature) <= 2.0:
            raise HarnessError(
                f"vote_temperature {vote_temperature!r} is outside (0, 2]; votes need differing draws, e.g. -M vote_temperature=0.7"
            )
        self.vote_temperature = float(vote_temperature)

    def max_connections(self) -> int:
        return max(m.max_concurrency for m in self.gateway.pool.models)

    def connection_key(self) -> str:
        return f"router:{self.model_name}"

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        from harness.embedding import embed_query_text

        query = embed_query_text(last_user_text(input))
        embedding = self.embedder.encode([query])
        choice = int(self.router.route(embedding, alpha=self.alpha)[0])
        model_id = self.router.model_ids_[choice]

        messages = messages_to_dicts(input)
        params = config_to_params(config)
        if self.samples == 1:
            result = await self.gateway.complete(model_id, messages, params, sample_id=_sample_id())
            return to_model_output(result, served_by=model_id, routed_to=model_id)
        return await self._vote(model_id, messages, params)

    async def _vote(self, model_id: str, messages: list[dict[str, str]], params: dict[str, Any]) -> ModelOutput:
        """Draw ``samples`` answers from the routed model and return the majority answer with summed usage."""
        import asyncio

        from harness.voting import majority

        params = {**params, "temperature": self.vote_temperature}
        sample_id = _sample_id()
        draws = await asyncio.gather(
            *(self.gateway.complete(model_id, messages, params, sample_id=sample_id, draw=index) for index in range(self.samples))
        )
        vote = majority([draw.text for draw in draws])
        winner = draws[vote.winner]
        costs = [draw.cost for draw in draws]
        total = replace(
            winner,
            prompt_tokens=sum(draw.prompt_tokens for draw in draws),
            completion_tokens=sum(draw.completion_tokens for draw in draws),
            cost=None if any(cost is None for cost in costs) else sum(costs),
            latency_s=max(draw.latency_s for draw in draws),
            cached=all(draw.cached for draw in draws),
            attempts=sum(draw.attempts for draw in draws),
        )
        return to_model_output(
            total, served_by=model_id, routed_to=model_id, samples=self.samples, votes=vote.keys, agreement=vote.count
        )


def _sample_id() -> str | None:
    """Return the id of the sample being evaluated, for error messages and logs."""
    try:
        from inspect_ai.log._samples import sample_active

        active = sample_active()
        if active is not None:
            return f"{active.task}:{active.sample.id}"
    except (ImportError, AttributeError):
        pass
    return None
