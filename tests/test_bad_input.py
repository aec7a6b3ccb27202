"""Bad input gets one clear error that names the value and the fix, before any paid call.

Command-line inputs go through ``harness.cli.main`` and must exit with code 2
and one ``error:`` line on stderr. Router folders and results matrices are
read by library calls, so those are checked there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import session
from harness.cli import main as cli_main
from harness.errors import HarnessError
from tests.conftest import write_pool
from tests.fake_openai import write_benchmark_data


@pytest.fixture(autouse=True)
def fresh_session():
    session.close_all()
    yield
    session.close_all()


def run_cli(tmp_path: Path, capsys, *args: str) -> tuple[int, str]:
    """Run ``harness run`` with the given arguments and return (exit code, stderr)."""
    base = ["run", "--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache"),
            "--results-dir", str(tmp_path / "results"), "--display", "none"]
    code = cli_main([*base, *args])
    return code, capsys.readouterr().err


def assert_one_error(code: int, stderr: str, *fragments: str) -> None:
    assert code == 2
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


POOL_CASES = {
    "unknown-provider": (
        "name: p\nmodels:\n  - {id: a, model: nosuch/x, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        ["unknown provider 'nosuch'", "use a LiteLLM provider such as"],
    ),
    "duplicate-id": (
        "name: p\nmodels:\n"
        "  - {id: a, model: openai/x, price: {input_per_mtok: 1, output_per_mtok: 1}}\n"
        "  - {id: a, model: openai/y, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        ["model id 'a' is used twice", "give each model a unique 'id'"],
    ),
    "price-missing": (
        "name: p\nmodels:\n  - {id: a, model: openai/mystery-model}\n",
        ["price is missing", "'openai/mystery-model'", "add 'price: {input_per_mtok"],
    ),
    "negative-limit": (
        "name: p\nmodels:\n  - {id: a, model: openai/x, max_concurrency: -1, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        ["max_concurrency must be >= 1, got -1", "set it to 1 or more"],
    ),
    "yaml-syntax": (
        "name: p\nmodels:\n  - id: a\n    model: openai/x\n   price: 3\n",
        ["invalid YAML at line 5"],
    ),
    "unknown-field": (
        "name: p\nmodels:\n  - {id: a, model: openai/x, tempreature: 0.2, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        ["unknown field 'tempreature'", "allowed fields are:"],
    ),
}


@pytest.mark.parametrize("case", POOL_CASES, ids=list(POOL_CASES))
def test_invalid_pool_file(tmp_path, capsys, case):
    text, fragments = POOL_CASES[case]
    pool_path = tmp_path / "pool.yaml"
    pool_path.write_text(text)

    code, stderr = run_cli(tmp_path, capsys, "--pool", str(pool_path), "--tasks", "gsm8k")

    assert_one_error(code, stderr, str(pool_path), *fragments)
    assert not (tmp_path / "cache").exists()


def test_missing_pool_file(tmp_path, capsys):
    code, stderr = run_cli(tmp_path, capsys, "--pool", str(tmp_path / "nope.yaml"), "--tasks", "gsm8k")

    assert_one_error(code, stderr, "nope.yaml", "not found")


def test_unknown_task_name(tmp_path, capsys, fake_server):
    write_benchmark_data(tmp_path / "data", 3)
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    code, stderr = run_cli(tmp_path, capsys, "--pool", str(pool_path), "--tasks", "gsm8k", "gsm9k")

    assert_one_error(code, stderr, "gsm9k", "gsm8k")
    assert fake_server.requests == []


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_non_positive_limit(tmp_path, capsys, fake_server, limit):
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    code, stderr = run_cli(tmp_path, capsys, "--pool", str(pool_path), "--limit", limit)

    assert_one_error(code, stderr, f"--limit {limit} is invalid", "use a positive number")
    assert fake_server.requests == []


@pytest.mark.parametrize("alpha", ["1.5", "-0.1"])
def test_alpha_outside_unit_interval(tmp_path, capsys, fake_server, alpha):
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    code, stderr = run_cli(tmp_path, capsys, "--pool", str(pool_path), "--alpha", alpha)

    assert_one_error(code, stderr, f"--alpha {alpha} is outside [0, 1]")
    assert fake_server.requests == []


def test_zero_vote_samples_fails_before_calls(tmp_path, capsys, fake_server):
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    code, stderr = run_cli(tmp_path, capsys, "--pool", str(pool_path), "--vote-samples", "0")

    assert_one_error(code, stderr, "--vote-samples 0 is invalid", "use 1 (no vote) or more")
    assert fake_server.requests == []


def test_unknown_router_variant_fails_before_calls(tmp_path, capsys, fake_server):
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    code, stderr = run_cli(tmp_path, capsys, "--pool", str(pool_path), "--variant", "avengers")

    assert_one_error(code, stderr, "--variant 'avengers' is unknown", "avengers-pro, shrunk")
    assert fake_server.requests == []


def test_invalid_retry_variable(tmp_path, capsys, fake_server, monkeypatch):
    monkeypatch.setenv("HARNESS_BACKOFF_MAX", "ten")
    write_benchmark_data(tmp_path / "data", 3)
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    code, stderr = run_cli(tmp_path, capsys, "--pool", str(pool_path), "--tasks", "gsm8k")

    assert_one_error(code, stderr, "HARNESS_BACKOFF_MAX='ten' is invalid", "set it to a number")
    assert fake_server.requests == []


def test_preflight_names_missing_keys(tmp_path, fake_server, monkeypatch):
    from harness.cache import ResponseCache
    from harness.gateway import Gateway
    from harness.pool import load_pool

    monkeypatch.delenv("HARNESS_TEST_MISSING_KEY", raising=False)
    pool = load_pool(write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha", "beta"],
                                api_key_env="HARNESS_TEST_MISSING_KEY"))

    with pytest.raises(HarnessError, match=r"HARNESS_TEST_MISSING_KEY \(for alpha, beta\); set them or add them to .env"):
        Gateway(pool, ResponseCache(tmp_path / "cache")).preflight()
    Gateway(pool, ResponseCache(tmp_path / "cache", "replay")).preflight()


def test_missing_api_key_fails_before_calls(tmp_path, capsys, fake_server, monkeypatch):
    monkeypatch.delenv("HARNESS_TEST_MISSING_KEY", raising=False)
    write_benchmark_data(tmp_path / "data", 3)
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"], api_key_env="HARNESS_TEST_MISSING_KEY")

    code, stderr = run_cli(tmp_path, capsys, "--pool", str(pool_path), "--tasks", "gsm8k")

    assert_one_error(code, stderr, "HARNESS_TEST_MISSING_KEY", "set them or add them to .env")
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").rglob("*.eval"))


# Router folders: from another pool or embedder, with a missing or changed file.


@pytest.fixture
def router_folder(tmp_path) -> Path:
    from harness.router import ClusterRouter, save_router

    rng = np.random.default_rng(1)
    embeddings = rng.normal(size=(24, 8)).astype(np.float32)
    scores = rng.integers(0, 2, size=(24, 2)).astype(float)
    costs = np.full((24, 2), 0.002)
    router = ClusterRouter(k=2, embedder_name="embedder-one").fit(embeddings, scores, costs, ["small", "large"])
    return save_router(router, tmp_path / "router")


def test_router_from_another_pool(router_folder):
    from harness.router import load_router

    router = load_router(router_folder)

    with pytest.raises(HarnessError, match="missing from the pool: large; not known to the router: medium; refit the router"):
        router.check_compatible(["small", "medium"], "embedder-one")


def test_router_from_another_embedder(router_folder):
    from harness.router import load_router

    router = load_router(router_folder)

    with pytest.raises(HarnessError, match="fitted with embedder 'embedder-one' but 'embedder-two' was given"):
        router.check_compatible(["small", "large"], "embedder-two")


@pytest.mark.parametrize("name", ["router.json", "arrays.npz", "manifest.json"])
def test_router_with_missing_file(router_folder, name):
    from harness.router import load_router

    (router_folder / name).unlink()

    with pytest.raises(HarnessError, match=f"missing file {name}; save the router again"):
        load_router(router_folder)


def test_router_with_changed_file(router_folder):
    from harness.router import load_router

    config = json.loads((router_folder / "router.json").read_text())
    config["model_ids"] = ["large", "small"]
    (router_folder / "router.json").write_text(json.dumps(config))

    with pytest.raises(HarnessError, match="router.json does not match its SHA-256 digest .*refit or restore"):
        load_router(router_folder)


def test_router_with_changed_arrays(router_folder):
    from harness.router import load_router

    data = bytearray((router_folder / "arrays.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (router_folder / "arrays.npz").write_bytes(bytes(data))
    assert hashlib.sha256(bytes(data)).hexdigest() not in (router_folder / "manifest.json").read_text()

    with pytest.raises(HarnessError, match="arrays.npz does not match its SHA-256 digest"):
        load_router(router_folder)


# Results matrices.

GOOD_ROWS = [
    {"sample_id": "q1", "benchmark": "gsm8k", "prompt": "1+1?", "model": "small", "score": 1.0, "cost": 0.001},
    {"sample_id": "q1", "benchmark": "gsm8k", "prompt": "1+1?", "model": "large", "score": 0.0, "cost": 0.002},
]


def test_matrix_with_missing_column(tmp_path):
    from harness.matrix import read_matrix

    path = tmp_path / "matrix.csv"
    pd.DataFrame(GOOD_ROWS).drop(columns=["cost"]).to_csv(path, index=False)

    with pytest.raises(HarnessError, match=r"missing column\(s\) cost; a matrix needs sample_id, benchmark"):
        read_matrix(path)


@pytest.mark.parametrize("score", [1.5, -0.25])
def test_matrix_with_score_outside_unit_interval(tmp_path, score):
    from harness.matrix import read_matrix

    rows = [dict(row) for row in GOOD_ROWS]
    rows[1]["score"] = score
    path = tmp_path / "matrix.csv"
    pd.DataFrame(rows).to_csv(path, index=False)

    with pytest.raises(HarnessError, match=rf"'score' must be in \[0, 1\], found {score} in row 1 \(sample 'q1', model 'large'\)"):
        read_matrix(path)
