"""Decide whether two final answers to a math problem are the same.

Answers are first normalized as strings (LaTeX spacing, ``\\left``/``\\right``,
``\\dfrac``, units in ``\\text{}``, degree and percent signs, thousands
separators, a leading "x ="). Then they are equal when the normalized strings
match, when both are numbers of equal value (``1/2``, ``0.5``, ``\\frac12``),
when both are constant expressions of equal value under sympy
(``\\frac{\\sqrt{3}}{2}`` and ``\\sqrt{3}/2``), or element by element when both
are tuples, intervals or comma lists.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

# Relative tolerance for comparing values that are not exact fractions.
RELATIVE_TOLERANCE = 1e-6

_SPACING = re.compile(r"\\[,;:! ]|\\quad|\\qquad|\\displaystyle|\\limits")
_TEXT_COMMAND = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_TEXT_UNIT = re.compile(_TEXT_COMMAND.pattern + r"(?:\^\{?\d\}?)?\s*$")
_UNIT_WORDS = re.compile(r"^(-?[\d.,/]+)\s+(?:[a-zA-Z]{2,}\.?(?:\^?\d)?\s*)+$")
_ASSIGNMENT = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*(?!.*=)")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$")
_SLASH_FRACTION = re.compile(r"^([-+]?)\(?([-+]?\d+(?:\.\d+)?)\)?/\(?([-+]?\d+(?:\.\d+)?)\)?$")
_LATEX_FRACTION = re.compile(r"^([-+]?)\\frac\{([-+]?\d+(?:\.\d+)?)\}\{([-+]?\d+(?:\.\d+)?)\}$")


def _strip_units_text(answer: str) -> str:
    # A number followed by units loses them ("10\text{ cm}^2" -> "10"), while
    # an answer that is all text keeps the words ("\text{(C)}" -> "(C)").
    without_units = _TEXT_UNIT.sub("", answer).strip()
    if without_units != answer.strip() and re.search(r"\d", without_units) and not re.search(r"[A-Za-z]{2,}", re.sub(r"\\[a-z]+", "", without_units)):
        return without_units
    return _TEXT_COMMAND.sub(r"\1", answer)


def _expand_short_fractions(answer: str) -> str:
    # \frac12 -> \frac{1}{2}; \frac1{2} -> \frac{1}{2}; \frac{1}2 -> \frac{1}{2}; same for \sqrt2.
    answer = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", answer)
    answer = re.sub(r"\\frac\s*(\d)\s*\{", r"\\frac{\1}{", answer)
    answer = re.sub(r"\\frac\s*\{([^{}]*)\}\s*(\d)", r"\\frac{\1}{\2}", answer)
    answer = re.sub(r"\\sqrt\s*(\d+)", r"\\sqrt{\1}", answer)
    return answer


def normalize_math_answer(answer: str) -> str:
    """Return ``answer`` in a canonical string form; see the module docstring for the rules."""
    text = answer.strip()
    text = text.replace("\\$", "").replace("$", "")
    text = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b\s*", "", text)
    text = text.replace("\\{", "\x00").replace("\\}", "\x01")  # keep set braces apart from groups
    text = _SPACING.sub("", text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    text = text.replace("{,}", ",")
    text = _strip_units_text(text)
    text = re.sub(r"\^\s*\{?\\circ\}?|\u00b0|\\degree", "", text)
    text = text.replace("\\%", "").replace("%", "")
    text = text.replace("\u2212", "-")  # unicode minus sign
    text = _expand_short_fractions(text)
    text = text.strip().rstrip(".").strip()
    text = _ASSIGNMENT.sub("", text)
    unit_match = _UNIT_WORDS.match(text)
    if unit_match:
        text = unit_match.group(1)
    text = re.sub(r"\s+", "", text)
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    text = re.sub(r"^\(([A-Za-z])\)$", r"\1", text)  # "(C)" -> "C"
    return text.replace("\x00", "\\{").replace("\x01", "\\}")


def parse_number(text: str) -> Fraction | float | None:
    """Return the value of a normalized number (``-3``, ``0.5``, ``1/2``, ``\\frac{1}{2}``), or None."""
    if _PLAIN_NUMBER.match(text):
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            return float(text)
    for pattern in (_SLASH_FRACTION, _LATEX_FRACTION):
        match = pattern.match(text)
        if match:
            sign, numerator, denominator = match.groups()
            try:
                value = Fraction(numerator) / Fraction(denominator)
            except ZeroDivisionError:
                return None
            return -value if sign == "-" else value
    return None


def _numbers_equal(left: Fraction | float, right: Fraction | float) -> bool:
    if isinstance(left, Fraction) and isinstance(right, Fraction):
        return left == right
    return math.isclose(float(left), float(right), rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([{\x00":
            depth += 1
        elif char in ")]}\x01":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _as_sequence(text: str) -> tuple[str, list[str]] | None:
    """Return (bracket kind, elements) for a tuple, interval, set or bare comma list, else None."""
    text = text.replace("\\{", "\x00").replace("\\}", "\x01")
    kind = ""
    if len(text) >= 2 and text[0] in "([\x00" and text[-1] in ")]\x01":
        inner = text[1:-1]
        if len(_split_top_level(inner)) > 1:
            kind, text = text[0] + text[-1], inner
    elements = _split_top_level(text)
    if len(elements) < 2:
        return None
    restored = [element.replace("\x00", "\\{").replace("\x01", "\\}") for element in elements]
    return kind, restored


def _scalars_equal(left: str, right: str) -> bool:
    if left == right:
        return True
    left_number, right_number = parse_number(left), parse_number(right)
    if left_number is not None and right_number is not None:
        return _numbers_equal(left_number, right_number)
    from harness.scorers.math_sympy import symbolic_equal

    return symbolic_equal(left, right)


def math_answers_equal(candidate: str | None, target: str) -> bool:
    """Return whether ``candidate`` is the same final answer as ``target``.

    Parameters
    ----------
    candidate
        Answer extracted from the model's reply; None never matches.
    target
        Gold answer, in the same LaTeX conventions as MATH and GSM8K answers.
    """
    if candidate is None:
        return False
    left, right = normalize_math_answer(candidate), normalize_math_answer(target)
    if not left or not right:
        return False
    if _scalars_equal(left, right):
        return True

    left_sequence, right_sequence = _as_sequence(left), _as_sequence(right)
    if left_sequence is None or right_sequence is None:
        return False
    (left_kind, left_items), (right_kind, right_items) = left_sequence, right_sequence
    if left_kind != right_kind or len(left_items) != len(right_items):
        return False
    if all(_scalars_equal(a, b) for a, b in zip(left_items, right_items, strict=True)):
        return True
    # Sets and bare lists of solutions ("2, -3") match in any order.
    if left_kind in ("", "\x00\x01"):
        remaining = list(right_items)
        for item in left_items:
            match = next((other for other in remaining if _scalars_equal(item, other)), None)
            if match is None:
                return False
            remaining.remove(match)
        return True
    return False
