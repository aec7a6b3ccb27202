"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1 for tests.

Each request pops the next action from ``server.script`` (or uses
``server.default``). An action is a dict: ``{"status": 429, "headers": {...}}``
for an error, ``{"delay": 5}`` to stall, ``{"body": "not json"}`` for a raw
body, ``{"choices": []}`` for an empty choice list, ``{"reset": True}`` to close
the connection mid-response, or ``{}`` for a normal answer. A normal answer's
text is ``server.answer(request_json)``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


def default_answer(request: dict[str, Any]) -> str:
    """Answer with a fixed text that names the model and echoes the last user message."""
    if "prompt" in request:
        last = request["prompt"]
    else:
        last = request["messages"][-1]["content"]
    return f"{request.get('model')} says: {last}"


class FakeOpenAIServer:
    """A threaded fake of ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/models``."""

    def __init__(self, answer: Callable[[dict[str, Any]], str] = default_answer) -> None:
        self.answer = answer
        self.script: list[dict[str, Any]] = []
        self.default: dict[str, Any] = {}
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

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

    def next_action(self) -> dict[str, Any]:
        with self._lock:
            return self.script.pop(0) if self.script else dict(self.default)

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

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._send_json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(request)
                    fake.headers_seen.append(dict(self.headers))
                action = fake.next_action()

                if action.get("delay"):
                    time.sleep(action["delay"])
                if action.get("reset"):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    return
                if "status" in action and action["status"] != 200:
                    error = {"error": {"message": f"fake error {action['status']}", "type": "fake", "code": None}}
                    self._send_json(action["status"], error, action.get("headers"))
                    return
                if "body" in action:
                    self._send_json(200, action["body"].encode())
                    return

                text = fake.answer(request)
                completion = self.path.rstrip("/").endswith("/completions") and "chat" not in self.path
                choice: dict[str, Any] = (
                    {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
                    if completion
                    else {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                )
                prompt_tokens = len(json.dumps(request.get("messages") or request.get("prompt")).split())
                body = {
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
                self._send_json(200, body)

        return Handler
