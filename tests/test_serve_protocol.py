"""Request parsing, stream chunks, metrics text and the embedding batcher of ``harness serve``, without a server."""

from __future__ import annotations

import asyncio
import json
import threading

import numpy as np
import pytest

from harness.serve.batching import EmbeddingBatcher
from harness.serve.metrics import ServeMetrics
from harness.serve.protocol import APIError, parse_chat_request, parse_json_body, split_for_stream, stream_events


def chat(**fields):
    return {"model": "router", "messages": [{"role": "user", "content": "hi"}], **fields}


def test_parse_minimal_request():
    request = parse_chat_request(chat())

    assert request.model == "router"
    assert request.messages == [{"role": "user", "content": "hi"}]
    assert request.params == {}
    assert request.stream is False
    assert request.alpha is None


def test_parse_text_parts_and_params():
    body = chat(
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "line one"}, {"type": "text", "text": "line two"}]},
        ],
        temperature=0.2, max_completion_tokens=7, stop="END", seed=3, stream=True,
        stream_options={"include_usage": True}, user="someone", n=1,
    )

    request = parse_chat_request(body)

    assert request.messages[1] == {"role": "user", "content": "line one\nline two"}
    assert request.params == {"temperature": 0.2, "max_tokens": 7, "stop": ["END"], "seed": 3}
    assert request.stream is True
    assert request.include_usage is True
    assert request.last_user_text() == "line one\nline two"


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model", "missing required field 'model'"),
        ({"model": "router"}, "messages", "missing required field 'messages'"),
        (chat(messages=[]), "messages", "non-empty list"),
        (chat(messages=[{"role": "wizard", "content": "x"}]), "messages[0].role", "'wizard' is invalid"),
        (chat(messages=[{"role": "user", "content": [{"type": "image_url"}]}]), "messages[0].content", "image_url"),
        (chat(temperature=5), "temperature", "[0.0, 2.0]"),
        (chat(max_tokens=0), "max_tokens", "max_tokens"),
        (chat(max_tokens=True), "max_tokens", "an integer"),
        (chat(stop=[1]), "stop", "'stop' must be"),
        (chat(tools=[{"type": "function"}]), "tools", "not supported"),
        (chat(n=2), "n", "'n' must be 1"),
        (chat(stream="yes"), "stream", "true or false"),
        (chat(alpha=1.5), "alpha", "[0, 1]"),
        (chat(alpha=-0.1), "alpha", "[0, 1]"),
        (chat(alpha="high"), "alpha", "a number"),
        (chat(alpha=True), "alpha", "a number"),
    ],
)
def test_parse_rejects_invalid_field(body, param, fragment):
    with pytest.raises(APIError) as caught:
        parse_chat_request(body)

    assert caught.value.status == 400
    assert caught.value.param == param
    assert fragment in caught.value.message
    assert set(caught.value.body()["error"]) == {"message", "type", "param", "code"}


def test_alpha_from_header_and_conflict():
    assert parse_chat_request(chat(), header_alpha="0.25").alpha == 0.25
    assert parse_chat_request(chat(alpha=0.25), header_alpha="0.25").alpha == 0.25
    with pytest.raises(APIError, match="contradicts"):
        parse_chat_request(chat(alpha=0.5), header_alpha="0.25")
    with pytest.raises(APIError, match="header x-router-alpha"):
        parse_chat_request(chat(), header_alpha="nan")
    with pytest.raises(APIError, match="header x-router-alpha"):
        parse_chat_request(chat(), header_alpha="2")


def test_no_user_message_rejected():
    request = parse_chat_request(chat(messages=[{"role": "system", "content": "only a system prompt"}]))

    with pytest.raises(APIError, match="no message with role 'user'"):
        request.last_user_text()


@pytest.mark.parametrize("raw", [b"", b"   ", b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_json_body_rejects_non_object(raw):
    with pytest.raises(APIError) as caught:
        parse_json_body(raw)

    assert caught.value.status == 400


@pytest.mark.parametrize("text", ["", "one", "  leading and trailing  ", "a b c d e f g h i", "lines\n\nand\ttabs "])
def test_stream_split_round_trips(text):
    pieces = split_for_stream(text, words_per_chunk=2)

    assert "".join(pieces) == text
    assert all(piece for piece in pieces)


def test_stream_events_format():
    events = list(stream_events("chatcmpl-1", "mathbot", "two plus two is four", "stop", 5, 5, True, {"routed": True}))

    assert events[-1] == "data: [DONE]\n\n"
    bodies = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert all(body["object"] == "chat.completion.chunk" for body in bodies)
    assert all(body["model"] == "mathbot" for body in bodies)
    assert bodies[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(body["choices"][0]["delta"].get("content", "") for body in bodies if body["choices"])
    assert text == "two plus two is four"
    assert bodies[-2]["choices"][0]["finish_reason"] == "stop"
    assert bodies[-1]["choices"] == []
    assert bodies[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}


def test_metrics_prometheus_text():
    metrics = ServeMetrics()
    metrics.requests[("chat_completions", 200)] += 2
    metrics.routed['model "a"'] += 2
    metrics.request_latency.add(0.5)

    text = metrics.to_prometheus()

    assert 'harness_serve_requests_total{endpoint="chat_completions",status="200"} 2' in text
    assert 'harness_serve_routed_total{model="model \\"a\\""} 2' in text
    assert "harness_serve_request_latency_seconds_sum 0.5" in text
    assert "harness_serve_request_latency_seconds_count 1" in text
    assert "# TYPE harness_serve_cache_hits_total counter" in text


def test_batcher_groups_queued_queries():
    release = threading.Event()
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        if len(calls) == 1:
            release.wait(5)
        return np.array([[float(len(text)), 1.0] for text in texts], dtype=np.float32)

    sizes: list[int] = []
    batcher = EmbeddingBatcher(encode, max_batch=4, cache_size=0, on_batch=sizes.append)

    async def scenario() -> list[np.ndarray]:
        first = asyncio.ensure_future(batcher.encode("a"))
        await asyncio.sleep(0.05)  # the first pass is now blocked inside encode
        rest = [asyncio.ensure_future(batcher.encode(text)) for text in ("bb", "ccc", "bb", "dddd", "eeeee", "f")]
        await asyncio.sleep(0.05)
        release.set()
        results = await asyncio.gather(first, *rest)
        await batcher.aclose()
        return results

    results = asyncio.run(scenario())

    assert calls[0] == ["a"]
    # Six queued requests, max_batch 4: two passes, with the repeated "bb" encoded once.
    assert calls[1] == ["bb", "ccc", "dddd"]
    assert calls[2] == ["eeeee", "f"]
    assert sizes == [1, 3, 2]
    assert [float(vector[0]) for vector in results] == [1.0, 2.0, 3.0, 2.0, 4.0, 5.0, 1.0]


def test_batcher_cache_and_errors():
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        if "boom" in texts:
            raise RuntimeError("encoder failed")
        return np.ones((len(texts), 3), dtype=np.float32)

    batcher = EmbeddingBatcher(encode, cache_size=1)

    async def scenario() -> None:
        await batcher.encode("x")
        await batcher.encode("x")
        with pytest.raises(RuntimeError, match="encoder failed"):
            await batcher.encode("boom")
        await batcher.encode("y")
        await batcher.encode("x")
        await batcher.aclose()

    asyncio.run(scenario())

    # "x" is cached once, then evicted by "y" (cache size 1) and encoded again.
    assert calls == [["x"], ["boom"], ["y"], ["x"]]
