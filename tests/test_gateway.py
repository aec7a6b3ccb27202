"""The gateway against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from harness.cache import ResponseCache
from harness.errors import CacheMissError, GatewayError
from harness.gateway import Gateway
from harness.pool import load_pool
from tests.conftest import write_pool

MESSAGES = [{"role": "user", "content": "What is 2 + 2?"}]


def make_gateway(tmp_path, server, mode="read-write", **kwargs) -> Gateway:
    pool = load_pool(write_pool(tmp_path / "pool.yaml", server.api_base, ["alpha", "beta"]))
    cache = ResponseCache(tmp_path / "cache", mode=mode)
    return Gateway(pool, cache, backoff_initial=0.01, backoff_max=0.05, **kwargs)


async def test_answer_then_cache_hit(tmp_path, fake_server):
    gateway = make_gateway(tmp_path, fake_server)

    first = await gateway.complete("alpha", MESSAGES, {"max_tokens": 16}, sample_id="s1")
    second = await gateway.complete("alpha", MESSAGES, {"max_tokens": 16}, sample_id="s1")

    assert first.text == "alpha says: What is 2 + 2?"
    assert not first.cached
    assert second.cached
    assert second.text == first.text
    assert second.cost == first.cost
    assert len(fake_server.requests) == 1
    assert gateway.stats.calls == 1
    assert gateway.stats.cache_hits == 1


async def test_cost_uses_declared_price(tmp_path, fake_server):
    gateway = make_gateway(tmp_path, fake_server)

    result = await gateway.complete("beta", MESSAGES)

    expected = (result.prompt_tokens * 2.0 + result.completion_tokens * 4.0) / 1e6
    assert result.prompt_tokens > 0
    assert result.cost == pytest.approx(expected)


async def test_different_params_are_different_entries(tmp_path, fake_server):
    gateway = make_gateway(tmp_path, fake_server)

    await gateway.complete("alpha", MESSAGES, {"max_tokens": 16})
    await gateway.complete("alpha", MESSAGES, {"max_tokens": 32})
    await gateway.complete("beta", MESSAGES, {"max_tokens": 16})

    assert len(fake_server.requests) == 3


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_retries_on_transient_status(tmp_path, fake_server, status):
    fake_server.script = [{"status": status}, {"status": status}]
    gateway = make_gateway(tmp_path, fake_server)

    result = await gateway.complete("alpha", MESSAGES)

    assert result.text.startswith("alpha says")
    assert len(fake_server.requests) == 3
    assert gateway.stats.retries == 2


async def test_retry_after_header_is_honoured(tmp_path, fake_server):
    fake_server.script = [{"status": 429, "headers": {"Retry-After": "0.3"}}]
    gateway = make_gateway(tmp_path, fake_server)
    gateway.backoff_max = 5.0

    loop = asyncio.get_running_loop()
    started = loop.time()
    await gateway.complete("alpha", MESSAGES)

    assert loop.time() - started >= 0.3
    assert len(fake_server.requests) == 2


async def test_gives_up_after_max_attempts(tmp_path, fake_server):
    fake_server.default = {"status": 500}
    gateway = make_gateway(tmp_path, fake_server, max_attempts=3)

    with pytest.raises(GatewayError, match="alpha.*sample s9.*3 attempt"):
        await gateway.complete("alpha", MESSAGES, sample_id="s9")

    assert len(fake_server.requests) == 3
    assert gateway.stats.failures == 1
    assert len(gateway.cache) == 0


async def test_bad_request_is_not_retried(tmp_path, fake_server):
    fake_server.script = [{"status": 400}]
    gateway = make_gateway(tmp_path, fake_server)

    with pytest.raises(GatewayError):
        await gateway.complete("alpha", MESSAGES)

    assert len(fake_server.requests) == 1


async def test_empty_choices_is_retried(tmp_path, fake_server):
    fake_server.script = [{"choices": []}]
    gateway = make_gateway(tmp_path, fake_server)

    result = await gateway.complete("alpha", MESSAGES)

    assert result.text.startswith("alpha says")
    assert len(fake_server.requests) == 2


async def test_replay_miss_is_an_error(tmp_path, fake_server):
    gateway = make_gateway(tmp_path, fake_server, mode="replay")

    with pytest.raises(CacheMissError, match="alpha.*sample q7"):
        await gateway.complete("alpha", MESSAGES, sample_id="q7")

    assert fake_server.requests == []


async def test_replay_hit_reports_recorded_cost(tmp_path, fake_server):
    recorder = make_gateway(tmp_path, fake_server)
    recorded = await recorder.complete("alpha", MESSAGES)
    recorder.cache.close()

    replayer = make_gateway(tmp_path, fake_server, mode="replay")
    replayed = await replayer.complete("alpha", MESSAGES)

    assert replayed.cached
    assert replayed.cost == recorded.cost
    assert replayer.stats.cached_cost == pytest.approx(recorded.cost)
    assert replayer.stats.new_cost == 0.0
    assert len(fake_server.requests) == 1


async def test_concurrent_identical_requests_share_one_call(tmp_path, fake_server):
    fake_server.default = {"delay": 0.2}
    gateway = make_gateway(tmp_path, fake_server)

    results = await asyncio.gather(*[gateway.complete("alpha", MESSAGES) for _ in range(4)])

    assert {r.text for r in results} == {"alpha says: What is 2 + 2?"}
    assert len(fake_server.requests) == 1


async def test_api_key_is_sent_but_never_cached(tmp_path, fake_server, monkeypatch):
    secret = "sk-test-DO-NOT-STORE-1234567890"
    monkeypatch.setenv("FAKE_PROVIDER_KEY", secret)
    pool = load_pool(
        write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"], api_key_env="FAKE_PROVIDER_KEY")
    )
    gateway = Gateway(pool, ResponseCache(tmp_path / "cache"))

    await gateway.complete("alpha", MESSAGES)
    gateway.cache.close()

    headers = {name.lower(): value for name, value in fake_server.headers_seen[0].items()}
    assert headers.get("authorization") == f"Bearer {secret}"
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


async def test_missing_api_key_names_the_variable(tmp_path, fake_server, monkeypatch):
    monkeypatch.delenv("FAKE_PROVIDER_KEY", raising=False)
    pool = load_pool(
        write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"], api_key_env="FAKE_PROVIDER_KEY")
    )
    gateway = Gateway(pool, ResponseCache(tmp_path / "cache"), max_attempts=1)

    with pytest.raises(GatewayError, match="FAKE_PROVIDER_KEY"):
        await gateway.complete("alpha", MESSAGES)

    assert fake_server.requests == []


async def test_completion_mode_sends_flat_prompt(tmp_path, fake_server):
    pool = load_pool(write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["base"], mode="completion"))
    gateway = Gateway(pool, ResponseCache(tmp_path / "cache"))

    result = await gateway.complete("base", MESSAGES, {"max_tokens": 8})

    assert fake_server.requests[0]["prompt"].endswith("What is 2 + 2?\nAnswer:")
    assert result.text.startswith("base says")
