"""Secrets stay out of every file a run writes; caches and router folders load without running code."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from pathlib import Path

import diskcache
import numpy as np
import pytest

from harness import session
from harness.cache import ResponseCache
from harness.cli import main as cli_main
from harness.errors import HarnessError
from harness.gateway import Gateway
from harness.pool import load_pool
from tests.conftest import write_pool
from tests.fake_openai import FakeOpenAIServer, answer_entries, table_answer, write_benchmark_data

SECRET = "sk-fake-7f3a9c-DO-NOT-LEAK-4242-harness"
KEY_ENV = "HARNESS_TEST_PROVIDER_KEY"


@pytest.fixture(autouse=True)
def fresh_session():
    session.close_all()
    yield
    session.close_all()


def files_containing(root: Path, needle: str) -> list[str]:
    """Return every file under ``root`` whose bytes contain ``needle``, looking inside zip archives too.

    inspect-ai writes its ``.eval`` logs as compressed zip archives, where a
    plain search of the file's bytes would miss the text.
    """
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if needle.encode() in path.read_bytes():
            found.append(str(path))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if needle.encode() in archive.read(member):
                        found.append(f"{path}!{member}")
    return found


def test_search_looks_inside_eval_archives(tmp_path):
    with zipfile.ZipFile(tmp_path / "log.eval", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("samples/1.json", json.dumps({"error": f"key {SECRET}"}))

    assert files_containing(tmp_path, SECRET) == [f"{tmp_path / 'log.eval'}!samples/1.json"]


def run_cli(tmp_path: Path, pool_path: Path, capsys, *extra: str) -> tuple[int, str]:
    code = cli_main(
        [
            "run", "--pool", str(pool_path), "--tasks", "arc_challenge", "gsm8k", "--all-samples",
            "--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache"),
            "--results-dir", str(tmp_path / "results"), "--run-name", "keyed", "--k", "2", "--display", "none",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_api_key_reaches_server_and_no_file(tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.setenv(KEY_ENV, SECRET)
    monkeypatch.setenv("HARNESS_SERVER_LOG_DIR", str(tmp_path / "server-logs"))
    questions = write_benchmark_data(tmp_path / "data", 6)
    server_log = tmp_path / "server-logs" / "fake-openai.jsonl"
    server_log.parent.mkdir()
    with FakeOpenAIServer(
        table_answer(answer_entries(questions, ["science", "maths"])), required_key=SECRET, log_path=server_log
    ) as server:
        pool_path = write_pool(tmp_path / "pool.yaml", server.api_base, ["science", "maths"], api_key_env=KEY_ENV)
        with caplog.at_level(logging.DEBUG):
            code, output = run_cli(tmp_path, pool_path, capsys)

    assert code == 0, output
    assert len(server.requests) == 24
    assert server.auth_failures == 0
    assert all({k.lower(): v for k, v in h.items()}["authorization"] == f"Bearer {SECRET}" for h in server.headers_seen)
    assert (tmp_path / "results" / "keyed" / "summary.csv").is_file()
    assert list((tmp_path / "results" / "keyed" / "logs").glob("*.eval"))
    assert server_log.stat().st_size > 0
    assert files_containing(tmp_path, SECRET) == []
    assert SECRET not in output
    assert SECRET not in caplog.text


def test_rejected_key_stays_out_of_errors(tmp_path, monkeypatch, capsys, caplog):
    # The server echoes the key it received in its 401 message, as some
    # providers do; the harness must not copy it into messages or files.
    monkeypatch.setenv(KEY_ENV, SECRET)
    monkeypatch.setenv("HARNESS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("HARNESS_BACKOFF_INITIAL", "0.01")
    questions = write_benchmark_data(tmp_path / "data", 3)
    server_log = tmp_path / "fake-openai.jsonl"
    with FakeOpenAIServer(
        table_answer(answer_entries(questions, ["science"])), required_key="sk-the-right-key", log_path=server_log
    ) as server:
        pool_path = write_pool(tmp_path / "pool.yaml", server.api_base, ["science"], api_key_env=KEY_ENV)
        with caplog.at_level(logging.DEBUG):
            code, output = run_cli(tmp_path, pool_path, capsys)

    assert code == 2
    assert "no calibration results" in output
    # 401 is final: one request per sample, no retries.
    assert len(server.requests) == 6
    assert server.auth_failures == 6
    logs = list((tmp_path / "results" / "keyed" / "logs").glob("*.eval"))
    assert logs
    from inspect_ai.log import read_eval_log

    errors = [sample.error.message for log in logs for sample in read_eval_log(str(log)).samples]
    assert len(errors) == 6
    assert all("AuthenticationError" in message and "[redacted]" in message for message in errors)
    assert all(f"check the API key in the environment variable {KEY_ENV}" in message for message in errors)
    assert files_containing(tmp_path, SECRET) == []
    assert SECRET not in output
    assert SECRET not in caplog.text


async def test_missing_key_names_variable_not_value(tmp_path, fake_server, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    pool = load_pool(write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"], api_key_env=KEY_ENV))
    gateway = Gateway(pool, ResponseCache(tmp_path / "cache"), max_attempts=1)

    with pytest.raises(HarnessError, match=f"needs an API key in the environment variable {KEY_ENV}"):
        await gateway.complete("alpha", [{"role": "user", "content": "hi"}])

    assert fake_server.requests == []


class _Marker:
    """Pickles to a call that creates a file: proof that unpickling ran code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.mark.parametrize("size", ["small", "large"])
