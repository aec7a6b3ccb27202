"""Majority vote over several sampled answers of one model (self-consistency).

The router provider can draw several answers from the model it routes to and
return the most frequent one. Answers are compared by a key that does not
depend on the task, so the vote works the same for every benchmark:

1. the text after the last "Answer:" or "answer is" (the closing cue of the
   harness prompts and a common reply format);
2. else, for a reply that contains code (a fenced block, or a line that
   starts with ``def``, ``class``, ``import`` or ``from ... import``), the
   last fenced block, or the whole reply when there is no fence, with
   spaces collapsed and case kept, so only identical programs agree;
3. else the content of the last ``\\boxed{...}``;
4. else the last number in the text;
5. else the last non-empty line.

A boxed expression inside the text of rule 1 is unwrapped, and a number
loses its thousands separators. Apart from code, the key is lower-cased,
with spaces collapsed and surrounding punctuation removed; a key that
starts with a choice letter ("C", "(C)", "C) Paris") is reduced to the
letter. Two programs or essays rarely share a key, so for free-form answers
the vote usually falls back to the first draw.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_ANSWER_MARKER = re.compile(r"answer(?:\s*:|\s+is\b:?)\s*(.+)", re.IGNORECASE)
_CHOICE_LETTER = re.compile(r"^\(?([a-j])(?:\)|\.|:|$)")
_CODE = re.compile(r"^\s*(?:```|def |class |import |from \S+ import )", re.MULTILINE)
_FENCED = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_EDGE_PUNCTUATION = " \t\n.,;:!?*()\"'`$"


def _normalise(text: str) -> str:
    key = " ".join(text.split()).strip(_EDGE_PUNCTUATION).lower()
    letter = _CHOICE_LETTER.match(" ".join(text.split()).strip(" *\"'`").lower())
    return letter.group(1) if letter else key


def _last_boxed(text: str) -> str | None:
    """Return the content of the last ``\\boxed{...}``, nested braces included, or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth = 0
    for index in range(start + len("\\boxed{") - 1, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[start + len("\\boxed{") : index]
    return None


def _clean(segment: str) -> str:
    """Return the key of a short answer text: unwrap a boxed expression and drop thousands separators."""
    boxed = _last_boxed(segment)
    key = _normalise(boxed if boxed is not None else segment)
    if _NUMBER.fullmatch(key):
        key = key.replace(",", "")
    return key


def answer_key(text: str) -> str:
    """Return the comparison key of one answer ("" when the answer is empty)."""
    markers = _ANSWER_MARKER.findall(text)
    if markers:
        return _clean(markers[-1].splitlines()[0])
    if _CODE.search(text):
        fenced = _FENCED.findall(text)
        return " ".join((fenced[-1] if fenced else text).split())
    boxed = _last_boxed(text)
    if boxed is not None:
        return _normalise(boxed)
    numbers = _NUMBER.findall(text)
    if numbers:
        return numbers[-1].replace(",", "").rstrip(".")
    lines = [line for line in text.splitlines() if line.strip()]
    return _normalise(lines[-1]) if lines else ""


@dataclass(frozen=True)
class Vote:
    """Outcome of a majority vote.

    Attributes
    ----------
    winner : int
        Index of the first draw whose key won.
    keys : list of str
        The key of each draw, in draw order.
    count : int
        Number of draws that share the winning key.
    """

    winner: int
    keys: list[str]
    count: int


def majority(texts: list[str]) -> Vote:
    """Return the vote over ``texts``; ties go to the key drawn first, and empty answers never win over others."""
    if not texts:
        raise ValueError("majority() needs at least one response text, got none")
    keys = [answer_key(text) for text in texts]
    counts = Counter(key for key in keys if key)
    if not counts:
        return Vote(winner=0, keys=keys, count=sum(1 for key in keys if not key))
    best = max(counts.values())
    winner = next(index for index, key in enumerate(keys) if key and counts[key] == best)
    return Vote(winner=winner, keys=keys, count=best)
