"""Table-driven tests of the emotion label grader for EmoryNLP and MELD."""

from __future__ import annotations

import pytest

from harness.scorers.emotion import EMORYNLP_ALIASES, EMORYNLP_LABELS, MELD_ALIASES, MELD_LABELS, extract_label

MELD_CASES = [
    pytest.param("joy", "joy", id="bare-label"),
    pytest.param("Joy.", "joy", id="capitalized-with-period"),
    pytest.param("Emotion: anger", "anger", id="marker"),
    pytest.param("The speaker sounds angry.", "anger", id="adjective-alias"),
    pytest.param("Answer: **surprise**", "surprise", id="marker-bold"),
    pytest.param("It could be joy, but the answer is surprise", "surprise", id="marker-beats-mentions"),
    pytest.param("happy", None, id="synonym-outside-label-set"),
    pytest.param("Joyful", "joy", id="alias-alone"),
    pytest.param("Either sadness or anger.", None, id="two-labels-ambiguous"),
    pytest.param("Peaceful", None, id="emorynlp-label-rejected"),
    pytest.param("", None, id="empty"),
]


@pytest.mark.parametrize(("reply", "expected"), MELD_CASES)
def test_meld_label_extraction(reply: str, expected: str | None) -> None:
    assert extract_label(reply, MELD_LABELS, MELD_ALIASES) == expected


EMORYNLP_CASES = [
    pytest.param("Mad", "Mad", id="bare-label"),
    pytest.param("mad", "Mad", id="lowercase"),
    pytest.param("Emotion: Peaceful", "Peaceful", id="marker"),
    pytest.param("The speaker feels powerful here.", "Powerful", id="mention"),
    pytest.param("sadness", "Sad", id="noun-alias"),
    pytest.param("anger", None, id="meld-label-rejected"),
    pytest.param("Scared or Sad", None, id="two-labels-ambiguous"),
]


@pytest.mark.parametrize(("reply", "expected"), EMORYNLP_CASES)
def test_emorynlp_label_extraction(reply: str, expected: str | None) -> None:
    assert extract_label(reply, EMORYNLP_LABELS, EMORYNLP_ALIASES) == expected
