"""``harness run`` end to end against a fake OpenAI-compatible server, on local JSONL data."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from harness import session
from harness.runner import RunConfig, run
from tests.conftest import write_pool

N_PER_BENCHMARK = 20


def write_data(data_dir):
    """Write 20 multiple choice and 20 arithmetic samples; return {question: gold answer}."""
    data_dir.mkdir()
    gold = {}
    with (data_dir / "arc_challenge.jsonl").open("w") as handle:
        for i in range(N_PER_BENCHMARK):
            question = f"Which planet is number {i} in the science quiz about stars and light?"
            letter = "ABCD"[i % 4]
            handle.write(json.dumps({"id": f"arc-{i}", "question": question, "choices": ["Mars", "Venus", "Earth", "Jupiter"], "answer": letter}) + "\n")
            gold[question] = f"The answer is ({letter})."
    with (data_dir / "gsm8k.jsonl").open("w") as handle:
        for i in range(N_PER_BENCHMARK):
            problem = f"Sam has {i} apples and buys {i + 3} more apples at the market. How many apples does Sam have?"
            handle.write(json.dumps({"id": f"gsm-{i}", "problem": problem, "answer": str(2 * i + 3)}) + "\n")
            gold[problem] = f"He has \\boxed{{{2 * i + 3}}} apples."
    return gold


def make_answer(gold):
    """Model 'science' is right on the quiz only, 'maths' on arithmetic only."""

    def answer(request):
        text = request["messages"][-1]["content"]
        model = request["model"]
        for question, right in gold.items():
            if question in text:
                is_quiz = "quiz" in question
                if (model == "science") == is_quiz:
                    return right
                return "The answer is (Z)." if is_quiz else "\\boxed{-1}"
        return "no idea"

    return answer


@pytest.fixture(autouse=True)
def fresh_session():
    session.close_all()
    yield
    session.close_all()


def config_for(tmp_path, pool_path, **overrides) -> RunConfig:
    settings = dict(
        pool=str(pool_path),
        tasks=("arc_challenge", "gsm8k"),
        limit=None,
        data_dir=str(tmp_path / "data"),
        cache_dir=str(tmp_path / "cache"),
        results_dir=str(tmp_path / "results"),
        run_name="e2e",
        display="none",
        k=2,
    )
    settings.update(overrides)
    return RunConfig(**settings)


def test_run_routes_each_query_to_the_right_model(tmp_path, fake_server):
    fake_server.answer = make_answer(write_data(tmp_path / "data"))
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["science", "maths"])

    outcome = run(config_for(tmp_path, pool_path))

    summary = pd.read_csv(tmp_path / "results" / "e2e" / "summary.csv").set_index("method")
    assert list(summary.index) == ["science", "maths", "router"]
    assert summary.loc["science", "arc_challenge"] == 1.0
    assert summary.loc["science", "gsm8k"] == 0.0
    assert summary.loc["maths", "gsm8k"] == 1.0
    assert summary.loc["router", "mean_accuracy"] == 1.0
    assert summary.loc["router", "calls"] == len(outcome.test_keys) == 12
    # Candidates answered 40 samples each; the router reused cached answers.
    assert outcome.calls == 80
    assert len(fake_server.requests) == 80
    choices = pd.read_csv(tmp_path / "results" / "e2e" / "router_choices.csv").set_index("benchmark")
    assert choices.loc["arc_challenge", "science"] == 6
    assert choices.loc["gsm8k", "maths"] == 6
    for name in ("summary.json", "pareto.png", "matrix.csv", "alpha_sweep.csv", "router/manifest.json"):
        assert (tmp_path / "results" / "e2e" / name).exists(), name


def test_second_run_replays_with_zero_calls(tmp_path, fake_server, capsys):
    fake_server.answer = make_answer(write_data(tmp_path / "data"))
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["science", "maths"])
    run(config_for(tmp_path, pool_path))
    first = (tmp_path / "results" / "e2e" / "summary.csv").read_text()
    session.close_all()
    capsys.readouterr()

    outcome = run(config_for(tmp_path, pool_path, cache_mode="replay"))

    assert outcome.calls == 0
    assert len(fake_server.requests) == 80
    assert (tmp_path / "results" / "e2e" / "summary.csv").read_text() == first
    assert "Zero model calls" in capsys.readouterr().out


def test_limit_zero_is_rejected(tmp_path):
    with pytest.raises(Exception, match="--limit 0"):
        run(config_for(tmp_path, tmp_path / "missing.yaml", limit=0))


def test_unknown_task_names_known_ones(tmp_path, fake_server):
    write_data(tmp_path / "data")
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["science"])

    with pytest.raises(Exception, match=re.escape("no_such_task")):
        run(config_for(tmp_path, pool_path, tasks=("no_such_task",)))


def test_replay_of_unseen_run_fails_naming_model(tmp_path, fake_server):
    write_data(tmp_path / "data")
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["science", "maths"])

    with pytest.raises(Exception, match="replay mode: .*model 'science'.*not cached"):
        run(config_for(tmp_path, pool_path, cache_mode="replay"))

    assert fake_server.requests == []


def calibration_frame(n_per_benchmark: int = 15) -> pd.DataFrame:
    rows = []
    for benchmark, words in (("fruit", "apple pear plum fig kiwi"), ("tools", "hammer saw drill wrench file")):
        for index in range(n_per_benchmark):
            prompt = f"Name a {benchmark} item like {words.split()[index % 5]} number {index}"
            for model, score in (("small", float(benchmark == "fruit")), ("large", 1.0)):
                rows.append({"sample_id": f"{benchmark}-{index}", "benchmark": benchmark, "prompt": prompt,
                             "model": model, "score": score, "cost": 0.001 if model == "small" else 0.01})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"top_p": 2}, {"top_p": 2}),
        ({"k": 3, "top_p": 3}, {"k": 3, "top_p": 3}),
        ({"variant": "neighbours", "knn_k": 7}, {"knn_k": 7}),
    ],
)
def test_fit_router_keeps_given_settings(tmp_path, overrides, expected):
    from harness.routing import fit_router

    config = RunConfig(**overrides)
    info = fit_router(calibration_frame(), ["small", "large"], config, tmp_path / "router")

    for name, value in expected.items():
        assert info[name] == value
