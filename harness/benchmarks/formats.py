"""Record schemas, zero-shot prompts and task builders for multiple choice and math benchmarks.

Prompts are plain text that works as a chat message for instruct models and
as a completion prompt for base models: the instruction, the question, and a
closing cue ("Answer:" or "Solution:") that a base model continues.
"""

from __future__ import annotations

from collections.abc import Sequence

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from harness.benchmarks.spec import BenchmarkSpec, Record, RecordSchema, SchemaField
from harness.scorers import choice_letter, math_answer, option_letters

MULTIPLE_CHOICE_SCHEMA = RecordSchema(
    (
        SchemaField("id", (str, int), "identifier, unique within the benchmark"),
        SchemaField("question", (str,), "question text, without the options"),
        SchemaField("choices", (list,), "option texts in order; the first is option A"),
        SchemaField("answer", (str, int), 'gold option as a letter ("C") or a 0-based index (2)'),
        SchemaField("subject", (str,), "subject or category, kept in the sample metadata", required=False),
    )
)

MATH_SCHEMA = RecordSchema(
    (
        SchemaField("id", (str, int), "identifier, unique within the benchmark"),
        SchemaField("problem", (str,), "problem statement (LaTeX allowed)"),
        SchemaField("answer", (str, int, float), "final answer, as LaTeX or a number"),
        SchemaField("subject", (str,), "subject or source, kept in the sample metadata", required=False),
        SchemaField("level", (str, int), "difficulty level, kept in the sample metadata", required=False),
    )
)

# The second sentence matters with a 32-token budget: without it Qwen2.5-Coder-1.5B
# began 4 of 6 sampled ARC/MMLU replies with reasoning and never reached a letter.
MULTIPLE_CHOICE_INSTRUCTION = "Answer with the letter of the correct option. Reply with the letter only."
MATH_INSTRUCTION = "Solve the problem. Put the final answer in \\boxed{}."

# Token budgets: a letter plus a short reason, and a short worked solution.
# At about 25 tokens/s (a 1.5B Q4 model on 2 CPU cores) 384 tokens take about 15 s.
MULTIPLE_CHOICE_MAX_TOKENS = 32
MATH_MAX_TOKENS = 384

# A base model tends to go on with a question of its own after answering.
MULTIPLE_CHOICE_STOP = ["\nQuestion:"]
MATH_STOP = ["\nProblem:"]


def gold_letter(answer: str | int, choice_count: int) -> str:
    """Return the gold option letter from a letter or a 0-based index.

    Raises
    ------
    ValueError
        If the letter or index is outside the options.
    """
    letters = option_letters(choice_count)
    if isinstance(answer, int):
        if not 0 <= answer < choice_count:
            raise ValueError(f"answer index {answer} is outside the {choice_count} options")
        return letters[answer]
    letter = answer.strip().upper()
    if len(letter) != 1 or letter not in letters:
        raise ValueError(f"answer {answer!r} is not one of the option letters {letters}")
    return letter


def multiple_choice_prompt(question: str, choices: Sequence[str], preamble: str | None = None) -> str:
    """Return the full prompt: optional preamble, question, lettered options, instruction, "Answer:"."""
    letters = option_letters(len(choices))
    options = "\n".join(f"{letter}. {text.strip()}" for letter, text in zip(letters, choices, strict=True))
    head = f"{preamble.strip()}\n\n" if preamble else ""
    return f"{head}Question: {question.strip()}\n\n{options}\n\n{MULTIPLE_CHOICE_INSTRUCTION}\nAnswer:"


def math_prompt(problem: str) -> str:
    """Return the full prompt: instruction, problem, "Solution:"."""
    return f"{MATH_INSTRUCTION}\n\nProblem: {problem.strip()}\n\nSolution:"


def multiple_choice_sample(record: Record, benchmark: str, preamble: str | None = None) -> Sample:
    """Build a Sample from a record in ``MULTIPLE_CHOICE_SCHEMA``.

    ``choices`` contains the option texts (the scorer matches a reply that quotes
    one), ``target`` the gold letter.
    """
    choices = [str(choice) for choice in record["choices"]]
    if len(choices) < 2:
        raise ValueError(f"needs at least 2 options, got {len(choices)}")
    metadata = {"benchmark": benchmark}
    if record.get("subject"):
        metadata["subject"] = record["subject"]
    return Sample(
        id=str(record["id"]),
        input=multiple_choice_prompt(record["question"], choices, preamble),
        choices=choices,
        target=gold_letter(record["answer"], len(choices)),
        metadata=metadata,
    )


def math_sample(record: Record, benchmark: str) -> Sample:
    """Build a Sample from a record in ``MATH_SCHEMA``; ``target`` is the final answer as a string."""
    answer = record["answer"]
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    metadata = {"benchmark": benchmark}
    for key in ("subject", "level"):
        if record.get(key) is not None:
            metadata[key] = record[key]
    return Sample(
        id=str(record["id"]),
        input=math_prompt(record["problem"]),
        target=str(answer).strip(),
        metadata=metadata,
    )


def multiple_choice_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build a zero-shot generate-then-extract-the-letter Task."""
    return Task(
        dataset=MemoryDataset(samples, name=spec.name),
        solver=generate(),
        scorer=choice_letter(),
        config=GenerateConfig(max_tokens=MULTIPLE_CHOICE_MAX_TOKENS, temperature=0.0, stop_seqs=MULTIPLE_CHOICE_STOP),
        name=spec.name,
        metadata={"benchmark": spec.name, "group": spec.group, "split": spec.split},
    )


def _math_task(spec: BenchmarkSpec, samples: list[Sample], integer: bool) -> Task:
    return Task(
        dataset=MemoryDataset(samples, name=spec.name),
        solver=generate(),
        scorer=math_answer(integer=integer),
        config=GenerateConfig(max_tokens=MATH_MAX_TOKENS, temperature=0.0, stop_seqs=MATH_STOP),
        name=spec.name,
        metadata={"benchmark": spec.name, "group": spec.group, "split": spec.split},
    )


def math_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build a zero-shot Task scored by final-answer equivalence."""
    return _math_task(spec, samples, integer=False)


def integer_math_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build a zero-shot Task whose answers are integers (AIME)."""
    return _math_task(spec, samples, integer=True)
