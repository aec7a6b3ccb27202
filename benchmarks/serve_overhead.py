"""Measure the latency that ``harness serve`` adds over calling the chosen model through the gateway.

Run from the repository root:

    python benchmarks/serve_overhead.py --concurrency 1 8 32 --out results/bench/serve_overhead.json

Set-up: the fake OpenAI server of the tests responds to every call after a
fixed delay (``--delay``, default 50 ms) in its own process. A router
(k = 30, 3 models, fitted on random unit vectors) is served by the real
application and uvicorn in a child process. For each number of concurrent
clients, the same distinct short prompts are sent three ways:

- ``direct``: ``Gateway.complete`` in this process, on the model that the
  router chose for that prompt (the floor: one LiteLLM call plus the delay);
- ``serve, pool model``: HTTP to the server naming that model (adds HTTP,
  FastAPI and request parsing, no routing);
- ``serve, router``: HTTP to the server naming the router (adds the
  embedding and the routing decision too).

The response cache is off, so every request reaches the fake server.
``--embedding`` selects how the server encodes queries: ``batched`` (the
server's queue, where queries that arrive during a forward pass share the
next one) or ``per-request`` (each request encodes alone on a worker
thread, the design before the queue).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402,F401  (offline litellm flag first)

from routing_latency import machine_info, percentiles_ms  # noqa: E402

logger = logging.getLogger("benchmarks.serve_overhead")

MODELS = ["small", "medium", "large"]
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/v1")


# ------------------------------------------------------------------ child processes


class PerRequestEncoder:
    """Encode each query alone on the default thread pool: the design that the batching queue replaced."""

    def __init__(self, encode) -> None:
        self._encode = encode

    def cached(self, text: str) -> None:
        return None

    def encode_now(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    async def encode(self, text: str) -> np.ndarray:
        return (await asyncio.to_thread(self._encode, [text]))[0]

    async def aclose(self) -> None:
        return None


def run_child_server(router_dir: str, pool: str, embedding: str, threads: int | None) -> None:
    """Serve the router on a free port until terminated, printing the port first."""
    import torch
    import uvicorn

    from harness.cache import ResponseCache
    from harness.embedding import get_embedder
    from harness.gateway import Gateway
    from harness.pool import load_pool
    from harness.router import load_router
    from harness.serve import EmbeddingBatcher, RouterService, create_app
    from harness.serve.server import bind_socket

    # The per-request log lines go to a file, as a deployment would keep them, not through the parent's pipe.
    logging.basicConfig(level=logging.INFO, filename=str(Path(router_dir).parent / "serve.log"),
                        format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("LiteLLM", "litellm", "httpx", "httpcore", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if threads is not None:
        torch.set_num_threads(threads)
    router = load_router(router_dir)
    gateway = Gateway(load_pool(pool), ResponseCache(tempfile.mkdtemp(), "off"), max_attempts=1)
    embedder = get_embedder(router.embedder_name)
    if embedding == "per-request":
        batcher: Any = PerRequestEncoder(embedder.encode)
    else:
        batcher = EmbeddingBatcher(embedder.encode, max_batch=32, cache_size=0)
    service = RouterService(router, gateway, batcher=batcher)
    service.warm_up()
    import importlib.util

    implementations = {
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "torch_threads": torch.get_num_threads(),
    }
    print(f"server-info {json.dumps(implementations)}", flush=True)
    sock = bind_socket("127.0.0.1", 0)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(service), log_config=None, access_log=False))
    server.run(sockets=[sock])


def run_child_upstream(delay: float) -> None:
    """Run the fake OpenAI server with a fixed delay until killed."""
    from tests.fake_openai import FakeOpenAIServer

    server = FakeOpenAIServer()
    # The fake writes the headers and the body of a response in two sends. With
    # Nagle's algorithm on, the second send waits for the client's delayed ACK,
    # which added about 14 ms per call in one measurement on the 2-core machine.
    server._server.RequestHandlerClass.disable_nagle_algorithm = True
    server.start()
    server.default = {"delay": delay}
    print(f"listening on http://127.0.0.1:{server.port}/v1", flush=True)
    threading.Event().wait()


class Child:
    """A child process of this script, stopped on exit."""

    def __init__(self, args: list[str], extra_path: str | None = None) -> None:
        env = dict(os.environ)
        if extra_path:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra_path, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen([sys.executable, __file__, *args], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=env)
        self.seen: list[str] = []
        self.lines: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.port = self._wait_for_port()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _wait_for_port(self, timeout: float = 300.0) -> int:
        seen = self.seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line)
            match = LISTENING.search(line)
            if match:
                return int(match.group(1))
        self.process.kill()
        raise RuntimeError("child process did not report its port:\n" + "".join(seen))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


# ------------------------------------------------------------------ clients


def prompt(i: int) -> str:
    """Return a distinct short question, so neither cache can serve it."""
    topics = ["algebra", "rivers", "poetry", "enzymes", "tax law", "chess", "volcanoes", "jazz"]
    return f"Request {i}: give one fact about {topics[i % len(topics)]} number {i * 7919 % 1000}."


async def run_clients(concurrency: int, count: int, call) -> tuple[list[float], float]:
    """Run ``count`` calls from ``concurrency`` workers; return per-call seconds and the wall time."""
    next_index = iter(range(count))
    durations: list[float] = [0.0] * count

    async def worker() -> None:
        for i in next_index:
            started = time.perf_counter()
            await call(i)
            durations[i] = time.perf_counter() - started

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return durations, time.perf_counter() - started


async def measure_level(base_url: str, gateway, concurrency: int, count: int, offset: int) -> list[dict[str, Any]]:
    """Time the three paths at one concurrency; prompts ``offset .. offset + count`` are used by all three."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    routed: dict[int, str] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:

        async def via_router(i: int) -> None:
            response = await client.post("/chat/completions", json={
                "model": "router", "messages": [{"role": "user", "content": prompt(offset + i)}]})
            response.raise_for_status()
            routed[i] = response.headers["x-routed-model"]

        async def via_pool_model(i: int) -> None:
            response = await client.post("/chat/completions", json={
                "model": routed[i], "messages": [{"role": "user", "content": prompt(offset + i)}]})
            response.raise_for_status()

        async def direct(i: int) -> None:
            await gateway.complete(routed[i], [{"role": "user", "content": prompt(offset + i)}])

        # Warm connections and code paths on prompts outside the measured range.
        for i in range(count, count + 2 * concurrency):
            routed[i] = MODELS[i % len(MODELS)]
        await run_clients(concurrency, 2 * concurrency, lambda i: via_pool_model(count + i))
        await run_clients(concurrency, 2 * concurrency, lambda i: direct(count + i))

        rows = []
        for name, call in (("serve, router", via_router), ("serve, pool model", via_pool_model),
                           ("direct", direct)):
            durations, wall = await run_clients(concurrency, count, call)
            rows.append({"path": name, "concurrency": concurrency, **percentiles_ms(durations),
                         "throughput_rps": round(count / wall, 1)})
            logger.info("%s", rows[-1])
    return rows


