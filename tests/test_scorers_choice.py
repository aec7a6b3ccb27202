"""Letter extraction from multiple choice replies, on replies in the forms models write."""

from __future__ import annotations

import pytest

from harness.scorers.choice import extract_choice, option_letters

FOUR = [
    "Planetary density will decrease.",
    "Planetary years will become longer.",
    "Planetary days will become shorter.",
    "Planetary gravity will become stronger.",
]
TEN = [f"option text {n}" for n in range(10)]

ACCEPTED = [
    ("The answer is (C)", FOUR, "C"),
    ("The answer is C.", FOUR, "C"),
    ("the correct answer is: **C**", FOUR, "C"),
    ("Answer: C", FOUR, "C"),
    ("answer: c", FOUR, "C"),
    ("Final answer: C) Planetary days will become shorter.", FOUR, "C"),
    ("C)", FOUR, "C"),
    ("C", FOUR, "C"),
    (" C\n", FOUR, "C"),
    ("(C)", FOUR, "C"),
    ("**C**", FOUR, "C"),
    ("**C. Planetary days will become shorter.**", FOUR, "C"),
    ("C. Planetary days will become shorter.", FOUR, "C"),
    ("C: faster rotation shortens the day.", FOUR, "C"),
    ("C is correct because the day gets shorter.", FOUR, "C"),
    ("Option C is the best answer.", FOUR, "C"),
    ("The correct option is C", FOUR, "C"),
    ("A good choice is C.", FOUR, "C"),
    ("The answer to this question is C.", FOUR, "C"),
    ("\\boxed{C}", FOUR, "C"),
    ("\\boxed{\\text{C}}", FOUR, "C"),
    ("Planetary days will become shorter.", FOUR, "C"),
    ("planetary days will become shorter", FOUR, "C"),
    ("The answer is planetary days will become shorter", FOUR, "C"),
    ("Planetary days will become shorter, since rotation is faster.", FOUR, "C"),
    ("Faster spin means planetary days will become shorter over time.", FOUR, "C"),
    # Two mentions of the same letter are one assertion.
    ("The answer is C. So, C.", FOUR, "C"),
    # An explanation after the explicit answer does not count as a second answer.
    ("Answer: C\nExplanation: A is wrong because density is unchanged.", FOUR, "C"),
    # A base model that goes on with a question of its own is cut there.
    ("C\n\nQuestion: What is 2+2?\nA. 3\nB. 4\nAnswer: B", FOUR, "C"),
    ("<think>Maybe A? No.</think>The answer is C.", FOUR, "C"),
    # Letters beyond D exist only when there are more options.
    ("The answer is (I).", TEN, "I"),
    ("J", TEN, "J"),
]

REJECTED = [
    ("The answer is A or B", FOUR),
    ("The answer is (A) or (B).", FOUR),
    ("A, B", FOUR),
    ("Answer: A and C", FOUR),
    ("Answer: A\nAnswer: C", FOUR),
    ("(A) or maybe (C)", FOUR),
    ("", FOUR),
    ("I don't know.", FOUR),
    ("I think so.", TEN),
    ("A good question.", FOUR),
    ("The answer is not obvious.", FOUR),
    ("The answer is E.", FOUR),
    ("Planetary", FOUR),
    ("<think>The answer is C", FOUR),
]


@pytest.mark.parametrize(("reply", "choices", "expected"), ACCEPTED)
def test_extract_choice_accepts(reply: str, choices: list[str], expected: str) -> None:
    assert extract_choice(reply, choices) == expected


@pytest.mark.parametrize(("reply", "choices"), REJECTED)
def test_extract_choice_rejects(reply: str, choices: list[str]) -> None:
    assert extract_choice(reply, choices) is None


def test_option_text_prefers_longest_match() -> None:
    choices = ["mall", "mall of america", "bank"]
    assert extract_choice("mall of america", choices) == "B"
    assert extract_choice("mall", choices) == "A"


def test_short_option_text_not_matched_inside() -> None:
    choices = ["4", "5", "6", "7"]
    assert extract_choice("5", choices) == "B"
    assert extract_choice("There are 5 apples and 4 pears.", choices) is None


def test_option_letters_range() -> None:
    assert option_letters(4) == "ABCD"
    with pytest.raises(ValueError, match="1 to 26"):
        option_letters(0)
    with pytest.raises(ValueError, match="1 to 26"):
        option_letters(27)
