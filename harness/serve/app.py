"""The FastAPI application: OpenAI-compatible chat completions in front of the router service."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Iterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from harness.serve.protocol import APIError, completion_body, parse_chat_request, parse_json_body, stream_events
from harness.serve.service import RouterService, Served

logger = logging.getLogger("harness.serve")

ROUTED_MODEL_HEADER = "x-routed-model"
REQUEST_ID_HEADER = "x-request-id"
ALPHA_HEADER = "x-router-alpha"


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, raising HTTP 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise APIError(413, f"the request body has {int(declared)} bytes, more than the limit of {limit}; "
                       "send a shorter conversation or restart the server with a larger --max-body-bytes",
                       "invalid_request_error", None, "request_too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise APIError(413, f"the request body is more than the limit of {limit} bytes; "
                           "send a shorter conversation or restart the server with a larger --max-body-bytes",
                           "invalid_request_error", None, "request_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def _log_request(served: Served | None, error: APIError | None, status: int, latency_s: float, stream: bool,
                 requested: str | None) -> None:
    """Write one key=value log line per chat request; it never contains prompt or answer text."""
    if served is not None:
        decision, result = served.decision, served.result
        clusters = ",".join(str(c) for c in decision.clusters) or "-"
        cost = "unknown" if result.cost is None else f"{result.cost:.8f}"
        logger.info(
            "chat id=%s status=%d requested=%s served=%s routed=%s alpha=%s clusters=%s fallback=%s cached=%s "
            "stream=%s latency_ms=%.1f routing_ms=%.1f embedding_ms=%.1f upstream_ms=%.1f prompt_tokens=%d "
            "completion_tokens=%d cost_usd=%s",
            served.request_id, status, decision.requested, decision.model_id, str(decision.routed).lower(),
            "-" if decision.alpha is None else f"{decision.alpha:g}", clusters, str(decision.fallback).lower(),
            str(result.cached).lower(), str(stream).lower(), latency_s * 1000, decision.routing_s * 1000,
            decision.embedding_s * 1000, served.upstream_s * 1000, result.prompt_tokens, result.completion_tokens,
            cost,
        )
        return
    assert error is not None
    log = logger.error if status >= 500 else logger.info
    log("chat status=%d requested=%s error_type=%s code=%s latency_ms=%.1f message=%s", status, requested or "-",
        error.type, error.code or "-", latency_s * 1000, error.message)


async def _aiter(items: Iterator[str]) -> AsyncIterator[str]:
    # An async iterator keeps Starlette from moving each chunk through a worker thread.
    for item in items:
        yield item


def create_app(service: RouterService, max_body_bytes: int = 1 << 20) -> FastAPI:
    """Build the HTTP application around a loaded router service.

    Endpoints: ``POST /v1/chat/completions``, ``GET /v1/models``,
    ``GET /v1/models/{id}``, ``GET /health`` and ``GET /metrics``
    (Prometheus text, or JSON with ``?format=json``). Every error is an
    OpenAI error object.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        logger.info("serving models %s", ", ".join(service.model_names))
        yield
        await service.aclose()
        logger.info("router server stopped")

    app = FastAPI(title="harness router", summary="OpenAI-compatible endpoint of a fitted cluster router",
                  lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service

    @app.exception_handler(APIError)
    async def on_api_error(_: Request, error: APIError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code)
        message = f"{request.method} {request.url.path}: {error.detail}"
        if error.status_code == 404:
            message += "; the endpoints are /v1/chat/completions, /v1/models, /health and /metrics"
        body = APIError(error.status_code, message, "invalid_request_error", None, code).body()
        return JSONResponse(body, status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(APIError(400, f"invalid request: {error.errors()}").body(), status_code=400)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        service.record_endpoint("health", 200)
        return {
            "status": "ok",
            "router": service.router_name,
            "router_dir": service.router_dir,
            "embedder": service.router.embedder_name,
            "default_alpha": service.router.alpha,
            "pool": service.gateway.pool.name,
            "models": service.gateway.pool.ids,
            "cache_mode": service.gateway.cache.mode,
        }

    def model_card(name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": int(service.metrics.started),
                "owned_by": "harness-router" if name == service.router_name else "harness-pool"}

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        service.record_endpoint("models", 200)
        return {"object": "list", "data": [model_card(name) for name in service.model_names]}

    @app.get("/v1/models/{model_id:path}")
    async def get_model(model_id: str) -> dict[str, Any]:
        if model_id not in service.model_names:
            service.record_endpoint("models", 404)
            raise APIError(404, f"model {model_id!r} does not exist; GET /v1/models lists the models",
                           "invalid_request_error", "model", "model_not_found")
        service.record_endpoint("models", 200)
        return model_card(model_id)

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        service.record_endpoint("metrics", 200)
        wants_json = request.query_params.get("format") == "json" or "application/json" in request.headers.get(
            "accept", "")
        if wants_json:
            return JSONResponse(service.metrics.to_json())
        return PlainTextResponse(service.metrics.to_prometheus(), media_type="text/plain; version=0.0.4")

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        started = time.perf_counter()
        served: Served | None = None
        error: APIError | None = None
        chat = None
        try:
            body = parse_json_body(await read_body(request, max_body_bytes))
            chat = parse_chat_request(body, request.headers.get(ALPHA_HEADER))
            served = await service.complete(chat)
        except APIError as caught:
            error = caught
        except Exception as caught:  # an unexpected failure still gets an OpenAI error object
            logger.exception("chat request failed with an internal error")
            error = APIError(500, f"internal server error: {type(caught).__name__}: {caught}", "server_error",
                             None, "internal_error")

        status = 200 if error is None else error.status
        latency = time.perf_counter() - started
        service.record(served, error, status, latency)
        _log_request(served, error, status, latency, bool(chat and chat.stream), chat.model if chat else None)
        if error is not None:
            return JSONResponse(error.body(), status_code=error.status)

        assert served is not None and chat is not None
        result = served.result
        headers = {ROUTED_MODEL_HEADER: served.decision.model_id, REQUEST_ID_HEADER: served.request_id}
        if chat.stream:
            events = stream_events(served.request_id, result.model_id, result.text, result.finish_reason,
                                   result.prompt_tokens, result.completion_tokens, chat.include_usage, served.extra())
            return StreamingResponse(_aiter(events), media_type="text/event-stream",
                                     headers={**headers, "cache-control": "no-cache"})
        body = completion_body(served.request_id, result.model_id, result.text, result.finish_reason,
                               result.prompt_tokens, result.completion_tokens, served.extra())
        return JSONResponse(body, headers=headers)

    return app
