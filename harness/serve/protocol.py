"""The OpenAI chat-completions wire format: request parsing, error objects and response bodies."""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

# Roles passed on to the pool model; the gateway sends text messages only.
MESSAGE_ROLES = ("system", "developer", "user", "assistant", "tool")

# Request fields that the server rejects when they are set, because it serves
# plain text chat completions and cannot honour them. Any other field that it
# does not read (user, logprobs, metadata, ...) is ignored.
UNSUPPORTED_FIELDS = ("tools", "functions", "tool_choice", "function_call", "response_format", "logit_bias")

# Words of the response text per streamed ``chat.completion.chunk``.
WORDS_PER_CHUNK = 4


class APIError(Exception):
    """A request failure reported to the client as an OpenAI error object.

    Parameters
    ----------
    status : int
        HTTP status code.
    message : str
        What failed and how to fix it.
    type : str
        OpenAI error type, such as ``invalid_request_error``.
    param : str, optional
        The request field at fault.
    code : str, optional
        A machine-readable error code, such as ``model_not_found``.
    """

    def __init__(self, status: int, message: str, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        """Return the OpenAI error object ``{"error": {"message", "type", "param", "code"}}``."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def invalid(message: str, param: str | None = None, code: str | None = None) -> APIError:
    """Return a 400 ``invalid_request_error``."""
    return APIError(400, message, "invalid_request_error", param, code)


@dataclass
class ChatRequest:
    """A validated chat-completions request.

    Attributes
    ----------
    model : str
        The requested model: the router's name or a pool model id.
    messages : list of dict
        Messages reduced to ``{"role", "content"}`` with text content, the
        form the ``pool/`` and ``router/`` inspect providers send, so the
        response cache is shared with them.
    params : dict
        Generation parameters for the gateway (temperature, max_tokens, ...).
    stream : bool
        True to send the response as server-sent events.
    include_usage : bool
        True when ``stream_options.include_usage`` asks for a final usage chunk.
    alpha : float or None
        Per-request trade-off in [0, 1] from the body or the ``x-router-alpha`` header.
    """

    model: str
    messages: list[dict[str, str]]
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    include_usage: bool = False
    alpha: float | None = None

    def last_user_text(self) -> str:
        """Return the text of the last user message, which the router embeds."""
        for message in reversed(self.messages):
            if message["role"] == "user":
                return message["content"]
        raise invalid("messages has no message with role 'user'; the router embeds the last user message", "messages")


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """Decode a request body that must be one JSON object."""
    if not raw.strip():
        raise invalid("the request body is empty; send a JSON object with 'model' and 'messages'")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise invalid(f"the request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise invalid(f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def _text_of(content: Any, index: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") not in ("text", "input_text"):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise invalid(f"messages[{index}].content has a part of type {kind!r}; only text parts are supported",
                              f"messages[{index}].content")
            parts.append(str(part.get("text", "")))
        return "\n".join(parts)
    raise invalid(f"messages[{index}].content must be a string or a list of text parts, got {type(content).__name__}",
                  f"messages[{index}].content")


def _parse_messages(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        raise invalid("missing required field 'messages': a list of {role, content} objects", "messages")
    if not isinstance(raw, list) or not raw:
        raise invalid("'messages' must be a non-empty list of {role, content} objects", "messages")
    messages = []
    for index, message in enumerate(raw):
        if not isinstance(message, dict):
            raise invalid(f"messages[{index}] must be an object with 'role' and 'content'", f"messages[{index}]")
        role = message.get("role")
        if role not in MESSAGE_ROLES:
            raise invalid(f"messages[{index}].role {role!r} is invalid; use one of {', '.join(MESSAGE_ROLES)}",
                          f"messages[{index}].role")
        messages.append({"role": role, "content": _text_of(message.get("content"), index)})
    return messages


def _number(body: dict[str, Any], name: str, low: float, high: float, integer: bool = False) -> float | int | None:
    value = body.get(name)
    if value is None:
        return None
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise invalid(f"'{name}' must be {kind}, got {value!r}", name)
    if not math.isfinite(value) or not low <= value <= high:
        raise invalid(f"'{name}' must be in [{low}, {high}], got {value!r}", name)
    return value


def parse_alpha(value: Any, source: str) -> float | None:
    """Return a router alpha from the body or a header, or raise a 400 naming ``source``."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise invalid(f"{source} must be a number in [0, 1], got {value!r}", "alpha", "invalid_alpha") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise invalid(f"{source} must be a number in [0, 1], got {value!r}", "alpha", "invalid_alpha")
    if not 0.0 <= value <= 1.0:
        raise invalid(f"{source} must be in [0, 1] (1 = accuracy only, 0 = cost only), got {value!r}",
                      "alpha", "invalid_alpha")
    return float(value)


def _parse_params(body: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "temperature": _number(body, "temperature", 0.0, 2.0),
        "top_p": _number(body, "top_p", 0.0, 1.0),
        "frequency_penalty": _number(body, "frequency_penalty", -2.0, 2.0),
        "presence_penalty": _number(body, "presence_penalty", -2.0, 2.0),
        "seed": _number(body, "seed", -(2**63), 2**63 - 1, integer=True),
    }
    max_tokens = _number(body, "max_tokens", 1, 2**31 - 1, integer=True)
    max_completion_tokens = _number(body, "max_completion_tokens", 1, 2**31 - 1, integer=True)
    params["max_tokens"] = max_tokens if max_tokens is not None else max_completion_tokens

    stop = body.get("stop")
    if stop is not None:
        if isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop) or len(stop) > 4:
            raise invalid(f"'stop' must be a string or a list of at most 4 strings, got {body.get('stop')!r}", "stop")
        params["stop"] = stop or None
    return {name: value for name, value in params.items() if value is not None}


