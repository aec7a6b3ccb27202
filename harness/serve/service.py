"""The router service behind the HTTP endpoints: route a chat request, call the gateway, count it."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.embedding import embed_query_text, get_embedder
from harness.errors import CacheMissError, GatewayError, HarnessError
from harness.gateway import Gateway, GatewayResult
from harness.router import ClusterRouter, load_router
from harness.serve.batching import EmbeddingBatcher
from harness.serve.metrics import ServeMetrics
from harness.serve.protocol import APIError, ChatRequest
from harness.session import get_gateway

logger = logging.getLogger("harness.serve")

DEFAULT_ROUTER_NAME = "router"


@dataclass
class ServeConfig:
    """Settings of one ``harness serve`` process.

    Attributes
    ----------
    router_dir : str
        Folder of a fitted router (``router.json``, ``arrays.npz``, ``manifest.json``).
    pool : str
        Pool file whose models the router chooses from.
    cache_dir, cache_mode : str, optional
        Response cache folder and mode, as for ``harness run``.
    router_name : str
        Model name under which clients request routing.
    max_body_bytes : int
        Larger request bodies are rejected with HTTP 413.
    max_embed_batch : int
        Upper bound of queries per encoder forward pass.
    embedding_cache_size : int
        Recent query embeddings kept in memory (0 disables).
    embed_threads : int, optional
        Torch intra-op threads of the encoder; None keeps torch's default
        (one per core).
    """

    router_dir: str
    pool: str
    cache_dir: str | None = None
    cache_mode: str | None = None
    router_name: str = DEFAULT_ROUTER_NAME
    max_body_bytes: int = 1 << 20
    max_embed_batch: int = 32
    embedding_cache_size: int = 1024
    embed_threads: int | None = 1


@dataclass
class Decision:
    """The serving model of a request and the evidence for it.

    ``clusters`` are the router's nearest clusters, nearest first (empty for
    a direct request); the latencies are in seconds.
    """

    requested: str
    model_id: str
    routed: bool
    alpha: float | None = None
    clusters: list[int] = field(default_factory=list)
    fallback: bool = False
    embedding_s: float = 0.0
    routing_s: float = 0.0


@dataclass
class Served:
    """A finished chat request: the decision, the gateway's result and timings in seconds."""

    request_id: str
    decision: Decision
    result: GatewayResult
    upstream_s: float

    def extra(self) -> dict[str, Any]:
        """Return the router's evidence for the ``harness`` field of the response."""
        return {
            "requested_model": self.decision.requested,
            "routed": self.decision.routed,
            "served_by": self.decision.model_id,
            "alpha": self.decision.alpha,
            "clusters": self.decision.clusters,
            "fallback": self.decision.fallback,
            "cached": self.result.cached,
            "cost_usd": self.result.cost,
        }


