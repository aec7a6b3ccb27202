"""Final-answer extraction and equivalence for math replies."""

from __future__ import annotations

import pytest

from harness.scorers.math_answer import integer_answers_equal
from harness.scorers.math_equivalence import math_answers_equal, normalize_math_answer
from harness.scorers.math_extract import extract_math_answer, last_boxed
from harness.scorers.math_sympy import latex_to_expression, symbolic_equal

EQUAL = [
    ("\\frac{1}{2}", "\\dfrac12"),
    ("\\tfrac{1}{2}", "\\frac{1}{2}"),
    ("1/2", "\\frac{1}{2}"),
    ("0.5", "\\frac12"),
    (".5", "1/2"),
    ("-\\frac{1}{2}", "-0.5"),
    ("\\frac{-1}{2}", "-1/2"),
    ("1,000", "1000"),
    ("1{,}000", "1000"),
    ("1\\,000", "1000"),
    ("1,234,567", "1234567"),
    ("$18.00", "18"),
    ("\\$18", "18"),
    ("18 dollars", "18"),
    ("10\\text{ cm}", "10"),
    ("5\\text{ cm}^2", "5"),
    ("90^\\circ", "90"),
    ("90^{\\circ}", "90"),
    ("50\\%", "50"),
    ("x = 5", "5"),
    ("033", "33"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
    ("\\frac{\\sqrt{3}}{2}", "\\sqrt3/2"),
    ("\\sqrt{8}", "2\\sqrt{2}"),
    ("3\\pi", "3 \\pi"),
    ("2x+1", "1+2x"),
    ("2, -3", "-3, 2"),
    ("\\{1, 2\\}", "\\{2, 1\\}"),
    ("\\text{(C)}", "C"),
    ("\\text{Monday}", "Monday"),
    ("\\infty", "\\infty"),
    ("[1, 2)", "[1,2)"),
]

DIFFERENT = [
    ("\\frac{1}{3}", "0.333"),
    ("(1,2)", "(2,1)"),
    ("[1,2)", "(1,2)"),
    ("1,2", "12"),
    ("2x", "2"),
    ("17", "18"),
    ("0.5", "5"),
    ("\\sqrt{2}", "2"),
    ("18", "18.5"),
    ("-5", "5"),
    ("x^2", "x^3"),
    ("2 and 3", "23"),
    ("", "0"),
]


@pytest.mark.parametrize(("candidate", "target"), EQUAL)
def test_math_answers_equal_accepts(candidate: str, target: str) -> None:
    assert math_answers_equal(candidate, target)


@pytest.mark.parametrize(("candidate", "target"), DIFFERENT)
def test_math_answers_equal_rejects(candidate: str, target: str) -> None:
    assert not math_answers_equal(candidate, target)


def test_none_candidate_never_equal() -> None:
    assert not math_answers_equal(None, "0")


EXTRACTED = [
    ("So the answer is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
    ("First \\boxed{3}, then corrected: \\boxed{4}", "4"),
    ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("\\boxed 5", "5"),
    ("\\fbox{7}", "7"),
    ("The answer is 42.", "42"),
    ("The answer is 3.5.", "3.5"),
    ("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}"),
    ("She pays 3 * 6 = 18.\n#### 1,250", "1,250"),
    ("She makes $18 every day.", "18"),
    ("Total: 2 + 3 = 5 apples", "5"),
    ("x = 3\nProblem: Find y if y = 7.", "3"),
    ("<think>maybe 9</think>It is 10.", "10"),
]


@pytest.mark.parametrize(("reply", "expected"), EXTRACTED)
def test_extract_math_answer(reply: str, expected: str) -> None:
    assert extract_math_answer(reply) == expected


def test_extract_math_answer_none() -> None:
    assert extract_math_answer("I cannot solve this.") is None
    assert extract_math_answer("") is None


def test_last_boxed_unbalanced() -> None:
    assert last_boxed("\\boxed{\\frac{1}{2}") is None
    assert last_boxed("no box here") is None


@pytest.mark.parametrize(
    ("candidate", "target", "expected"),
    [("033", "33", True), ("33.0", "33", True), ("33", "33", True), ("33.5", "33", False), ("34", "33", False), (None, "33", False), ("x", "33", False)],
)
def test_integer_answers_equal(candidate: str | None, target: str, expected: bool) -> None:
    assert integer_answers_equal(candidate, target) is expected


def test_normalize_strips_layout() -> None:
    assert normalize_math_answer("\\left( 1, 2 \\right)") == "(1,2)"
    assert normalize_math_answer("\\dfrac{3}{4}.") == "\\frac{3}{4}"


@pytest.mark.parametrize(
    "unsafe",
    ["__import__('os')", "\\exec{1}", "9^{9^{9}}", "x.real", "2^{1000000}", "\\lambda", "factorial(10)"],
)
def test_symbolic_rejects_unsafe(unsafe: str) -> None:
    assert not symbolic_equal(unsafe, "1")
    assert not symbolic_equal(unsafe, "3628800")


def test_latex_to_expression_subset() -> None:
    assert latex_to_expression("\\frac{1}{\\sqrt{2}}") == "((1)/(sqrt(2)))"
    assert latex_to_expression("\\sqrt[3]{8}") == "((8)**(1/3))"
    assert latex_to_expression("\\log{2}") is None
