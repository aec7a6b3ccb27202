"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1 for tests and the soak benchmark.

Each completion request picks one action. The first rule whose ``contains``
text is in the request's last message, and whose ``model`` matches when set,
gives its next queued action, or its ``then`` action once the queue is
empty. A request that matches no rule takes the next entry of
``server.script``, or ``server.default`` when the script is empty. An action
is a dict, and an empty dict is a normal response whose text is
``server.answer(request)``. Keys:

- ``status`` (int) and ``headers`` (dict): an error response with that status.
- ``delay`` (float, seconds): wait before answering.
- ``reset`` (True): close the connection with a TCP reset before any byte.
- ``body`` (str): a 200 response with this raw body (for malformed JSON).
- ``choices`` (list): replace the answer's ``choices`` (``[]`` for none).
- ``cut``: send part of a normal answer, then ``"reset"`` the connection,
  ``"close"`` it short of its Content-Length, or end a ``"chunked"``
  body without its last chunk.
- ``stall_body`` (float, seconds): send the headers, then wait before the body.
- ``trickle`` (float, seconds): send the body one byte per this interval.

With ``required_key`` set, a request without ``Authorization: Bearer <key>``
gets a 401 whose message echoes the key it received, as some providers do,
so tests can check that the harness keeps such messages out of its output.
The request log (``log_path``) records whether the key matched, never a key.

``python -m tests.fake_openai --config FILE --port-file FILE`` runs the server
in its own process; ``GET /_control/stats`` returns the request bodies seen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

BENCHMARK_NAMES = ("arc_challenge", "gsm8k")


def default_answer(request: dict[str, Any]) -> str:
    """Answer with a fixed text that names the model and echoes the last user message."""
    return f"{request.get('model')} says: {last_message_text(request)}"


def last_message_text(request: dict[str, Any]) -> str:
    """Return the prompt of a completion request or the last message of a chat request."""
    if "prompt" in request:
        return str(request["prompt"])
    messages = request.get("messages") or [{}]
    content = messages[-1].get("content") or ""
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def table_answer(entries: list[dict[str, str]], fallback: str = "no idea") -> Callable[[dict[str, Any]], str]:
    """Return an answer function that looks the request up in a table.

    Each entry has ``contains`` (text of the question), ``model`` (model name as
    sent, ``"*"`` for any) and ``text`` (the answer); the first match wins.
    """

    def answer(request: dict[str, Any]) -> str:
        text = last_message_text(request)
        model = request.get("model")
        for entry in entries:
            if entry["contains"] in text and entry.get("model", "*") in ("*", model):
                return entry["text"]
        return fallback

    return answer