def fit_router(folder: Path) -> None:
    """Save a router of realistic size fitted on random unit vectors of the encoder's width (384)."""
    from harness.router import ClusterRouter, save_router

    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(2000, 384)).astype(np.float32)
    scores = rng.integers(0, 2, size=(2000, len(MODELS))).astype(float)
    costs = np.tile([1e-6, 1e-5, 1e-4], (2000, 1))
    router = ClusterRouter(k=30, top_p=2, n_init=1).fit(embeddings, scores, costs, MODELS)
    save_router(router, folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32], help="concurrent clients")
    parser.add_argument("--requests", type=int, default=160, help="timed requests per path and concurrency")
    parser.add_argument("--delay", type=float, default=0.05, help="fake upstream delay in seconds (default 0.05)")
    parser.add_argument("--embedding", choices=["batched", "per-request"], default="batched",
                        help="how the server encodes queries")
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the server (default: torch's)")
    parser.add_argument("--server-path", default=None,
                        help="folder put first on the server's PYTHONPATH, to try packages such as uvloop")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON to this file")
    parser.add_argument("--child", choices=["serve", "upstream"], help=argparse.SUPPRESS)
    parser.add_argument("--router-dir", help=argparse.SUPPRESS)
    parser.add_argument("--pool", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "upstream":
        run_child_upstream(args.delay)
        return 0
    if args.child == "serve":
        run_child_server(args.router_dir, args.pool, args.embedding, args.threads)
        return 0

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("LiteLLM", "litellm", "httpx", "httpcore", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from harness.cache import ResponseCache
    from harness.gateway import Gateway
    from harness.pool import load_pool
    from tests.conftest import write_pool

    info = machine_info()
    work = Path(tempfile.mkdtemp(prefix="serve-overhead-"))
    fit_router(work / "router")
    upstream = Child(["--child", "upstream", "--delay", str(args.delay)])
    server = None
    try:
        pool_path = write_pool(work / "pool.yaml", f"http://127.0.0.1:{upstream.port}/v1", MODELS,
                               max_concurrency=256, timeout=60)
        child_args = ["--child", "serve", "--router-dir", str(work / "router"), "--pool", str(pool_path),
                      "--embedding", args.embedding]
        if args.threads is not None:
            child_args += ["--threads", str(args.threads)]
        server = Child(child_args, extra_path=args.server_path)
        server_info = next((json.loads(line.split(" ", 1)[1]) for line in server.seen
                            if line.startswith("server-info ")), {})
        gateway = Gateway(load_pool(pool_path), ResponseCache(work / "cache", "off"), max_attempts=1)
        rows: list[dict[str, Any]] = []
        offset = 0
        for concurrency in args.concurrency:
            rows.extend(asyncio.run(measure_level(f"http://127.0.0.1:{server.port}/v1", gateway, concurrency,
                                                  args.requests, offset)))
            offset += args.requests + 4 * concurrency
    finally:
        if server is not None:
            server.stop()
        upstream.stop()

    for concurrency in args.concurrency:
        level = {row["path"]: row for row in rows if row["concurrency"] == concurrency}
        for path in ("serve, router", "serve, pool model"):
            level[path]["added_p50_ms"] = round(level[path]["p50_ms"] - level["direct"]["p50_ms"], 3)
            level[path]["added_p99_ms"] = round(level[path]["p99_ms"] - level["direct"]["p99_ms"], 3)
    info["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    settings = {"delay_s": args.delay, "embedding": args.embedding, "threads": args.threads,
                "requests": args.requests, "server": server_info}
    print("| clients | path | p50 ms | p99 ms | added p50 ms | added p99 ms | req/s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['concurrency']} | {row['path']} | {row['p50_ms']} | {row['p99_ms']} | "
              f"{row.get('added_p50_ms', '-')} | {row.get('added_p99_ms', '-')} | {row['throughput_rps']} |")
    print(json.dumps({"settings": settings, "machine": info}))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"benchmark": "serve_overhead", "settings": settings, "machine": info,
                                        "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
