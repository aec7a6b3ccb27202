"""Find the final answer in a model's solution to a math problem."""

from __future__ import annotations

import re

from harness.scorers.text import strip_continuation, strip_reasoning

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*")
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?|-?\.\d+")
_STATED = re.compile(
    r"(?:final\s+answer|the\s+answer|answer)\s*(?:is|:|=)\s*:?\s*(.+)|^####\s*(.+)",
    re.IGNORECASE | re.MULTILINE,
)


def _braced_content(text: str, open_index: int) -> str | None:
    """Return the text inside the brace group that opens at ``open_index``, or None if unbalanced."""
    depth = 0
    for index in range(open_index, len(text)):
        char = text[index]
        if char == "{" and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif char == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[open_index + 1 : index]
    return None


def last_boxed(text: str) -> str | None:
    """Return the content of the last ``\\boxed{...}`` (or ``\\fbox{...}``, or ``\\boxed 5``) in ``text``."""
    result = None
    for match in _BOXED.finditer(text):
        start = match.end()
        if start < len(text) and text[start] == "{":
            content = _braced_content(text, start)
            if content is not None:
                result = content
        else:
            bare = re.match(r"[^\s$]+", text[start:])
            if bare:
                result = bare.group(0)
    return result


def last_number(text: str) -> str | None:
    """Return the last number in ``text`` (integer, decimal, thousands-separated or ``a/b``), or None."""
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def _clean_stated(answer: str) -> str:
    answer = answer.strip().strip("*").strip()
    # "$\frac{1}{2}$. I hope it is correct." -> the first math span.
    if answer.startswith("$") and answer.count("$") >= 2:
        return answer[1 : answer.index("$", 1)].strip()
    # "42. It follows from ..." -> the first sentence; "3.5" keeps its decimal point.
    answer = re.split(r"\.\s", answer, maxsplit=1)[0]
    return answer.rstrip(".").strip().strip("*").strip()


def extract_math_answer(reply: str) -> str | None:
    """Return the final answer of a solution, or None if it states none.

    Tried in order: the last ``\\boxed{}``; the last "answer is X",
    "Answer: X" or "#### X"; the last number in the reply. A base model's own
    next problem (a line starting "Problem:" or "Question:") is cut off first.
    """
    text = strip_continuation(strip_reasoning(reply), ("Problem:", "Question:"))
    boxed = last_boxed(text)
    if boxed is not None and boxed.strip():
        return boxed.strip()

    # Search again from every match start: in "Final Answer: The final answer is
    # $x$" the statement that counts is the innermost, last one.
    stated = None
    position = 0
    while (match := _STATED.search(text, position)) is not None:
        stated = match.group(1) or match.group(2)
        position = match.start() + 1
    if stated is not None:
        cleaned = _clean_stated(stated)
        if cleaned:
            return cleaned

    return last_number(text)
