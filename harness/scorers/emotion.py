"""Grader for emotion recognition in conversation (EmoryNLP, MELD): one label from the benchmark's set."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from harness.scorers.text import strip_reasoning

# EmoryNLP labels follow Willcox's Feeling Wheel (emorynlp/emotion-detection 1.0).
EMORYNLP_LABELS = ("Joyful", "Mad", "Neutral", "Peaceful", "Powerful", "Sad", "Scared")
# Other word forms of a label that count as that label.
EMORYNLP_ALIASES = {"joy": "Joyful", "sadness": "Sad"}
MELD_LABELS = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")
MELD_ALIASES = {
    "joyful": "joy",
    "surprised": "surprise",
    "angry": "anger",
    "sad": "sadness",
    "disgusted": "disgust",
    "fearful": "fear",
}

_MARKER = re.compile(r"\b(?:emotion|answer|label)\b\s*(?:is)?\s*[:=]?\s*\**\s*([A-Za-z]+)", re.IGNORECASE)


def extract_label(reply: str, labels: Sequence[str], aliases: Mapping[str, str] | None = None) -> str | None:
    """Return the label that the reply chooses, in the spelling of ``labels``, or None.

    Tiers: the word after the last "Emotion:"/"Answer:"/"Label:", a reply that
    is one word, then the only label (or alias) mentioned anywhere. A reply
    that mentions two different labels and has no marker gets None.
    """
    by_word = {label.lower(): label for label in labels}
    for alias, label in (aliases or {}).items():
        by_word[alias.lower()] = label
    text = strip_reasoning(reply).strip()

    markers = [word.lower() for word in _MARKER.findall(text) if word.lower() in by_word]
    if markers:
        return by_word[markers[-1]]
    words = re.findall(r"[A-Za-z]+", text)
    if len(words) == 1:
        return by_word.get(words[0].lower())
    mentioned = {by_word[word.lower()] for word in words if word.lower() in by_word}
    return mentioned.pop() if len(mentioned) == 1 else None


@scorer(metrics=[accuracy(), stderr()])
def emotion_label_scorer(labels: Sequence[str], aliases: Mapping[str, str] | None = None) -> Scorer:
    """Score a reply by whether the label it chooses equals the target label."""

    async def score(state: TaskState, target: Target) -> Score:
        label = extract_label(state.output.completion, labels, aliases)
        correct = label is not None and label == target.text
        return Score(value=CORRECT if correct else INCORRECT, answer=label or "", explanation=f"gold: {target.text}")

    return score
