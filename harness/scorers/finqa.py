"""Grader for FinQA: a numeric (or yes/no) final answer compared with the executed gold result."""

from __future__ import annotations

import re

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from harness.scorers.text import strip_reasoning

# FinQA's execution accuracy rounds program results to 5 decimals before comparing.
FINQA_DECIMALS = 5
# NOTE: a text answer is usually rounded for display ("14.1%" for 0.14136), so it
# rarely equals the executed result to 5 decimals. Answers within 0.5 % of the
# gold value also count. That allowance is this project's choice, not FinQA's.
RELATIVE_TOLERANCE = 0.005

_ANSWER_LINE = re.compile(r"\banswer\b\s*(?:is\s*)?[:=]?\s*(.+)", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_NUMBER = re.compile(r"\(?-?\$?\s*\d[\d,]*(?:\.\d+)?|\(?-?\$?\s*\.\d+")


def extract_finqa_answer(reply: str) -> str | None:
    """Return the reply's final answer: the last "Answer: ..." line, else the last ``\\boxed{}``, else the last number."""
    text = strip_reasoning(reply)
    lines = _ANSWER_LINE.findall(text)
    if lines:
        return lines[-1].strip()
    boxed = _BOXED.findall(text)
    if boxed:
        return boxed[-1].strip()
    numbers = list(_NUMBER.finditer(text))
    if numbers:
        end = numbers[-1].end()
        return text[numbers[-1].start() : end + 1].strip()
    return None


def parse_number(text: str) -> tuple[float, bool] | None:
    """Parse the first number of ``text``; return it and whether a percent sign follows it.

    Handles thousands separators, a leading ``$``, a minus sign and accounting
    negatives in parentheses ("(12.5)").
    """
    match = re.search(r"(\()?\s*(-)?\s*\$?\s*(\d[\d,]*(?:\.\d+)?|\.\d+)\s*(\))?\s*(%|percent)?", text)
    if match is None:
        return None
    value = float(match.group(3).replace(",", ""))
    negative = match.group(2) is not None or (match.group(1) is not None and match.group(4) is not None)
    return (-value if negative else value), match.group(5) is not None


def _numbers_match(candidate: float, gold: float) -> bool:
    if round(candidate, FINQA_DECIMALS) == round(gold, FINQA_DECIMALS):
        return True
    return gold != 0 and abs(candidate - gold) <= RELATIVE_TOLERANCE * abs(gold)


def finqa_correct(prediction: str | None, gold: str, gold_display: str = "") -> bool:
    """Return True when ``prediction`` matches the executed gold answer.

    Parameters
    ----------
    prediction : str or None
        Extracted final answer of the model.
    gold : str
        Executed gold result: a number ("0.14136") or "yes"/"no".
    gold_display : str
        Gold answer as FinQA displays it ("14.1%"). A percent sign there, or in
        the prediction, lets the prediction count in percent (14.1 for 0.141).
    """
    if prediction is None:
        return False
    gold_text = gold.strip().lower()
    if gold_text in {"yes", "no"}:
        words = re.findall(r"[a-z]+", prediction.lower())
        return bool(words) and words[0] == gold_text
    parsed_gold = parse_number(gold_text)
    parsed = parse_number(prediction)
    if parsed_gold is None or parsed is None:
        return False
    value, has_percent = parsed
    gold_value = parsed_gold[0]
    candidates = [value]
    if has_percent or "%" in gold_display:
        candidates.append(value / 100)
    return any(_numbers_match(candidate, gold_value) for candidate in candidates)


@scorer(metrics=[accuracy(), stderr()])
def finqa_scorer() -> Scorer:
    """Score a FinQA reply; the target is the executed gold result, ``answer_display`` in the metadata its display form."""

    async def score(state: TaskState, target: Target) -> Score:
        prediction = extract_finqa_answer(state.output.completion)
        display = state.metadata.get("answer_display", "")
        correct = finqa_correct(prediction, target.text, display)
        return Score(
            value=CORRECT if correct else INCORRECT,
            answer=prediction or "",
            explanation=f"gold: {target.text} (shown as {display!r})",
        )

    return score