def parse_chat_request(body: dict[str, Any], header_alpha: str | None = None) -> ChatRequest:
    """Validate a chat-completions request body.

    Parameters
    ----------
    body : dict
        The decoded JSON body.
    header_alpha : str, optional
        The ``x-router-alpha`` header value.

    Raises
    ------
    APIError
        A 400 naming the offending field, for a missing or invalid field, a
        feature the server does not support (tools, ``n`` > 1), or a body
        alpha that contradicts the header alpha.
    """
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid("missing required field 'model': use the router's name or a pool model id "
                      "(GET /v1/models lists them)", "model")
    messages = _parse_messages(body.get("messages"))

    for name in UNSUPPORTED_FIELDS:
        if body.get(name):
            raise invalid(f"'{name}' is not supported: the router serves plain text chat completions", name,
                          "unsupported_parameter")
    n = body.get("n")
    if n is not None and n != 1:
        raise invalid(f"'n' must be 1, got {n!r}: the server returns one choice", "n", "unsupported_parameter")

    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise invalid(f"'stream' must be true or false, got {stream!r}", "stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise invalid(f"'stream_options' must be an object, got {options!r}", "stream_options")

    alpha = parse_alpha(body.get("alpha"), "'alpha'")
    from_header = parse_alpha(header_alpha, "header x-router-alpha")
    if alpha is not None and from_header is not None and alpha != from_header:
        raise invalid(f"'alpha' {alpha} in the body contradicts header x-router-alpha {from_header}; send one of them",
                      "alpha", "invalid_alpha")

    return ChatRequest(
        model=model.strip(),
        messages=messages,
        params=_parse_params(body),
        stream=stream,
        include_usage=bool(options.get("include_usage")),
        alpha=alpha if alpha is not None else from_header,
    )


# ------------------------------------------------------------------ responses


def usage_body(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    """Return an OpenAI ``usage`` object."""
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def completion_body(request_id: str, model: str, text: str, finish_reason: str, prompt_tokens: int,
                    completion_tokens: int, extra: dict[str, Any]) -> dict[str, Any]:
    """Return a ``chat.completion`` object; ``extra`` goes under the non-standard key ``harness``."""
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason,
             "logprobs": None}
        ],
        "usage": usage_body(prompt_tokens, completion_tokens),
        "harness": extra,
    }


def split_for_stream(text: str, words_per_chunk: int = WORDS_PER_CHUNK) -> list[str]:
    """Split text into pieces of a few words each that concatenate back to ``text`` exactly."""
    words = re.findall(r"\s*\S+|\s+$", text)
    if not words:
        return [text] if text else []
    return ["".join(words[i:i + words_per_chunk]) for i in range(0, len(words), words_per_chunk)]


def stream_events(request_id: str, model: str, text: str, finish_reason: str, prompt_tokens: int,
                  completion_tokens: int, include_usage: bool, extra: dict[str, Any]) -> Iterator[str]:
    """Yield a complete response as OpenAI ``chat.completion.chunk`` server-sent events, then ``[DONE]``.

    The response text is complete when streaming starts (it comes from the
    gateway or its cache), so the chunks carry it piece by piece with no
    delay between them.
    """
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None, **more: Any) -> str:
        body = {"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **more}
        return f"data: {json.dumps(body, separators=(',', ':'))}\n\n"

    yield chunk({"role": "assistant", "content": ""}, None)
    for piece in split_for_stream(text):
        yield chunk({"content": piece}, None)
    yield chunk({}, finish_reason, harness=extra)
    if include_usage:
        usage = {"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "system_fingerprint": None, "choices": [], "usage": usage_body(prompt_tokens, completion_tokens)}
        yield f"data: {json.dumps(usage, separators=(',', ':'))}\n\n"
    yield "data: [DONE]\n\n"
