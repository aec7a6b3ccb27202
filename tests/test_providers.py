"""The pool provider inside real inspect-ai evals, against a fake server on 127.0.0.1."""

from __future__ import annotations

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes

from harness import session
from tests.conftest import write_pool


def tiny_task() -> Task:
    samples = [
        Sample(id="a", input="apple", target="apple"),
        Sample(id="b", input="banana", target="cherry"),
    ]
    return Task(dataset=samples, scorer=includes(), name="tiny")


@pytest.fixture(autouse=True)
def fresh_session():
    session.close_all()
    yield
    session.close_all()


def run_pool_eval(tmp_path, pool_path, mode="read-write"):
    return eval(
        tiny_task(),
        model="pool/alpha",
        model_args={"pool": str(pool_path), "cache_dir": str(tmp_path / "cache"), "cache_mode": mode},
        log_dir=str(tmp_path / "logs"),
        display="none",
    )[0]


def test_pool_eval_scores_and_costs(tmp_path, fake_server):
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    log = run_pool_eval(tmp_path, pool_path)

    assert log.status == "success"
    scores = {s.id: s.scores["includes"].value for s in log.samples}
    assert scores == {"a": "C", "b": "I"}
    costs = [s.output.metadata["cost_usd"] for s in log.samples]
    assert all(c > 0 for c in costs)
    assert len(fake_server.requests) == 2


def test_pool_eval_replay_makes_no_calls(tmp_path, fake_server):
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])
    first = run_pool_eval(tmp_path, pool_path)
    session.close_all()

    second = run_pool_eval(tmp_path, pool_path, mode="replay")

    assert second.status == "success"
    assert len(fake_server.requests) == 2
    first_costs = sorted(s.output.metadata["cost_usd"] for s in first.samples)
    second_costs = sorted(s.output.metadata["cost_usd"] for s in second.samples)
    assert first_costs == second_costs
    assert all(s.output.metadata["cached"] for s in second.samples)


def test_pool_eval_replay_miss_fails_sample(tmp_path, fake_server):
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    log = run_pool_eval(tmp_path, pool_path, mode="replay")

    assert log.status == "error"
    assert "replay mode" in log.error.message
    assert fake_server.requests == []
