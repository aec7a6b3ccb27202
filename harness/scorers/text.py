"""Clean-ups applied to a model reply before an answer is extracted."""

from __future__ import annotations

import re
from collections.abc import Iterable

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


def strip_reasoning(reply: str) -> str:
    """Remove ``<think>...</think>`` blocks; an unclosed block removes everything after ``<think>``."""
    text = _THINK_BLOCK.sub("", reply)
    opened = text.lower().find("<think>")
    return text[:opened] if opened >= 0 else text


def strip_continuation(reply: str, markers: Iterable[str]) -> str:
    """Cut ``reply`` at the first line that starts with one of ``markers``.

    A base model that completes a prompt often goes on to write the next
    question of its own ("Question: ..."). Such a line after the first one
    starts text that is not part of the answer.
    """
    lines = reply.split("\n")
    for index, line in enumerate(lines):
        if index > 0 and any(line.lstrip().startswith(marker) for marker in markers):
            return "\n".join(lines[:index])
    return reply
