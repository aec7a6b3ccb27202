"""Answer extraction and scorers for multiple choice and math benchmarks."""

from harness.scorers.choice import choice_letter, extract_choice, option_letters
from harness.scorers.math_answer import integer_answers_equal, math_answer
from harness.scorers.math_equivalence import math_answers_equal, normalize_math_answer
from harness.scorers.math_extract import extract_math_answer

__all__ = [
    "choice_letter",
    "extract_choice",
    "extract_math_answer",
    "integer_answers_equal",
    "math_answer",
    "math_answers_equal",
    "normalize_math_answer",
    "option_letters",
]
