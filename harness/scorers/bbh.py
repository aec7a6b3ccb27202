"""Grader for BIG-Bench Hard: the reply's "So the answer is X." against the task's target.

BBH's chain-of-thought prompts end every exemplar with "So the answer is X.".
Its targets take four forms: an option in parentheses ("(B)"), a word from a
small set (True/False, Yes/No, valid/invalid), a number, or free text such as
sorted words or the closing brackets of a Dyck sequence.
"""

from __future__ import annotations

import re

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from harness.scorers.text import strip_reasoning

_ANSWER_IS = re.compile(r"the answer is\s*:?\s*", re.IGNORECASE)
_OPTION_TARGET = re.compile(r"^\(([A-R])\)$")
_OPTION_REPLY = re.compile(r"^\(?([A-R])\)?(?![A-Za-z0-9])")
_WORD_TARGETS = frozenset({"true", "false", "yes", "no", "valid", "invalid"})
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def extract_bbh_answer(reply: str) -> str | None:
    """Return the text after the last "the answer is" (to the end of its line), else the last non-empty line.

    Surrounding markdown emphasis, quotes and one final period are removed.
    Returns None for an empty reply.
    """
    text = strip_reasoning(reply).strip()
    if not text:
        return None
    markers = list(_ANSWER_IS.finditer(text))
    raw = text[markers[-1].end() :].split("\n")[0] if markers else text.splitlines()[-1]
    answer = raw.strip().strip("*_`\"'").strip()
    if answer.endswith(".") and not _NUMBER.match(answer):
        answer = answer[:-1].rstrip()
    return answer.strip("*_`\"'").strip() or None


def bbh_correct(reply: str, target: str) -> bool:
    """Return True when the reply's final answer matches the BBH target in the target's own form."""
    answer = extract_bbh_answer(reply)
    if answer is None:
        return False
    gold = target.strip()
    option = _OPTION_TARGET.match(gold)
    if option:
        chosen = _OPTION_REPLY.match(answer)
        return chosen is not None and chosen.group(1) == option.group(1)
    if gold.lower() in _WORD_TARGETS:
        first_word = re.split(r"[\s,.;:!]+", answer, maxsplit=1)[0]
        return first_word.lower() == gold.lower()
    if _NUMBER.match(gold):
        number = re.match(r"^-?\d+(?:\.\d+)?", answer.replace(",", ""))
        return number is not None and float(number.group(0)) == float(gold)
    return " ".join(answer.split()).lower() == " ".join(gold.split()).lower()


@scorer(metrics=[accuracy(), stderr()])
def bbh_scorer() -> Scorer:
    """Score a BBH reply against the sample target."""

    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion
        correct = bbh_correct(reply, target.text)
        return Score(
            value=CORRECT if correct else INCORRECT,
            answer=extract_bbh_answer(reply) or "",
            explanation=f"gold: {target.text}",
        )

    return score
