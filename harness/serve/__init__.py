"""``harness serve``: a fitted router behind an OpenAI-compatible HTTP endpoint.

A request for the router's model name is routed (the last user message is
embedded and the router picks a pool model); a request naming a pool model
goes to that model. Either way the call goes through the gateway and its
response cache, and the answer names the serving model in ``model`` and in
the ``x-routed-model`` header.
"""

from harness.serve.app import create_app
from harness.serve.batching import EmbeddingBatcher
from harness.serve.protocol import APIError, ChatRequest, parse_chat_request
from harness.serve.server import ServerThread, run_server
from harness.serve.service import DEFAULT_ROUTER_NAME, RouterService, ServeConfig

__all__ = [
    "APIError",
    "ChatRequest",
    "DEFAULT_ROUTER_NAME",
    "EmbeddingBatcher",
    "RouterService",
    "ServeConfig",
    "ServerThread",
    "create_app",
    "parse_chat_request",
    "run_server",
]