def test_pickled_cache_row_is_refused(tmp_path, caplog, size):
    marker = tmp_path / "code-ran"
    key = "c" * 64
    value = _Marker(marker) if size == "small" else [_Marker(marker), "x" * 40000]
    plain = diskcache.Cache(str(tmp_path / "cache"))
    plain.set(key, value)
    plain.close()
    assert not marker.exists()

    cache = ResponseCache(tmp_path / "cache", mode="replay")
    with caplog.at_level(logging.WARNING, logger="harness.cache"):
        loaded = cache.get(key)

    assert loaded is None
    assert not marker.exists()
    assert f"damaged cache entry {key}" in caplog.text
    assert "pickled" in caplog.text


def test_pickled_cache_key_is_skipped(tmp_path):
    marker = tmp_path / "code-ran"
    plain = diskcache.Cache(str(tmp_path / "cache"))
    plain.set((_Marker(marker), "tuple key"), "value")
    plain.set("d" * 64, "value")
    plain.close()

    cache = ResponseCache(tmp_path / "cache", mode="replay")

    assert cache.keys() == ["d" * 64]
    assert not marker.exists()


def test_cache_stores_text_only(tmp_path):
    cache = ResponseCache(tmp_path / "cache")

    with pytest.raises(TypeError, match="JSON text only"):
        cache._cache.set("e" * 64, {"an": "object"})


def fitted_router_folder(tmp_path: Path) -> Path:
    from harness.router import ClusterRouter, save_router

    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(20, 8)).astype(np.float32)
    scores = rng.integers(0, 2, size=(20, 2)).astype(float)
    costs = np.full((20, 2), 0.001)
    router = ClusterRouter(k=2, embedder_name="test-embedder").fit(embeddings, scores, costs, ["a", "b"])
    return save_router(router, tmp_path / "router")


def test_router_arrays_with_objects_are_refused(tmp_path):
    from harness.router import load_router

    folder = fitted_router_folder(tmp_path)
    marker = tmp_path / "code-ran"
    with np.load(folder / "arrays.npz") as data:
        arrays = {name: data[name] for name in data.files}
    arrays["cluster_sizes"] = np.array([_Marker(marker), 1], dtype=object)
    with (folder / "arrays.npz").open("wb") as handle:
        np.savez(handle, **arrays)
    # Someone who can write the folder can rewrite the manifest, so the
    # loader must refuse objects even when the digests match.
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["arrays.npz"] = hashlib.sha256((folder / "arrays.npz").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(HarnessError, match="arrays.npz could not be read"):
        load_router(folder)

    assert not marker.exists()


def test_local_server_binds_loopback_only(tmp_path, monkeypatch):
    from harness import local_server
    from harness.local_server import LlamaServer

    # The server config names the weights file; a stand-in path avoids pulling it.
    monkeypatch.setattr(local_server, "gguf_path", lambda name, folder=None: tmp_path / f"{name}.gguf")

    path = tmp_path / "pool.yaml"
    path.write_text(
        "name: p\nserver: {host: localhost, port: 8123}\nmodels:\n"
        "  - {id: a, model: openai/a, weights: smollm2-135m-instruct-q4_1, price: {input_per_mtok: 1, output_per_mtok: 1}}\n"
    )
    pool = load_pool(path)

    assert pool.server.host == "127.0.0.1"
    assert pool.models[0].api_base == "http://127.0.0.1:8123/v1"
    assert LlamaServer(pool, models_dir=tmp_path).build_config()["host"] == "127.0.0.1"
    path.write_text(path.read_text().replace("localhost", "0.0.0.0"))
    with pytest.raises(HarnessError, match="server host '0.0.0.0' is not allowed; the local server binds to 127.0.0.1 only"):
        load_pool(path)


def test_request_key_holds_no_credentials(tmp_path, fake_server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    pool = load_pool(write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"], api_key_env=KEY_ENV))
    gateway = Gateway(pool, ResponseCache(tmp_path / "cache"))

    request = gateway.build_request(pool.models[0], [{"role": "user", "content": "hi"}], {})

    assert SECRET not in json.dumps(request)
    assert fake_server.api_base not in json.dumps(request)
    assert os.environ[KEY_ENV] == SECRET