class _QuietHTTPServer(ThreadingHTTPServer):
    """An HTTP server that ignores clients who hang up (they do, on purpose, in timeout tests)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeOpenAIServer:
    """A threaded fake of ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/models``.

    Parameters
    ----------
    answer : callable
        Returns the answer text of a normal response from the request body.
    required_key : str, optional
        API key that every completion request must carry as a bearer token.
    log_path : str or Path, optional
        File that receives one JSON line per request (path, model, action,
        whether the key matched).
    port : int
        Port on 127.0.0.1; 0 picks a free one.
    """

    def __init__(
        self,
        answer: Callable[[dict[str, Any]], str] = default_answer,
        *,
        required_key: str | None = None,
        log_path: str | Path | None = None,
        port: int = 0,
    ) -> None:
        self.answer = answer
        self.required_key = required_key
        self.log_path = Path(log_path) if log_path else None
        self.script: list[dict[str, Any]] = []
        self.default: dict[str, Any] = {}
        self.rules: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.auth_failures = 0
        self._lock = threading.Lock()
        self._server = _QuietHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FakeOpenAIServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_rule(
        self,
        contains: str,
        actions: list[dict[str, Any]],
        then: dict[str, Any] | None = None,
        model: str | None = None,
    ) -> None:
        """Answer requests whose last message contains ``contains`` with ``actions`` in turn, then ``then``."""
        with self._lock:
            self.rules.append({"contains": contains, "actions": list(actions), "then": dict(then or {}), "model": model})

    def next_action(self, request: dict[str, Any] | None = None) -> dict[str, Any]:
        """Return the action for one request and consume it from its rule or the script."""
        text = last_message_text(request) if request else ""
        with self._lock:
            for rule in self.rules:
                if rule["contains"] in text and rule.get("model") in (None, (request or {}).get("model")):
                    return rule["actions"].pop(0) if rule["actions"] else dict(rule["then"])
            return self.script.pop(0) if self.script else dict(self.default)

    def _log(self, record: dict[str, Any]) -> None:
        if self.log_path is None:
            return
        line = json.dumps({"time": round(time.time(), 3), **record}) + "\n"
        with self._lock, self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(line)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # silence stderr
                pass

            def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _reset(self) -> None:
                """Close the socket with linger 0, so the peer gets a TCP reset."""
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # The request's reader holds a second reference to the socket;
                # the reset is only sent once both are closed.
                self.rfile.close()
                self.connection.close()
                self.close_connection = True

            def do_GET(self) -> None:
                if self.path == "/_control/stats":
                    with fake._lock:
                        body = {"completions": len(fake.requests), "requests": list(fake.requests),
                                "auth_failures": fake.auth_failures}
                    self._send_json(200, body)
                elif self.path.rstrip("/").endswith("/models"):
                    self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._send_json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) or b"{}"
                if self.path == "/_control/config":
                    self._configure(json.loads(raw))
                    return
                request = json.loads(raw)
                auth = self._check_key()
                with fake._lock:
                    fake.requests.append(request)
                    fake.headers_seen.append(dict(self.headers))
                    if auth not in ("ok", "not-checked"):
                        fake.auth_failures += 1
                if auth not in ("ok", "not-checked"):
                    fake._log({"path": self.path, "model": request.get("model"), "auth": auth, "status": 401})
                    received = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    message = f"Incorrect API key provided: {received}"
                    self._send_json(401, {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}})
                    return

                action = fake.next_action(request)
                fake._log({"path": self.path, "model": request.get("model"), "auth": auth, "action": action})
                self._respond(request, action)

            def _check_key(self) -> str:
                if fake.required_key is None:
                    return "not-checked"
                header = self.headers.get("Authorization")
                if not header:
                    return "missing"
                return "ok" if header == f"Bearer {fake.required_key}" else "wrong"

            def _configure(self, config: dict[str, Any]) -> None:
                with fake._lock:
                    if "rules" in config:
                        fake.rules = [{"then": {}, "model": None, **rule} for rule in config["rules"]]
                    if "default" in config:
                        fake.default = dict(config["default"])
                    if "script" in config:
                        fake.script = list(config["script"])
                self._send_json(200, {"ok": True})

            def _respond(self, request: dict[str, Any], action: dict[str, Any]) -> None:
                if action.get("delay"):
                    time.sleep(action["delay"])
                if action.get("reset"):
                    self._reset()
                    return
                if "status" in action and action["status"] != 200:
                    error = {"error": {"message": f"fake error {action['status']}", "type": "fake", "code": None}}
                    self._send_json(action["status"], error, action.get("headers"))
                    return
                if "body" in action:
                    self._send_json(200, action["body"].encode())
                    return

                data = json.dumps(self._answer_body(request, action)).encode()
                if "cut" in action:
                    self._send_cut(data, action["cut"])
                elif action.get("stall_body") or action.get("trickle"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.flush()
                    if action.get("stall_body"):
                        time.sleep(action["stall_body"])
                        self.wfile.write(data)
                    else:
                        self._trickle(data, float(action["trickle"]))
                else:
                    self._send_json(200, data)

            def _answer_body(self, request: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
                text = fake.answer(request)
                completion = self.path.rstrip("/").endswith("/completions") and "chat" not in self.path
                choice: dict[str, Any] = (
                    {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
                    if completion
                    else {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                )
                prompt_tokens = len(json.dumps(request.get("messages") or request.get("prompt")).split())
                return {
                    "id": "fake-1",
                    "object": "text_completion" if completion else "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model", "fake"),
                    "choices": action.get("choices", [choice]),
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": len(text.split()),
                        "total_tokens": prompt_tokens + len(text.split()),
                    },
                }

            def _send_cut(self, data: bytes, how: str) -> None:
                half = data[: len(data) // 2]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if how == "chunked":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
                else:
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(half)
                self.wfile.flush()
                if how == "reset":
                    self._reset()
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True

            def _trickle(self, data: bytes, interval: float) -> None:
                for index in range(len(data)):
                    try:
                        self.wfile.write(data[index : index + 1])
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(interval)

        return Handler


# Data of the end-to-end scenarios: two benchmarks in the harness's JSONL
# formats, and an answer table that makes each model right on a known subset.


def write_benchmark_data(data_dir: Path, n_per_benchmark: int, tag: str = "") -> dict[str, dict[str, str]]:
    """Write ``arc_challenge.jsonl`` and ``gsm8k.jsonl`` and return each question's right and wrong answer.

    Returns
    -------
    dict
        ``{question: {"benchmark", "id", "right", "wrong"}}``; every question
        text is unique and contains ``tag``.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    questions: dict[str, dict[str, str]] = {}
    with (data_dir / "arc_challenge.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(n_per_benchmark):
            question = f"Quiz {tag}{i}: which planet is number {i} in the science quiz about stars and light?"
            letter = "ABCD"[i % 4]
            record = {"id": f"arc-{i}", "question": question, "choices": ["Mars", "Venus", "Earth", "Jupiter"], "answer": letter}
            handle.write(json.dumps(record) + "\n")
            wrong = "ABCD"[(i + 1) % 4]
            questions[question] = {"benchmark": "arc_challenge", "id": f"arc-{i}",
                                   "right": f"The answer is ({letter}).", "wrong": f"The answer is ({wrong})."}
    with (data_dir / "gsm8k.jsonl").open("w", encoding="utf-8") as handle:
        for i in range(n_per_benchmark):
            problem = f"Sum {tag}{i}: Sam has {i} apples and buys {i + 3} more apples. How many apples does Sam have?"
            handle.write(json.dumps({"id": f"gsm-{i}", "problem": problem, "answer": str(2 * i + 3)}) + "\n")
            questions[problem] = {"benchmark": "gsm8k", "id": f"gsm-{i}",
                                  "right": f"He has \\boxed{{{2 * i + 3}}} apples.", "wrong": f"He has \\boxed{{{2 * i + 4}}} apples."}
    return questions


def is_right(model: str, benchmark: str, sample_id: str) -> bool:
    """Return whether ``model`` answers a sample right in the scenarios.

    ``science`` is right on every ``arc_challenge`` sample, ``maths`` on every
    ``gsm8k`` sample; any other model is right on samples whose number is
    divisible by 3. The rule is fixed, so tests know the expected matrix.
    """
    if model == "science":
        return benchmark == "arc_challenge"
    if model == "maths":
        return benchmark == "gsm8k"
    return int(sample_id.rsplit("-", 1)[-1]) % 3 == 0


def answer_entries(questions: dict[str, dict[str, str]], models: list[str]) -> list[dict[str, str]]:
    """Return the answer table for :func:`table_answer` that follows :func:`is_right`."""
    entries = []
    for question, info in questions.items():
        for model in models:
            text = info["right"] if is_right(model, info["benchmark"], info["id"]) else info["wrong"]
            entries.append({"contains": question, "model": model, "text": text})
    return entries


def random_fault(rate: float, rng: random.Random) -> dict[str, Any]:
    """Return a transient fault with probability ``rate``, else a normal answer ({})."""
    if rng.random() >= rate:
        return {}
    return rng.choice(
        [
            {"status": 429, "headers": {"Retry-After": "0"}},
            {"status": 500},
            {"status": 502},
            {"status": 503},
            {"reset": True},
            {"body": "{not json"},
            {"choices": []},
            {"cut": "close"},
            {"cut": "chunked"},
        ]
    )


class _RandomFaults:
    """Default action source of the subprocess server: transient faults at a fixed rate, seeded."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def __call__(self) -> dict[str, Any]:
        with self.lock:
            return random_fault(self.rate, self.rng)


class ExternalServer:
    """The fake server in a child process (see :func:`main`), controlled over HTTP.

    It outlives a test's killed runs, so its request count covers them.
    ``config`` is the JSON that :func:`main` reads.
    """

    def __init__(self, folder: Path, config: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.config = config
        self.log_path = self.folder / "server.jsonl"
        self.process: subprocess.Popen | None = None
        self.api_base = ""

    def start(self, timeout: float = 30.0) -> "ExternalServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        config_path = self.folder / "server.json"
        config_path.write_text(json.dumps(self.config), encoding="utf-8")
        port_file = self.folder / "port"
        port_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_openai", "--config", str(config_path),
             "--port-file", str(port_file), "--log", str(self.log_path)],
            cwd=Path(__file__).resolve().parents[1],
        )
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the fake server process did not start within {timeout} s")
            time.sleep(0.05)
        self.api_base = f"http://127.0.0.1:{int(port_file.read_text())}/v1"
        return self

    def _control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.api_base.removesuffix("/v1") + path, data=data,
                                         method="POST" if data is not None else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def requests(self) -> list[dict[str, Any]]:
        """Return the body of every completion request received so far, in order."""
        return self._control("/_control/stats")["requests"]

    def configure(self, config: dict[str, Any]) -> None:
        """Replace the server's ``rules``, ``default`` or ``script``."""
        self._control("/_control/config", config)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "ExternalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the fake server in this process until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server on 127.0.0.1 for tests.")
    parser.add_argument("--config", required=True, help="JSON file: answers, rules, default, required_key_env, fault_rate, seed")
    parser.add_argument("--port-file", required=True, help="file that receives the port once the server listens")
    parser.add_argument("--log", default=None, help="request log file (JSON lines)")
    args = parser.parse_args(argv)

    config = json.loads(Path(args.config).read_text(encoding="utf-8"))
    key_env = config.get("required_key_env")
    server = FakeOpenAIServer(
        table_answer(config.get("answers", []), config.get("fallback", "no idea")),
        required_key=os.environ.get(key_env) if key_env else None,
        log_path=args.log,
    )
    server.default = dict(config.get("default", {}))
    for rule in config.get("rules", []):
        server.add_rule(rule["contains"], rule.get("actions", []), rule.get("then"), rule.get("model"))
    if config.get("fault_rate"):
        faults = _RandomFaults(float(config["fault_rate"]), int(config.get("seed", 0)))
        original = server.next_action

        def next_action(request: dict[str, Any] | None = None) -> dict[str, Any]:
            action = original(request)
            return action if action else faults()

        server.next_action = next_action  # type: ignore[method-assign]

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    Path(args.port_file).write_text(str(server.port), encoding="utf-8")
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
