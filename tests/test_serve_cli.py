"""The ``harness serve`` command in a child process: start-up, one request, clean stop, start-up errors."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from harness.cli import main
from harness.router import ClusterRouter, save_router
from tests.conftest import REPO_ROOT, write_pool

MODELS = ["small", "large"]
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/v1")


@pytest.fixture
def router_dir(tmp_path) -> Path:
    # Random unit vectors of the encoder's width: routing is arbitrary but valid.
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(40, 384)).astype(np.float32)
    scores = rng.integers(0, 2, size=(40, 2)).astype(float)
    costs = np.tile([1e-6, 1e-4], (40, 1))
    router = ClusterRouter(k=3, top_p=1, min_cluster_size=1).fit(embeddings, scores, costs, MODELS)
    return save_router(router, tmp_path / "router")


def start_serve(args: list[str]) -> tuple[subprocess.Popen, "queue.Queue[str]"]:
    process = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", *args], cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: "queue.Queue[str]" = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines


def wait_for_port(process: subprocess.Popen, lines: "queue.Queue[str]", timeout: float = 120.0) -> int:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = LISTENING.search(line)
        if match:
            return int(match.group(1))
    process.kill()
    raise AssertionError("harness serve did not report its port; output:\n" + "".join(seen))


def test_serve_command_round_trip(tmp_path, fake_server, router_dir):
    pool = write_pool(tmp_path / "pool.yaml", fake_server.api_base, MODELS)
    process, lines = start_serve(["--router", str(router_dir), "--pool", str(pool), "--port", "0",
                                  "--cache-dir", str(tmp_path / "cache")])
    try:
        port = wait_for_port(process, lines)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                break
            time.sleep(0.1)

        response = httpx.post(f"{base}/v1/chat/completions", timeout=30,
                              json={"model": "router", "messages": [{"role": "user", "content": "Hello there"}]})
    finally:
        process.send_signal(signal.SIGINT)
        exit_code = process.wait(timeout=30)

    assert response.status_code == 200
    served = response.headers["x-routed-model"]
    assert served in MODELS
    assert response.json()["model"] == served
    assert response.json()["choices"][0]["message"]["content"] == f"{served} says: Hello there"
    assert exit_code == 0
    output = "".join(lines.queue)
    assert f"served={served}" in output
    assert "Hello there" not in output


def test_serve_command_missing_router(tmp_path, fake_server, capsys):
    pool = write_pool(tmp_path / "pool.yaml", fake_server.api_base, MODELS)

    # --embed-threads 0 keeps this pytest process's torch thread count.
    exit_code = main(["serve", "--router", str(tmp_path / "absent"), "--pool", str(pool), "--port", "0",
                      "--embed-threads", "0"])

    assert exit_code == 2
    assert "router folder not found" in capsys.readouterr().err


def test_serve_command_name_clash(tmp_path, fake_server, router_dir, capsys):
    pool = write_pool(tmp_path / "pool.yaml", fake_server.api_base, MODELS)

    exit_code = main(["serve", "--router", str(router_dir), "--pool", str(pool), "--router-name", "small",
                      "--cache-dir", str(tmp_path / "cache"), "--embed-threads", "0"])

    assert exit_code == 2
    assert "router name 'small' is also a model id" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [("--port", "70000"), ("--max-body-bytes", "10"),
                                               ("--max-embed-batch", "0"), ("--embedding-cache-size", "-1"),
                                               ("--embed-threads", "-1")])
def test_serve_command_invalid_option(tmp_path, router_dir, option, value, capsys):
    exit_code = main(["serve", "--router", str(router_dir), option, value])

    assert exit_code == 2
    assert option in capsys.readouterr().err
