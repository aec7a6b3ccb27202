"""Find the option letter that a model's reply chooses, and score it against the gold letter.

Extraction runs in tiers and stops at the first tier that finds anything:

1. explicit statements: "The answer is (C)", "Answer: C", "correct option is C",
   "C is correct", ``\\boxed{C}``;
2. letter formatting: a reply that starts with "C", "C)", "(C)", "C." or "**C**",
   a letter alone on a line, "(C)" or "**C**" anywhere;
3. the text of an option: the whole reply, the start of the reply, or the only
   option whose text appears in it.

Within tier 1 or 2, two different letters mean the reply is ambiguous and it
gets no answer. Only letters of the sample's options count (A-D for four options).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState

from harness.scorers.text import strip_continuation, strip_reasoning

LETTERS = string.ascii_uppercase

# Words that open an explicit statement of the chosen letter.
_VERB = r"(?:is|was|would\s+be|should\s+be|will\s+be|must\s+be)"
_OPEN = r"[\s:(\[*_\"'=]*"
_CLOSE = r"(?![A-Za-z0-9])"

# Minimum length of an option text matched anywhere inside a reply; shorter
# options (numbers, single words such as "no") match only the whole reply or its start.
MIN_CONTAINED_OPTION_CHARS = 4


def option_letters(count: int) -> str:
    """Return the letters of ``count`` options (``"ABCD"`` for 4).

    Raises
    ------
    ValueError
        If ``count`` is not between 1 and 26.
    """
    if not 1 <= count <= len(LETTERS):
        raise ValueError(f"a question needs 1 to 26 options, got {count}")
    return LETTERS[:count]


def _explicit_patterns(letters: str) -> list[re.Pattern[str]]:
    letter = f"([{letters}])"
    return [
        re.compile(rf"(?i:\banswer\b)(?:[^.\n:]{{0,40}}?\s{_VERB})?{_OPEN}{letter}{_CLOSE}"),
        re.compile(
            rf"(?i:\b(?:correct|right|best)\s+(?:option|choice|letter)\b)(?:\s+{_VERB})?{_OPEN}{letter}{_CLOSE}"
        ),
        re.compile(rf"(?i:\b(?:option|choice)\s+)[(*]*{letter}[)*]*(?i:\s+is\s+(?:the\s+)?(?:correct|right|best|answer))"),
        re.compile(rf"(?i:\b(?:option|choice|letter)\s+{_VERB}){_OPEN}{letter}{_CLOSE}"),
        # Lower case only right after "answer" and at the end of a sentence: "answer: c".
        re.compile(rf"(?i:\banswer\b(?:\s+is)?\s*:?\s*)\(?([{letters.lower()}])\)?(?=\s*\Z|[.)]\s|[.)]\Z)"),
        re.compile(rf"(?<![A-Za-z0-9]){letter}\)?(?:\*\*)?(?i:\s+is\s+(?:the\s+)?(?:correct|right|best)\b)"),
        re.compile(rf"\\boxed\{{\s*(?:\\text(?:bf)?\{{)?\s*\(?{letter}\)?\s*\}}"),
    ]


def _format_patterns(letters: str) -> list[re.Pattern[str]]:
    letter = f"([{letters}])"
    return [
        # Reply starts with the letter: "C", "C)", "(C)", "C.", "C:", "**C**", "C - text".
        re.compile(rf"\A[\s*_(\[#>]*{letter}(?:\s*\Z|[)\].:*_]|\s+[-\u2013\u2014]\s|\s*\n)"),
        # A letter alone on a line.
        re.compile(rf"^[\s*_(\[]*{letter}[)\].:*_]*\s*$", re.MULTILINE),
        re.compile(rf"\({letter}\)"),
        re.compile(rf"\*\*{letter}\*\*"),
    ]


def _single_letter(patterns: list[re.Pattern[str]], text: str, letters: str) -> tuple[bool, str | None]:
    """Return (found, letter); letter is None when matches disagree."""
    # "A or B", "A, C", "B and D" right after a match assert the other letters as well.
    alternative = re.compile(rf"[)*]*\s*(?:,|/|&|\bor\b|\band\b)\s*[(*]*([{letters}])(?![A-Za-z0-9])")
    found: set[str] = set()
    for pattern in patterns:
        for match in pattern.finditer(text):
            found.add(match.group(1).upper())
            extra = alternative.match(text, match.end())
            if extra:
                found.add(extra.group(1))
    if not found:
        return False, None
    if len(found) > 1:
        return True, None
    return True, found.pop()


def _normalize_text(text: str) -> str:
    text = text.lower().replace("*", "").replace("_", " ")
    text = re.sub(r"\s+", " ", text).strip()
    return text.strip(string.punctuation + " ")


_LEAD_IN = re.compile(r"^(?:the\s+)?(?:correct\s+|final\s+|best\s+)?(?:answer|option|choice)(?:\s+is)?\s*:?\s*", re.I)


def _match_option_text(reply: str, choices: Sequence[str], letters: str) -> str | None:
    options = [_normalize_text(choice) for choice in choices]
    candidates = [_normalize_text(reply)]
    stripped = _normalize_text(_LEAD_IN.sub("", reply.strip()))
    if stripped != candidates[0]:
        candidates.append(stripped)

    for text in candidates:
        exact = [i for i, option in enumerate(options) if option and option == text]
        if len(exact) == 1:
            return letters[exact[0]]

    for text in candidates:
        prefixed = [
            i for i, option in enumerate(options)
            if option and text.startswith(option) and not text[len(option): len(option) + 1].isalnum()
        ]
        if prefixed:
            longest = max(prefixed, key=lambda i: len(options[i]))
            if sum(1 for i in prefixed if options[i] == options[longest]) == 1:
                return letters[longest]

    text = candidates[0]
    contained = [
        i for i, option in enumerate(options)
        if len(option) >= MIN_CONTAINED_OPTION_CHARS
        and re.search(rf"(?<![a-z0-9]){re.escape(option)}(?![a-z0-9])", text)
    ]
    # An option found only as part of a longer found option does not count.
    contained = [i for i in contained if not any(j != i and options[i] in options[j] for j in contained)]
    if len(contained) == 1:
        return letters[contained[0]]
    return None


def extract_choice(reply: str, choices: Sequence[str]) -> str | None:
    """Return the option letter that ``reply`` chooses, or None if it chooses none or several.

    Parameters
    ----------
    reply
        The model's completion.
    choices
        Option texts in letter order; their count sets the valid letters.
    """
    letters = option_letters(len(choices))
    text = strip_continuation(strip_reasoning(reply), ("Question:",))
    if not text.strip():
        return None

    for patterns in (_explicit_patterns(letters), _format_patterns(letters)):
        found, letter = _single_letter(patterns, text, letters)
        if found:
            return letter
    return _match_option_text(text, choices, letters)


@scorer(metrics=[accuracy(), stderr()])
def choice_letter() -> Scorer:
    """Score a multiple choice reply: CORRECT when the extracted letter equals the target letter.

    The options come from ``state.choices`` (the Sample's ``choices``), and the
    Score's ``answer`` is the extracted letter or "" when none was found.
    """

    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion
        choices = [choice.value for choice in state.choices]
        letter = extract_choice(reply, choices) if choices else None
        gold = target.text.strip().upper()
        return Score(
            value=CORRECT if letter is not None and letter == gold else INCORRECT,
            answer=letter or "",
            explanation=reply,
        )

    return score
