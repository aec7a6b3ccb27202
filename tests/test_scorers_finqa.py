"""Table-driven tests of the FinQA answer extraction and numeric grader."""

from __future__ import annotations

import pytest

from harness.scorers.finqa import extract_finqa_answer, finqa_correct, parse_number

FINQA_CASES = [
    pytest.param("Answer: 0.15", "0.15", "15%", True, id="fraction-exact"),
    pytest.param("Answer: 15%", "0.15", "15%", True, id="percent-sign"),
    pytest.param("Answer: 15", "0.15", "15%", True, id="percent-without-sign-gold-percent"),
    pytest.param("Answer: 14.1%", "0.14136", "14.1%", True, id="rounded-display-within-tolerance"),
    pytest.param("Answer: 14%", "0.14136", "14.1%", False, id="rounded-too-coarse"),
    pytest.param("Answer: 16%", "0.15", "15%", False, id="wrong-percent"),
    pytest.param("Answer: 15", "15.0", "15", True, id="integer-for-float"),
    pytest.param("Answer: 1500", "15.0", "15", False, id="percent-scaling-not-allowed-without-percent"),
    pytest.param("Answer: $1,150 million", "1150.0", "1150", True, id="dollars-and-commas"),
    pytest.param("Answer: (12.5)", "-12.5", "-12.5", True, id="accounting-negative"),
    pytest.param("Answer: -12.5", "-12.5", "-12.5", True, id="minus-sign"),
    pytest.param("Answer: 12.5", "-12.5", "-12.5", False, id="sign-missing"),
    pytest.param("Answer: 810.75", "810.75", "810.75", True, id="decimal-exact"),
    pytest.param("Answer: 810.7", "810.75", "810.75", True, id="decimal-within-tolerance"),
    pytest.param("Answer: 806", "810.75", "810.75", False, id="decimal-outside-tolerance"),
    pytest.param("Answer: 0", "0.0", "0", True, id="zero"),
    pytest.param("Answer: 0.001", "0.0", "0", False, id="zero-near-miss"),
    pytest.param("Answer: no", "no", "no", True, id="yes-no"),
    pytest.param("Answer: yes", "no", "no", False, id="yes-for-no"),
    pytest.param("Answer: unknown", "0.15", "15%", False, id="no-number"),
]


@pytest.mark.parametrize(("reply", "gold", "display", "expected"), FINQA_CASES)
def test_finqa_grader(reply: str, gold: str, display: str, expected: bool) -> None:
    assert finqa_correct(extract_finqa_answer(reply), gold, display) is expected


EXTRACTION_CASES = [
    pytest.param("Revenue rose from 1,000 to 1,150.\nAnswer: 15%", "15%", id="answer-line"),
    pytest.param("Step 1: 5 + 5 = 10. Answer: 10\nAnswer: 12", "12", id="last-answer-line"),
    pytest.param("The change is \\boxed{0.15}.", "0.15", id="boxed"),
    pytest.param("Growth was 3 points, to 15%", "15%", id="last-number-with-percent"),
    pytest.param("I answered this before: no idea", None, id="answered-word-is-not-a-marker"),
    pytest.param("no numbers here", None, id="nothing"),
]


@pytest.mark.parametrize(("reply", "expected"), EXTRACTION_CASES)
def test_extract_finqa_answer(reply: str, expected: str | None) -> None:
    assert extract_finqa_answer(reply) == expected


def test_parse_number_percent_flag() -> None:
    assert parse_number("-3.5 percent") == (-3.5, True)
