"""Table-driven tests of the Knights-and-Knaves, KOR-Bench and BBH graders."""

from __future__ import annotations

import pytest

from harness.scorers.bbh import bbh_correct, extract_bbh_answer
from harness.scorers.logic import extract_double_brackets, knights_and_knaves_correct, korbench_correct, parse_roles

NAMES = ["Ella", "Zoey", "Henry"]
SOLUTION = [True, False, True]

KNIGHTS_AND_KNAVES_CASES = [
    pytest.param(
        "CONCLUSION:\n(1) Ella is a knight\n(2) Zoey is a knave\n(3) Henry is a knight", True, id="conclusion-lines"
    ),
    pytest.param("Ella is a knight, Zoey is a knave, and Henry is a knight.", True, id="one-sentence"),
    pytest.param("**Ella**: Knight\n**Zoey**: Knave\n**Henry**: Knight", True, id="markdown-colon-list"),
    pytest.param(
        "Assume Zoey is a knight. Then Henry is a knave, a contradiction.\n"
        "CONCLUSION:\n(1) Ella is a knight\n(2) Zoey is a knave\n(3) Henry is a knight",
        True,
        id="reasoning-before-conclusion-ignored",
    ),
    pytest.param("Zoey is a knight at first... no: Ella is a knight, Zoey is a knave, Henry is a knight.", True,
                 id="last-statement-wins"),
    pytest.param(
        "CONCLUSION:\n(1) Ella is a knight\n(2) Zoey is a knave", False, id="missing-person"
    ),
    pytest.param(
        "CONCLUSION:\n(1) Ella is a knight\n(2) Zoey is a knight\n(3) Henry is a knight", False, id="one-role-wrong"
    ),
    pytest.param("Ella is not a knave, Zoey is not a knight, Henry is not a knave.", False, id="negations-not-roles"),
    pytest.param("CONCLUSION: all of them are knights except Zoey.", False, id="no-per-person-roles"),
    pytest.param(
        "<think>Ella is a knave, Zoey is a knight, Henry is a knave</think>Ella is a knight, Zoey is a knave, Henry is a knight.",
        True,
        id="think-block-ignored",
    ),
]


@pytest.mark.parametrize(("reply", "expected"), KNIGHTS_AND_KNAVES_CASES)
def test_knights_and_knaves_grader(reply: str, expected: bool) -> None:
    assert knights_and_knaves_correct(reply, NAMES, SOLUTION) is expected


def test_parse_roles_name_inside_longer_word() -> None:
    roles = parse_roles("Annabel is a knave. Ann is a knight.", ["Ann", "Annabel"])
    assert roles == {"Ann": "knight", "Annabel": "knave"}


def test_knights_and_knaves_length_mismatch() -> None:
    with pytest.raises(ValueError, match="2 names but 3 solution entries"):
        knights_and_knaves_correct("x", ["A", "B"], [True, False, True])


KORBENCH_CASES = [
    pytest.param("The result is [[10]].", "[[10]]", "operation", "1", True, id="operation-number"),
    pytest.param("2*3+4 = [[ 10 ]]", "[[10]]", "operation", "1", True, id="spaces-inside-brackets"),
    pytest.param("[[20/2]]", "[[10]]", "operation", "1", True, id="equal-fraction"),
    pytest.param("[[11]]", "[[10]]", "operation", "1", False, id="operation-off-by-one"),
    pytest.param("The answer is 10.", "[[10]]", "operation", "1", False, id="missing-double-brackets"),
    pytest.param("[[-4or4]]", "[[4or-4]]", "operation", "2", True, id="or-answers-any-order"),
    pytest.param("[[4]]", "[[4or-4]]", "operation", "2", False, id="or-answers-one-missing"),
    pytest.param("Format: [[your answer]] ... so [[DBC]]", "[[DBC]]", "cipher", "1", True, id="last-brackets-win"),
    pytest.param("[[dbc]]", "[[DBC]]", "cipher", "1", False, id="cipher-case-matters"),
    pytest.param("[[q=F; p=T.]]", "[[p=T;q=F]]", "logic", "5", True, id="logic-rule5-order-free"),
    pytest.param("[[p=T;q=T]]", "[[p=T;q=F]]", "logic", "5", False, id="logic-rule5-wrong-fact"),
    pytest.param("[[A, C, B]]", "[[A,C,B]]", "puzzle", "3", True, id="puzzle-punctuation-ignored"),
    pytest.param("[[A,B,C]]", "[[A,C,B]]", "puzzle", "3", False, id="puzzle-order-matters"),
]


@pytest.mark.parametrize(("reply", "answer", "category", "rule_id", "expected"), KORBENCH_CASES)
def test_korbench_grader(reply: str, answer: str, category: str, rule_id: str, expected: bool) -> None:
    assert korbench_correct(reply, answer, category, rule_id) is expected


def test_extract_double_brackets_none() -> None:
    assert extract_double_brackets("no brackets [here]") is None


BBH_CASES = [
    pytest.param("Let's think. So the answer is (A).", "(A)", True, id="option-in-parentheses"),
    pytest.param("So the answer is A.", "(A)", True, id="bare-option-letter"),
    pytest.param("So the answer is **(A) 02/23/2020**.", "(A)", True, id="option-with-text-and-bold"),
    pytest.param("So the answer is (B).", "(A)", False, id="wrong-option"),
    pytest.param("So the answer is Bob.", "(B)", False, id="word-starting-with-option-letter"),
    pytest.param("The answer is (A). Wait, recheck: so the answer is (C).", "(C)", True, id="last-statement-wins"),
    pytest.param("So the answer is True.", "True", True, id="true"),
    pytest.param("so the answer is true", "True", True, id="true-lowercase"),
    pytest.param("So the answer is False.", "True", False, id="false-for-true"),
    pytest.param("So the answer is Yes, it is plausible.", "Yes", True, id="yes-with-reason"),
    pytest.param("So the answer is invalid.", "valid", False, id="invalid-for-valid"),
    pytest.param("So the answer is 4.", "4", True, id="number"),
    pytest.param("So the answer is 4.0", "4", True, id="number-as-float"),
    pytest.param("So the answer is 14.", "4", False, id="different-number"),
    pytest.param("So the answer is } ] ).", "} ] )", True, id="dyck-closing"),
    pytest.param("So the answer is } ).", "} ] )", False, id="dyck-missing-bracket"),
    pytest.param("So the answer is apple fig pear.", "apple fig pear", True, id="word-sorting"),
    pytest.param("So the answer is apple pear fig.", "apple fig pear", False, id="word-sorting-wrong-order"),
    pytest.param("Four instruments.\n4", "4", True, id="last-line-fallback"),
    pytest.param("", "4", False, id="empty-reply"),
]


@pytest.mark.parametrize(("reply", "target", "expected"), BBH_CASES)
def test_bbh_grader(reply: str, target: str, expected: bool) -> None:
    assert bbh_correct(reply, target) is expected


def test_extract_bbh_answer_strips_period() -> None:
    assert extract_bbh_answer("So the answer is valid.") == "valid"
