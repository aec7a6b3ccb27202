"""FinQA: numerical reasoning over financial report text and tables, from the hub or a local file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import Sample

from harness.benchmarks.catalog._generation import generation_task
from harness.benchmarks.spec import BenchmarkSpec, HubSource, Record, RecordSchema, SchemaField
from harness.scorers.finqa import finqa_scorer

# A few calculation steps and the answer line.
FINQA_MAX_TOKENS = 384

FINQA_SCHEMA = RecordSchema(
    (
        SchemaField("id", (str,), 'FinQA id, for example "ETR/2016/page_23.pdf-2"'),
        SchemaField("question", (str,), "question text"),
        SchemaField("pre_text", (list,), "report sentences before the table"),
        SchemaField("post_text", (list,), "report sentences after the table"),
        SchemaField("table", (list,), "table rows, each a list of cell strings; the first row is the header"),
        SchemaField("answer", (str, int, float), 'gold answer as FinQA displays it, for example "14.1%"'),
        SchemaField(
            "final_result",
            (str, int, float),
            'executed gold result, for example "0.14136" or "yes"; graded against when present',
            required=False,
        ),
    )
)

INSTRUCTION = (
    "Answer the question using the financial report excerpt and table. "
    "Finish with a line \"Answer: <number>\" (or \"Answer: yes\" / \"Answer: no\")."
)


def _table_text(table: list[list[Any]]) -> str:
    return "\n".join(" | ".join(str(cell).strip() for cell in row) for row in table)


def finqa_sample(record: Record, benchmark: str) -> Sample:
    """Build a FinQA Sample; the target is the executed result when the record has one."""
    final_result = record.get("final_result")
    gold = final_result if final_result not in (None, "") else record["answer"]
    context = "\n".join(
        part
        for part in (
            " ".join(str(sentence).strip() for sentence in record["pre_text"]),
            _table_text(record["table"]),
            " ".join(str(sentence).strip() for sentence in record["post_text"]),
        )
        if part.strip()
    )
    prompt = f"{INSTRUCTION}\n\n{context}\n\nQuestion: {record['question'].strip()}\n\nAnswer:"
    return Sample(
        id=str(record["id"]),
        input=prompt,
        target=str(gold).strip(),
        metadata={"benchmark": benchmark, "answer_display": str(record["answer"]).strip()},
    )


def finqa_rows(_config: str | None, rows: list[dict[str, Any]]) -> Iterator[Record]:
    """Convert FinQA hub rows (fields id, pre_text, post_text, table, question, answer, final_result)."""
    for row in rows:
        yield {
            "id": row["id"],
            "question": row["question"],
            "pre_text": list(row["pre_text"]),
            "post_text": list(row["post_text"]),
            "table": [list(table_row) for table_row in row["table"]],
            "answer": row["answer"],
            "final_result": row.get("final_result") or "",
        }


def finqa_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build the FinQA Task."""
    return generation_task(spec, samples, finqa_scorer(), FINQA_MAX_TOKENS)


BENCHMARKS = [
    BenchmarkSpec(
        name="finqa",
        group="finance",
        description="FinQA: 1,147 numerical questions over financial reports, numeric answers",
        split="test",
        expected_count=1147,
        license="CC-BY-4.0 (dataset card of ibm-research/finqa)",
        schema=FINQA_SCHEMA,
        to_sample=finqa_sample,
        build_task=finqa_task,
        hub=HubSource("MothMalone/finqa", None, (None,), "test", finqa_rows),
        notes=(
            "NOTE: MothMalone/finqa is a Parquet copy of FinQA whose card lists the fields read here; "
            "ibm-research/finqa needs a loading script, which current `datasets` releases do not run. "
            "The hub revision is not pinned because none was verified here.",
        ),
    ),
]
