"""Graders for logic puzzles: Knights-and-Knaves roles and KOR-Bench ``[[answer]]`` replies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from harness.scorers.text import strip_reasoning

KNIGHT = "knight"
KNAVE = "knave"

_CONCLUSION = re.compile(r"conclusion\s*:?", re.IGNORECASE)


def _role_pattern(name: str) -> re.Pattern[str]:
    # "Zoey is a knave", "Zoey is the knight", "Zoey: knight", "Zoey - knave", "Zoey = knight".
    link = r"(?:\s+(?:is|was)\s+(?:(?:a|an|the)\s+)?|\s*[:=\u2013\u2014-]\s*(?:(?:a|an|the)\s+)?)"
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)\**{link}\**({KNIGHT}|{KNAVE})s?(?!\w)", re.IGNORECASE)


def parse_roles(reply: str, names: Sequence[str]) -> dict[str, str | None]:
    """Return the role (``"knight"`` or ``"knave"``) that the reply gives each person, None where it gives none.

    Only the text after the last "CONCLUSION:" marker counts when the reply has
    one. Where a name gets several roles, the last statement counts, because
    reasoning often tries a role before the conclusion settles it.
    """
    text = strip_reasoning(reply)
    markers = list(_CONCLUSION.finditer(text))
    if markers:
        text = text[markers[-1].end() :]
    roles: dict[str, str | None] = {}
    for name in names:
        matches = _role_pattern(name).findall(text)
        roles[name] = matches[-1].lower() if matches else None
    return roles


def knights_and_knaves_correct(reply: str, names: Sequence[str], solution: Sequence[bool]) -> bool:
    """Return True when the reply gives every person the gold role (``solution[i]`` True means knight)."""
    if len(names) != len(solution):
        raise ValueError(f"{len(names)} names but {len(solution)} solution entries")
    roles = parse_roles(reply, names)
    return all(roles[name] == (KNIGHT if is_knight else KNAVE) for name, is_knight in zip(names, solution, strict=True))


@scorer(metrics=[accuracy(), stderr()])
def knights_and_knaves_scorer() -> Scorer:
    """Score a Knights-and-Knaves reply: correct only if every person's role matches.

    Reads ``names`` and ``solution`` from the sample metadata.
    """

    async def score(state: TaskState, target: Target) -> Score:
        names = state.metadata["names"]
        solution = state.metadata["solution"]
        roles = parse_roles(state.output.completion, names)
        correct = knights_and_knaves_correct(state.output.completion, names, solution)
        answer = ", ".join(f"{name}={role or '?'}" for name, role in roles.items())
        return Score(value=CORRECT if correct else INCORRECT, answer=answer, explanation=f"gold: {target.text}")

    return score


_DOUBLE_BRACKETS = re.compile(r"\[\[\s*(.*?)\s*\]\]", re.DOTALL)


def extract_double_brackets(reply: str) -> str | None:
    """Return the text inside the last ``[[...]]`` of the reply, or None when it has none.

    NOTE: KOR-Bench's own evaluation reads the first ``[[...]]``. The last one
    is used here because chain-of-thought replies often restate the requested
    format (``[[your answer]]``) before they answer.
    """
    matches = _DOUBLE_BRACKETS.findall(strip_reasoning(reply))
    return matches[-1] if matches else None


def _inner_answer(answer: str) -> str:
    matches = _DOUBLE_BRACKETS.findall(answer)
    return matches[0] if matches else answer.strip()


def _clean(text: str) -> str:
    # KOR-Bench's "clean" level: drop quotes, line breaks, spaces and square brackets.
    return re.sub(r"[\"\s\[\]]", "", text)


def _as_fraction(text: str) -> Fraction | None:
    try:
        return Fraction(text.replace("\u2212", "-"))
    except (ValueError, ZeroDivisionError):
        return None


def _same_value(predicted: str, gold: str) -> bool:
    if predicted == gold:
        return True
    predicted_number = _as_fraction(predicted)
    gold_number = _as_fraction(gold)
    return predicted_number is not None and predicted_number == gold_number


def korbench_correct(reply: str, answer: str, category: str, rule_id: str | int | None = None) -> bool:
    """Grade a KOR-Bench reply against the gold ``[[answer]]`` with the category's comparison.

    * logic: quotes, whitespace and periods removed; for rule 5 the
      ``;``-separated parts are compared as a set.
    * puzzle: only letters, digits and ``_`` are compared.
    * operation with several solutions ("3or-4"): the ``or``-separated parts
      are compared as sets.
    * everything else (cipher, counterfactual, operation): quotes, whitespace
      and square brackets removed, then exact match, or equal as numbers
      (``"13/3"`` equals ``"26/6"``).

    NOTE: KOR-Bench's own evaluation has extra per-rule checkers (evaluating
    24-point expressions, LaTeX equivalence through sympy for some operation
    items). They are not reproduced, so on those items a correct answer
    written differently from the gold is graded wrong.
    """
    predicted = extract_double_brackets(reply)
    if predicted is None:
        return False
    gold = _inner_answer(answer)
    if category == "logic":
        strip_logic = lambda text: re.sub(r"[\"\s.]", "", text)  # noqa: E731
        if str(rule_id) == "5":
            return sorted(strip_logic(predicted).split(";")) == sorted(strip_logic(gold).split(";"))
        return strip_logic(predicted) == strip_logic(gold)
    if category == "puzzle":
        return re.sub(r"\W+", "", predicted) == re.sub(r"\W+", "", gold)
    predicted_clean = _clean(predicted)
    gold_clean = _clean(gold)
    if category == "operation" and "or" in gold_clean:
        predicted_parts = re.sub(r"\\text\{or\}", "or", predicted_clean).split("or")
        gold_parts = gold_clean.split("or")
        if len(predicted_parts) != len(gold_parts):
            return False
        # Each gold part must be matched by its own predicted part, in any order.
        unmatched = list(predicted_parts)
        for gold_part in gold_parts:
            match = next((part for part in unmatched if _same_value(part, gold_part)), None)
            if match is None:
                return False
            unmatched.remove(match)
        return True
    return _same_value(predicted_clean, gold_clean)


@scorer(metrics=[accuracy(), stderr()])
def korbench_scorer() -> Scorer:
    """Score a KOR-Bench reply; reads ``category`` and ``rule_id`` from the sample metadata."""

    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion
        correct = korbench_correct(reply, target.text, state.metadata["category"], state.metadata.get("rule_id"))
        return Score(
            value=CORRECT if correct else INCORRECT,
            answer=extract_double_brackets(reply) or "",
            explanation=f"gold: {target.text}",
        )

    return score
