"""Scorer for problems with one final answer (GSM8K, MATH, AIME)."""

from __future__ import annotations

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from harness.scorers.math_equivalence import math_answers_equal, normalize_math_answer, parse_number
from harness.scorers.math_extract import extract_math_answer


def integer_answers_equal(candidate: str | None, target: str) -> bool:
    """Return whether ``candidate`` is the integer ``target`` (AIME answers are integers 0-999)."""
    if candidate is None:
        return False
    value, gold = parse_number(normalize_math_answer(candidate)), parse_number(normalize_math_answer(target))
    return value is not None and gold is not None and value == gold and float(value).is_integer()


@scorer(metrics=[accuracy(), stderr()])
def math_answer(integer: bool = False) -> Scorer:
    """Score the final answer of a solution against the target by mathematical equivalence.

    Parameters
    ----------
    integer
        Accept only a candidate whose value is exactly the integer target
        (``033`` and ``33.0`` count, ``33.5`` does not).

    The Score's ``answer`` is the extracted final answer, or "" when none was found.
    """

    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion
        candidate = extract_math_answer(reply)
        if integer:
            correct = integer_answers_equal(candidate, target.text)
        else:
            correct = any(math_answers_equal(candidate, gold) for gold in target.target)
        return Score(value=CORRECT if correct else INCORRECT, answer=candidate or "", explanation=reply)

    return score
