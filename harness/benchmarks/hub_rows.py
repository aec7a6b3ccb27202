"""Converters from Hugging Face hub rows to benchmark records.

Each converter takes the configuration name and the rows of one split and
yields records in the benchmark's schema. Field names follow the dataset cards
of the pinned repositories. Where a package copy exists too, ids follow the
same rule as the package reader, so results from both sources line up.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from harness.benchmarks.packaged import commonsense_qa_record, hellaswag_record
from harness.benchmarks.spec import Record
from harness.scorers.math_extract import last_boxed

Rows = list[dict[str, Any]]


def arc_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``allenai/ai2_arc`` rows (labels are A-E or 1-5)."""
    for row in rows:
        labels = list(row["choices"]["label"])
        yield {
            "id": row["id"],
            "question": row["question"],
            "choices": list(row["choices"]["text"]),
            "answer": labels.index(row["answerKey"]),
        }


def mmlu_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``cais/mmlu`` rows; ids are ``<subject>/<row within the subject>``."""
    seen: dict[str, int] = defaultdict(int)
    for row in rows:
        subject = row["subject"]
        yield {
            "id": f"{subject}/{seen[subject]}",
            "question": row["question"],
            "choices": list(row["choices"]),
            "answer": int(row["answer"]),
            "subject": subject,
        }
        seen[subject] += 1


def gsm8k_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``openai/gsm8k`` rows; the answer follows "####" in the solution."""
    for index, row in enumerate(rows):
        answer = row["answer"].split("####")[-1].strip().replace(",", "")
        yield {"id": str(index), "problem": row["question"], "answer": answer}


def math500_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``HuggingFaceH4/MATH-500`` rows; the id is the row number, as in the package reader."""
    for index, row in enumerate(rows):
        answer = row.get("answer") or last_boxed(row.get("solution", "")) or ""
        yield {
            "id": str(index),
            "problem": row["problem"],
            "answer": answer,
            "subject": row.get("subject") or "",
            "level": row.get("level"),
        }


def medqa_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert MedQA rows with ``options`` as a letter-keyed dict or a list and ``answer_idx`` as a letter."""
    for index, row in enumerate(rows):
        options = row.get("options") or row.get("choices")
        if isinstance(options, dict):
            letters = sorted(options)
            choices = [options[letter] for letter in letters]
        else:
            letters = [chr(ord("A") + i) for i in range(len(options))]
            choices = list(options)
        answer = row["answer_idx"]
        yield {
            "id": str(row.get("index", index)),
            "question": row["question"],
            "choices": choices,
            "answer": letters.index(answer) if isinstance(answer, str) else int(answer),
            "subject": row.get("meta_info") or "",
        }


def winogrande_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``allenai/winogrande`` rows; the id is the row number."""
    for index, row in enumerate(rows):
        yield {
            "id": str(index),
            "question": row["sentence"],
            "choices": [row["option1"], row["option2"]],
            "answer": int(row["answer"]) - 1,
        }


def hellaswag_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``Rowan/hellaswag`` rows; the id is the row number."""
    for index, row in enumerate(rows):
        yield hellaswag_record(row, str(index))


def commonsense_qa_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``tau/commonsense_qa`` rows."""
    for row in rows:
        yield commonsense_qa_record(row)


def mmlu_pro_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``TIGER-Lab/MMLU-Pro`` rows (up to 10 options, gold as ``answer_index``)."""
    for row in rows:
        yield {
            "id": str(row["question_id"]),
            "question": row["question"],
            "choices": list(row["options"]),
            "answer": int(row["answer_index"]),
            "subject": row.get("category") or "",
        }


def shuffled_options(record_id: str, correct: str, incorrect: list[str]) -> tuple[list[str], int]:
    """Return the options in an order fixed by ``record_id``, and the index of the correct one.

    GPQA lists the correct answer first, so the order has to be shuffled; seeding
    with a SHA-256 of the id gives the same order on every machine and run.
    """
    options = [correct, *incorrect]
    seed = int.from_bytes(hashlib.sha256(record_id.encode("utf-8")).digest()[:8], "big")
    order = list(range(len(options)))
    random.Random(seed).shuffle(order)
    return [options[i] for i in order], order.index(0)


def gpqa_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``Idavidrein/gpqa`` rows, with the options shuffled per record id."""
    for row in rows:
        record_id = row["Record ID"]
        incorrect = [row[f"Incorrect Answer {n}"].strip() for n in (1, 2, 3)]
        choices, answer = shuffled_options(record_id, row["Correct Answer"].strip(), incorrect)
        yield {
            "id": record_id,
            "question": row["Question"].strip(),
            "choices": choices,
            "answer": answer,
            "subject": row.get("Subdomain") or row.get("High-level domain") or "",
        }


def livemathbench_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``opencompass/LiveMathBench`` rows; ids are ``<config>/<row>``.

    Options of choice questions, when present, are appended to the problem text.
    """
    for index, row in enumerate(rows):
        problem = row["question"]
        if row.get("options"):
            problem = f"{problem}\n" + "\n".join(str(option) for option in row["options"])
        answer = re.sub(r"^\$(.*)\$$", r"\1", str(row["answer"]).strip())
        yield {
            "id": f"{config}/{index}",
            "problem": problem,
            "answer": answer,
            "subject": row.get("question_type") or "",
        }
