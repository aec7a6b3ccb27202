"""Tests of the llama.cpp server manager; the ``llama`` tests start a real server with SmolLM2."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import harness  # noqa: F401  (offline litellm flag before litellm loads)
from harness import local_server
from harness.errors import HarnessError
from harness.local_server import LlamaServer, check_port_free, ensure_local_server
from harness.pool import parse_pool
from harness.weights import model_status

SMOLLM = "smollm2-135m-instruct-q4_1"
SHORT_NAMES = {SMOLLM: "smollm2-135m", "gemma-3-270m-q4_k_m": "gemma-3-270m"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_pool(port: int, *weights: str):
    """Build a pool that serves each registry name under its short name (the part before ``-instruct``/``-q4``)."""
    models = [
        {
            "id": SHORT_NAMES[name],
            "model": f"openai/{SHORT_NAMES[name]}",
            "weights": name,
            "price": {"input_per_mtok": 0.01, "output_per_mtok": 0.02},
        }
        for name in weights
    ]
    server = {"port": port, "n_ctx": 1024, "n_threads": 2, "startup_timeout": 120}
    return parse_pool({"name": "test", "server": server, "models": models}, Path("test-pool.yaml"))


@pytest.fixture
def fake_weights(tmp_path, monkeypatch):
    """Make every registry name resolve to a placeholder file, so no GGUF is needed."""
    placeholder = tmp_path / "placeholder.gguf"
    placeholder.write_bytes(b"not a gguf file")
    monkeypatch.setattr(local_server, "gguf_path", lambda name, dest=None: placeholder)
    return placeholder


def test_config_lists_pool_models(fake_weights):
    pool = make_pool(8123, SMOLLM, "gemma-3-270m-q4_k_m")
    config = LlamaServer(pool).build_config()

    assert config["host"] == "127.0.0.1"
    assert config["port"] == 8123
    assert [entry["model_alias"] for entry in config["models"]] == ["smollm2-135m", "gemma-3-270m"]
    assert all(entry["model"] == str(fake_weights) for entry in config["models"])
    assert all(entry["n_ctx"] == 1024 and entry["n_threads"] == 2 for entry in config["models"])
    assert "chat_format" not in config["models"][0]
    assert config["models"][1]["chat_format"] == "gemma"


def test_port_in_use_names_port_and_field(fake_weights, tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        server = LlamaServer(make_pool(port, SMOLLM), log_dir=tmp_path / "logs")

        with pytest.raises(HarnessError) as caught:
            server.start()

    message = str(caught.value)
    assert f"port {port} on 127.0.0.1 is already in use" in message
    assert "server.port in test-pool.yaml" in message
    assert server.process is None


def test_missing_weights_names_pull_command(tmp_path):
    server = LlamaServer(make_pool(free_port(), SMOLLM), models_dir=tmp_path)

    with pytest.raises(HarnessError, match=f"run `harness models pull --models {SMOLLM}`"):
        server.start()


def test_pool_without_server_rejected():
    pool = parse_pool(
        {"name": "api", "models": [{"id": "a", "model": "openai/gpt-4o-mini"}]}, Path("api.yaml")
    )

    with pytest.raises(HarnessError, match="has no 'server' section"):
        LlamaServer(pool)
    with ensure_local_server(pool) as server:
        assert server is None


def test_duplicate_served_name_rejected(fake_weights):
    data = {
        "name": "dup",
        "server": {"port": 8124},
        "defaults": {"price": {"input_per_mtok": 0.0, "output_per_mtok": 0.0}},
        "models": [
            {"id": "a", "model": "openai/same", "weights": SMOLLM},
            {"id": "b", "model": "openai/same", "weights": "gemma-3-270m-q4_k_m"},
        ],
    }
    server = LlamaServer(parse_pool(data, Path("dup.yaml")))

    with pytest.raises(HarnessError, match="both served as 'same'"):
        server.build_config()


def test_child_environment_drops_overrides(fake_weights, tmp_path, monkeypatch):
    """CONFIG_FILE, HOST and PORT would override the config file inside llama_cpp.server."""
    seen: dict = {}

    class Stopped(Exception):
        pass

    def fake_popen(command, **kwargs):
        seen["command"] = command
        seen["env"] = kwargs["env"]
        raise Stopped

    monkeypatch.setenv("PORT", "1")
    monkeypatch.setenv("CONFIG_FILE", "/elsewhere.json")
    monkeypatch.setattr(local_server.subprocess, "Popen", fake_popen)
    with pytest.raises(Stopped):
        LlamaServer(make_pool(free_port(), SMOLLM), log_dir=tmp_path).start()

    assert "PORT" not in seen["env"]
    assert "CONFIG_FILE" not in seen["env"]
    assert seen["command"][1:4] == ["-m", "harness._llama_child", "--config_file"]
    assert json.loads(Path(seen["command"][4]).read_text())["host"] == "127.0.0.1"


def fake_interpreter(tmp_path: Path, body: str) -> str:
    """Write a shell script that ignores its arguments and runs ``body``; return its path."""
    script = tmp_path / "fake-python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize("body", ["exec sleep 30", "trap '' TERM; exec sleep 30"], ids=["stops-on-term", "ignores-term"])
def test_startup_timeout_stops_process(fake_weights, tmp_path, monkeypatch, body):
    monkeypatch.setattr(local_server.sys, "executable", fake_interpreter(tmp_path, body))
    monkeypatch.setattr(local_server, "STOP_GRACE", 0.5)
    data = {
        "name": "slow",
        "server": {"port": free_port(), "startup_timeout": 1},
        "models": [{"id": "s", "model": "openai/s", "weights": SMOLLM, "price": {"input_per_mtok": 0, "output_per_mtok": 0}}],
    }
    server = LlamaServer(parse_pool(data, Path("slow.yaml")), log_dir=tmp_path / "logs")
    spawned = []
    original_popen = local_server.subprocess.Popen

    def recording_popen(*args, **kwargs):
        spawned.append(original_popen(*args, **kwargs))
        return spawned[-1]

    monkeypatch.setattr(local_server.subprocess, "Popen", recording_popen)

    with pytest.raises(HarnessError, match="did not respond to .* within 1 s; raise server.startup_timeout"):
        server.start()

    assert len(spawned) == 1
    assert spawned[0].poll() is not None
    assert server.process is None


needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama_cpp is not importable; install llama-cpp-python[server]",
)
needs_smollm = pytest.mark.skipif(
    model_status(SMOLLM) == "missing", reason=f"SmolLM2 weights are absent; run `harness models pull --models {SMOLLM}`"
)


@pytest.mark.llama
@needs_llama
@needs_smollm
async def test_chat_completion_through_litellm(tmp_path):
    import litellm

    port = free_port()
    log_dir = tmp_path / "logs"
    with LlamaServer(make_pool(port, SMOLLM), log_dir=log_dir) as server:
        assert server.api_base == f"http://127.0.0.1:{port}/v1"
        response = await litellm.acompletion(
            model="openai/smollm2-135m",
            api_base=server.api_base,
            api_key="none",
            messages=[{"role": "user", "content": "Name one color."}],
            max_tokens=8,
            temperature=0.0,
            num_retries=0,
        )
        process = server.process

    assert response.choices[0].message.content.strip()
    assert 0 < response.usage.completion_tokens <= 8
    assert response.usage.prompt_tokens > 0
    assert process is not None and process.poll() is not None
    assert server.process is None
    check_port_free("127.0.0.1", port, make_pool(port, SMOLLM))
    assert "POST /v1/chat/completions" in (log_dir / f"llama-server-{port}.log").read_text()


@pytest.mark.llama
@needs_llama
def test_early_exit_reports_log_tail(fake_weights, tmp_path):
    server = LlamaServer(make_pool(free_port(), SMOLLM), log_dir=tmp_path / "logs")

    with pytest.raises(HarnessError) as caught:
        server.start()

    message = str(caught.value)
    assert "exited with code" in message
    assert f"Failed to load model from file: {fake_weights}" in message
    assert server.process is None



@pytest.mark.llama
@needs_llama
@needs_smollm
def test_server_exits_when_harness_is_killed(tmp_path):
    port = free_port()
    script = (
        "import sys, time\n"
        "from tests.test_local_server import make_pool, SMOLLM\n"
        "from harness.local_server import LlamaServer\n"
        f"server = LlamaServer(make_pool({port}, SMOLLM), log_dir={str(tmp_path)!r})\n"
        "server.start()\n"
        "print(server.process.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    harness_process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1]
    )
    server_pid = int(harness_process.stdout.readline())

    harness_process.kill()
    harness_process.wait(timeout=10)

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and Path(f"/proc/{server_pid}").exists():
        time.sleep(0.5)
    assert not Path(f"/proc/{server_pid}").exists() or "Z" in Path(f"/proc/{server_pid}/stat").read_text().split()[2]
    check_port_free("127.0.0.1", port, make_pool(port, SMOLLM))
