"""A run killed with SIGKILL resumes without paying twice; two runs at once share one cache.

The fake server runs in its own process, so it outlives the killed run and
counts every request that reached it. Expected results come from a
fault-free run of the same command on its own cache.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from harness import session
from harness.cache import ResponseCache, request_key
from harness.cli import main as cli_main
from harness.gateway import GENERATION_PARAMS, Gateway
from harness.pool import load_pool
from tests.conftest import REPO_ROOT, write_pool
from tests.fake_openai import ExternalServer, FakeOpenAIServer, answer_entries, table_answer, write_benchmark_data

N_PER_BENCHMARK = 8
MODELS = ["science", "maths"]
N_CALLS = 2 * N_PER_BENCHMARK * len(MODELS)
MAX_CONCURRENCY = 2
# Result files that must match the fault-free run byte for byte.
COMPARED = ("summary.csv", "matrix.csv", "router_choices.csv", "alpha_sweep.csv", "failures.csv")


@pytest.fixture(autouse=True)
def fresh_session():
    session.close_all()
    yield
    session.close_all()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """Write the data, run a fault-free baseline in this process and start the external server."""
    root = tmp_path_factory.mktemp("resume")
    questions = write_benchmark_data(root / "data", N_PER_BENCHMARK)
    entries = answer_entries(questions, MODELS)

    with FakeOpenAIServer(table_answer(entries)) as local:
        pool_path = write_pool(root / "baseline-pool.yaml", local.api_base, MODELS, max_concurrency=MAX_CONCURRENCY)
        session.close_all()
        assert cli_main(run_args(root, pool_path, root / "baseline-cache", root / "baseline")) == 0
        session.close_all()
        assert len(local.requests) == N_CALLS

    # Each answer is delayed a little, so a kill can land between calls.
    server = ExternalServer(root / "server", {"answers": entries, "default": {"delay": 0.05}})
    server.start()
    pool_path = write_pool(root / "pool.yaml", server.api_base, MODELS, max_concurrency=MAX_CONCURRENCY)
    yield {"root": root, "pool": pool_path, "server": server, "baseline": root / "baseline" / "run"}
    server.stop()


def run_args(root: Path, pool_path: Path, cache_dir: Path, results_dir: Path) -> list[str]:
    return [
        "run", "--pool", str(pool_path), "--tasks", "arc_challenge", "gsm8k", "--all-samples",
        "--data-dir", str(root / "data"), "--cache-dir", str(cache_dir), "--results-dir", str(results_dir),
        "--run-name", "run", "--k", "2", "--display", "none",
    ]


def start_run(root: Path, pool_path: Path, cache_dir: Path, results_dir: Path, log_name: str) -> subprocess.Popen:
    log = (root / log_name).open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *run_args(root, pool_path, cache_dir, results_dir)],
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )


def cache_key_of(gateway: Gateway, body: dict) -> str:
    """Return the gateway's cache key of a request as the server received it."""
    model = gateway.pool.get(body["model"])
    params = {name: body[name] for name in GENERATION_PARAMS if name in body}
    return request_key(model.id, model.model, gateway.build_request(model, body["messages"], params))


def assert_same_results(run_dir: Path, baseline_dir: Path) -> None:
    for name in COMPARED:
        assert (run_dir / name).read_text() == (baseline_dir / name).read_text(), name
    matrix = pd.read_csv(run_dir / "matrix.csv")
    assert len(matrix) == N_CALLS
    assert not matrix.duplicated(subset=["benchmark", "sample_id", "model"]).any()


def test_killed_run_resumes_without_paying_twice(scenario):
    root, server = scenario["root"], scenario["server"]
    seed = int(os.environ.get("HARNESS_KILL_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    kill_after = rng.randint(1, N_CALLS)
    before = len(server.requests())

    process = start_run(root, scenario["pool"], root / "kill-cache", root / "kill", "killed.log")
    deadline = time.monotonic() + 120
    while len(server.requests()) - before < kill_after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.2))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    time.sleep(0.2)  # let requests already on the wire reach the server
    killed_requests = server.requests()[before:]

    gateway = Gateway(load_pool(scenario["pool"]), ResponseCache(root / "kill-cache", "replay"))
    cached = set(gateway.cache.keys())
    gateway.cache.close()
    assert all(ResponseCache(root / "kill-cache", "replay").get(key) is not None for key in cached)
    killed_keys = [cache_key_of(gateway, body) for body in killed_requests]
    lost = [key for key in killed_keys if key not in cached]
    context = f"seed {seed}: killed after {len(killed_requests)} requests, {len(cached)} cached"
    # Only answers in flight when the process died can be lost.
    assert len(lost) <= MAX_CONCURRENCY, context
    assert len(set(killed_keys)) == len(killed_keys), context

    assert cli_main(run_args(root, scenario["pool"], root / "kill-cache", root / "kill")) == 0, context
    resumed_keys = [cache_key_of(gateway, body) for body in server.requests()[before + len(killed_requests):]]

    assert not set(resumed_keys) & cached, context
    assert sorted(resumed_keys) == sorted(set(resumed_keys)), context
    assert set(lost) <= set(resumed_keys), context
    assert len(set(killed_keys) | set(resumed_keys)) == N_CALLS, context
    assert len(killed_keys) + len(resumed_keys) == N_CALLS + len(lost), context
    assert_same_results(root / "kill" / "run", scenario["baseline"])


def test_two_runs_share_one_cache(scenario):
    root, server = scenario["root"], scenario["server"]
    server.configure({"default": {"delay": 0.2}})
    before = len(server.requests())
    # The second run reaches the server under another path, so the server's
    # log tells the two processes apart; the cache key does not include it.
    other_pool = write_pool(root / "pool-b.yaml", server.api_base.replace("/v1", "/b/v1"), MODELS,
                            max_concurrency=MAX_CONCURRENCY)

    child = start_run(root, scenario["pool"], root / "shared-cache", root / "first", "first.log")
    try:
        deadline = time.monotonic() + 120
        while len(server.requests()) == before and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        code = cli_main(run_args(root, other_pool, root / "shared-cache", root / "second"))
        child_code = child.wait(timeout=300)
    finally:
        server.configure({"default": {"delay": 0.05}})
        if child.poll() is None:
            child.kill()

    assert (code, child_code) == (0, 0), (root / "first.log").read_text()[-3000:]
    assert_same_results(root / "first" / "run", scenario["baseline"])
    assert_same_results(root / "second" / "run", scenario["baseline"])
    times = {"a": [], "b": []}
    for line in server.log_path.read_text().splitlines()[-len(server.requests()) + before:]:
        record = json.loads(line)
        times["b" if record["path"].startswith("/b/") else "a"].append(record["time"])
    assert times["a"] and times["b"]
    assert max(min(times["a"]), min(times["b"])) < min(max(times["a"]), max(times["b"])), "the runs did not overlap"
    cache = ResponseCache(root / "shared-cache", "replay")
    keys = cache.keys()
    assert len(keys) == N_CALLS
    assert all(cache.get(key) is not None for key in keys)
    assert cache.stats.corrupt == 0
    # Each process pays at most once per request; with no lock between
    # processes both may pay for the same one.
    made = len(server.requests()) - before
    assert N_CALLS <= made <= 2 * N_CALLS
