"""Self-consistency votes: the answer key, the majority rule, and the router provider drawing several answers."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes

from harness import session
from harness.errors import HarnessError
from harness.voting import answer_key, majority
from tests.conftest import write_pool
from tests.fake_openai import FakeOpenAIServer, last_message_text


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ANSWER: B", "b"),
        ("The answer is (C).", "c"),
        ("C) Paris", "c"),
        ("c", "c"),
        ("Reasoning...\nAnswer: 42\nDone.", "42"),
        ("So the total is 12,000.", "12000"),
        ("x = -3.5", "-3.5"),
        ("Thus \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("I think it is a cat", "i think it is a cat"),
        ("def f():\n    return 1\n", "def f(): return 1"),
        ("```python\nprint(2)\n```", "print(2)"),
        ("Here is the code:\n```python\ndef f(x):\n    return x\n```", "def f(x): return x"),
        ("    def g():\n        pass", "def g(): pass"),
        ("Work:\n```\n2+2\n```\nAnswer: 4", "4"),
        ("So the answer is $\\boxed{5}$.", "5"),
        ("The answer is 1,234.", "1234"),
        ("", ""),
    ],
)
def test_answer_key_table(text, key):
    assert answer_key(text) == key


def test_majority_picks_most_frequent_first_draw():
    vote = majority(["Answer: A", "Answer: B", "the answer is b", "Answer: A", "B"])

    assert vote.keys == ["a", "b", "b", "a", "b"]
    assert vote.count == 3
    assert vote.winner == 1


def test_majority_matches_boxed_and_plain():
    vote = majority(["So the answer is $\\boxed{5}$.", "\\boxed{6}", "\\boxed{5}"])

    assert vote.keys == ["5", "6", "5"]
    assert vote.winner == 0


def test_majority_tie_goes_to_earlier_key():
    assert majority(["7", "8", "8", "7"]).winner == 0


def test_majority_ignores_empty_answers():
    vote = majority(["", "", "x = 3"])

    assert vote.winner == 2
    assert vote.count == 1


def test_majority_rejects_no_answers():
    with pytest.raises(ValueError, match="at least one response text"):
        majority([])


# ------------------------------------------------------------- provider


@pytest.fixture(autouse=True)
def fresh_session():
    session.close_all()
    yield
    session.close_all()


@pytest.fixture
def router_dir(tmp_path):
    """A router over models alpha and beta that sends every query to alpha."""
    from harness.embedding import DEFAULT_EMBEDDER
    from harness.router import ClusterRouter, save_router

    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(12, 384)).astype(np.float32)
    scores = np.tile([1.0, 0.0], (12, 1))
    costs = np.tile([0.001, 0.002], (12, 1))
    router = ClusterRouter(k=1, embedder_name=DEFAULT_EMBEDDER).fit(embeddings, scores, costs, ["alpha", "beta"])
    return save_router(router, tmp_path / "router")


class ScriptedAnswers:
    """Answer each prompt with its scripted replies in turn, then with its last one."""

    def __init__(self, replies: dict[str, list[str]]) -> None:
        self.replies = {prompt: list(texts) for prompt, texts in replies.items()}
        self.lock = threading.Lock()

    def __call__(self, request):
        text = last_message_text(request)
        with self.lock:
            for prompt, texts in self.replies.items():
                if prompt in text:
                    return texts.pop(0) if len(texts) > 1 else texts[0]
        return "no idea"


def vote_eval(tmp_path, pool_path, router_dir, mode="read-write", samples=3):
    task = Task(dataset=[Sample(id="q", input="Name the fruit: apple", target="apple")], scorer=includes(), name="fruit")
    model_args = {"pool": str(pool_path), "cache_dir": str(tmp_path / "cache"), "cache_mode": mode, "samples": samples}
    return eval(task, model=f"router/{router_dir}", model_args=model_args, log_dir=str(tmp_path / "logs"), display="none")[0]


def test_router_vote_returns_majority_and_sums_cost(tmp_path, router_dir):
    answers = ScriptedAnswers({"apple": ["ANSWER: pear", "ANSWER: apple", "ANSWER: apple"]})
    with FakeOpenAIServer(answer=answers) as server:
        pool_path = write_pool(tmp_path / "pool.yaml", server.api_base, ["alpha", "beta"])

        log = vote_eval(tmp_path, pool_path, router_dir)

    assert log.status == "success"
    sample = log.samples[0]
    assert sample.output.completion == "ANSWER: apple"
    assert sample.scores["includes"].value == "C"
    assert sorted(sample.output.metadata["votes"]) == ["apple", "apple", "pear"]
    assert sample.output.metadata["agreement"] == 2
    assert sample.output.metadata["routed_to"] == "alpha"
    assert len(server.requests) == 3
    assert all(request["temperature"] == 0.7 for request in server.requests)
    # Three draws of two output tokens each, all priced at alpha's $1 / $2 per million tokens.
    usage = sample.output.usage
    assert usage.output_tokens == 6
    assert usage.input_tokens % 3 == 0
    assert sample.output.metadata["cost_usd"] == pytest.approx((usage.input_tokens * 1.0 + usage.output_tokens * 2.0) / 1e6)


def test_router_vote_replays_from_cache(tmp_path, router_dir):
    answers = ScriptedAnswers({"apple": ["ANSWER: pear", "ANSWER: apple", "ANSWER: apple"]})
    with FakeOpenAIServer(answer=answers) as server:
        pool_path = write_pool(tmp_path / "pool.yaml", server.api_base, ["alpha", "beta"])
        first = vote_eval(tmp_path, pool_path, router_dir)
        session.close_all()

        second = vote_eval(tmp_path, pool_path, router_dir, mode="replay")

    assert len(server.requests) == 3
    assert second.status == "success"
    assert second.samples[0].output.completion == first.samples[0].output.completion
    assert second.samples[0].output.metadata["votes"] == first.samples[0].output.metadata["votes"]
    assert second.samples[0].output.metadata["cost_usd"] == first.samples[0].output.metadata["cost_usd"]


@pytest.mark.parametrize("samples", [0, 2.5, "many"])
def test_router_vote_rejects_bad_sample_count(tmp_path, router_dir, samples):
    with FakeOpenAIServer() as server:
        pool_path = write_pool(tmp_path / "pool.yaml", server.api_base, ["alpha", "beta"])

        with pytest.raises(HarnessError, match=f"samples {samples!r} is invalid; pass a whole number >= 1"):
            vote_eval(tmp_path, pool_path, router_dir, samples=samples)

    assert server.requests == []


def test_router_vote_replay_miss_names_draw(tmp_path, router_dir):
    answers = ScriptedAnswers({"apple": ["ANSWER: apple"]})
    with FakeOpenAIServer(answer=answers) as server:
        pool_path = write_pool(tmp_path / "pool.yaml", server.api_base, ["alpha", "beta"])
        vote_eval(tmp_path, pool_path, router_dir, samples=3)
        session.close_all()

        log = vote_eval(tmp_path, pool_path, router_dir, mode="replay", samples=4)

    assert len(server.requests) == 3
    assert log.status == "error"
    assert "(vote draw 4) is not cached" in log.error.message