class RouterService:
    """Route chat requests with a fitted router and send them to the pool through the gateway.

    Parameters
    ----------
    router : ClusterRouter
        A fitted router whose models are exactly the pool's.
    gateway : Gateway
        The gateway that calls and caches the pool models.
    router_name : str
        The model name that asks for routing; it must not be a pool model id.
    batcher : EmbeddingBatcher, optional
        Encoder queue; by default one over the router's embedder.
    router_dir : str, optional
        Folder the router came from, reported by ``/health``.
    """

    def __init__(self, router: ClusterRouter, gateway: Gateway, *, router_name: str = DEFAULT_ROUTER_NAME,
                 batcher: EmbeddingBatcher | None = None, router_dir: str | None = None,
                 max_embed_batch: int = 32, embedding_cache_size: int = 1024) -> None:
        self.router = router
        self.gateway = gateway
        self.router_name = router_name
        self.router_dir = router_dir
        self.metrics = ServeMetrics()
        if router_name in gateway.pool.ids:
            raise HarnessError(f"router name {router_name!r} is also a model id in pool {gateway.pool.name!r}; "
                               "pick another name with --router-name")
        if batcher is None:
            embedder = get_embedder(router.embedder_name)
            router.check_compatible(gateway.pool.ids, embedder.name)
            batcher = EmbeddingBatcher(embedder.encode, max_batch=max_embed_batch, cache_size=embedding_cache_size,
                                       on_batch=self.metrics.record_batch)
        else:
            router.check_compatible(gateway.pool.ids, router.embedder_name)
        self.batcher = batcher

    @classmethod
    def from_config(cls, config: ServeConfig) -> "RouterService":
        """Load the router, the pool's gateway and the encoder, and warm the encoder up."""
        if config.embed_threads is not None:
            import torch

            if config.embed_threads < 1:
                raise HarnessError(f"embed_threads must be >= 1, got {config.embed_threads}")
            torch.set_num_threads(config.embed_threads)
        router = load_router(config.router_dir)
        gateway = get_gateway(config.pool, config.cache_dir, config.cache_mode)
        service = cls(router, gateway, router_name=config.router_name, router_dir=str(Path(config.router_dir)),
                      max_embed_batch=config.max_embed_batch, embedding_cache_size=config.embedding_cache_size)
        service.warm_up()
        return service

    @property
    def model_names(self) -> list[str]:
        """Return the names a request may use: the router's first, then the pool's models."""
        return [self.router_name, *self.gateway.pool.ids]

    def warm_up(self) -> None:
        """Run the encoder and the router once so the first request does not pay for lazy set-up."""
        started = time.perf_counter()
        vectors = self.batcher.encode_now(["warm-up query for the router", "a second, longer warm-up query " * 8])
        self.router.route(vectors)
        logger.info("encoder %s warm in %.2f s", self.router.embedder_name, time.perf_counter() - started)

    async def decide(self, request: ChatRequest) -> Decision:
        """Choose the serving model: the named pool model, or the router's choice for the last user message.

        A request's alpha applies to routing only, so it has no effect on a
        request that names a pool model.
        """
        if request.model != self.router_name:
            if request.model not in self.gateway.pool.ids:
                raise APIError(404, f"model {request.model!r} does not exist; use {self.router_name!r} for routing "
                               f"or one of the pool models: {', '.join(self.gateway.pool.ids)}",
                               "invalid_request_error", "model", "model_not_found")
            return Decision(requested=request.model, model_id=request.model, routed=False)

        started = time.perf_counter()
        query = embed_query_text(request.last_user_text())
        embedding = self.batcher.cached(query)
        if embedding is None:
            embedding = await self.batcher.encode(query)
        else:
            with self.metrics.lock:
                self.metrics.embedding_cache_hits += 1
        embedded = time.perf_counter()
        alpha = self.router.alpha if request.alpha is None else request.alpha
        details = self.router.route_details(np.asarray(embedding)[None, :], alpha=alpha)
        finished = time.perf_counter()
        choice = int(details.models[0])
        return Decision(
            requested=request.model,
            model_id=self.router.model_ids_[choice],
            routed=True,
            alpha=alpha,
            clusters=[int(c) for c in details.clusters[0]],
            fallback=bool(details.fallback[0]),
            embedding_s=embedded - started,
            routing_s=finished - started,
        )

    async def complete(self, request: ChatRequest) -> Served:
        """Route a request and return the pool model's response.

        Raises
        ------
        APIError
            404 for an unknown model or a replay-mode cache miss, 400 for a
            request the router cannot embed, 502 when the pool model failed
            after the gateway's retries.
        """
        request_id = f"chatcmpl-{uuid.uuid4().hex}"
        decision = await self.decide(request)
        started = time.perf_counter()
        try:
            result = await self.gateway.complete(decision.model_id, request.messages, request.params,
                                                 sample_id=request_id)
        except CacheMissError as error:
            # A 4xx, because clients such as inspect-ai retry 5xx answers and a
            # replay miss repeats on every retry.
            raise APIError(404, str(error), "invalid_request_error", None, "cache_miss") from None
        except GatewayError as error:
            raise APIError(502, f"model {decision.model_id!r} failed: {error}", "upstream_error", None,
                           "upstream_failed") from None
        return Served(request_id, decision, result, time.perf_counter() - started)

    def record(self, served: Served | None, decision_error: APIError | None, status: int, latency_s: float) -> None:
        """Add one chat request to the metrics."""
        metrics = self.metrics
        with metrics.lock:
            metrics.requests[("chat_completions", status)] += 1
            metrics.request_latency.add(latency_s)
            if decision_error is not None:
                metrics.errors[decision_error.type] += 1
            if served is None:
                return
            decision, result = served.decision, served.result
            (metrics.routed if decision.routed else metrics.direct)[decision.model_id] += 1
            if decision.routed:
                metrics.routing_latency.add(decision.routing_s)
                metrics.embedding_latency.add(decision.embedding_s)
            metrics.upstream_latency.add(served.upstream_s)
            metrics.cache_hits += int(result.cached)
            metrics.prompt_tokens += result.prompt_tokens
            metrics.completion_tokens += result.completion_tokens
            metrics.cost_usd += result.cost or 0.0

    def record_endpoint(self, endpoint: str, status: int) -> None:
        """Count a request to an endpoint other than chat completions."""
        with self.metrics.lock:
            self.metrics.requests[(endpoint, status)] += 1

    async def aclose(self) -> None:
        """Stop the encoder queue."""
        await self.batcher.aclose()
