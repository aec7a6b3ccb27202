"""Logic and rule-following benchmarks that only the Hugging Face hub (or a local file) provides.

* KOR-Bench: apply a newly defined rule (operation, logic, cipher, puzzle,
  counterfactual); answers in ``[[...]]``.
* Knights and Knaves: decide who is a knight (truthful) or a knave (liar).
* BIG-Bench Hard: 27 reasoning tasks with short exact answers.

Local JSONL schemas are listed in each spec; the fixture files under
``tests/fixtures/benchmarks/`` show one example of each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from inspect_ai import Task
from inspect_ai.dataset import Sample

from harness.benchmarks.catalog._generation import generation_task
from harness.benchmarks.spec import BenchmarkSpec, HubSource, Record, RecordSchema, SchemaField
from harness.scorers.bbh import bbh_scorer
from harness.scorers.logic import knights_and_knaves_scorer, korbench_scorer

Rows = list[dict[str, Any]]

# Room for a short chain of thought before the final line. An estimate: 512
# tokens take about 20 s at 25 tokens/s (a 1.5B Q4 model on 2 CPU cores).
REASONING_MAX_TOKENS = 512
BBH_MAX_TOKENS = 384

KORBENCH_CATEGORIES = ("operation", "logic", "cipher", "puzzle", "counterfactual")

KORBENCH_SCHEMA = RecordSchema(
    (
        SchemaField("id", (str, int), 'identifier, for example "cipher/12"'),
        SchemaField("category", (str,), "one of operation, logic, cipher, puzzle, counterfactual"),
        SchemaField("rule_id", (str, int), "rule number within the category (rule.jsonl idx)"),
        SchemaField("rule_content", (str,), "text of the rule the question uses"),
        SchemaField("question", (str,), "question text, including the [[answer]] format request"),
        SchemaField("answer", (str,), 'gold answer in double brackets, for example "[[24]]"'),
    )
)

KNIGHTS_AND_KNAVES_SCHEMA = RecordSchema(
    (
        SchemaField("id", (str, int), 'identifier, for example "3ppl/17"'),
        SchemaField("quiz", (str,), "puzzle text"),
        SchemaField("names", (list,), "names of the inhabitants in order"),
        SchemaField("solution", (list,), "one boolean per name, true for a knight"),
        SchemaField("solution_text", (str,), "gold solution as a sentence", required=False),
    )
)

BBH_SCHEMA = RecordSchema(
    (
        SchemaField("id", (str, int), 'identifier, for example "navigate/3"'),
        SchemaField("task", (str,), 'BBH task name, for example "navigate"'),
        SchemaField("input", (str,), "question text as BBH gives it"),
        SchemaField("target", (str,), 'gold answer, for example "(B)", "Yes", "24" or ") ]"'),
    )
)

# The 27 BBH tasks, one hub configuration each. Test sizes: 250 each, except
# causal_judgement (187), penguins_in_a_table (146) and snarks (178): 6,511 in all.
BBH_TASKS = (
    "boolean_expressions",
    "causal_judgement",
    "date_understanding",
    "disambiguation_qa",
    "dyck_languages",
    "formal_fallacies",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "sports_understanding",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
    "web_of_lies",
    "word_sorting",
)

# Knights and Knaves test configuration: 100 puzzles for each group size of 2 to 8 people.
KNIGHTS_AND_KNAVES_SPLITS = "+".join(f"{people}ppl" for people in range(2, 9))


def korbench_sample(record: Record, benchmark: str) -> Sample:
    """Build a KOR-Bench Sample: the rule, the question, and an answer cue."""
    category = str(record["category"]).strip().lower()
    if category not in KORBENCH_CATEGORIES:
        raise ValueError(f"category {record['category']!r} is not one of {', '.join(KORBENCH_CATEGORIES)}")
    prompt = (
        "You are given a new rule. Apply it exactly as stated to answer the question.\n\n"
        f"### Rule\n{record['rule_content'].strip()}\n\n"
        f"### Question\n{record['question'].strip()}\n\n"
        "### Answer\n"
    )
    return Sample(
        id=str(record["id"]),
        input=prompt,
        target=record["answer"].strip(),
        metadata={"benchmark": benchmark, "category": category, "rule_id": str(record["rule_id"])},
    )


def knights_and_knaves_sample(record: Record, benchmark: str) -> Sample:
    """Build a Knights-and-Knaves Sample whose prompt requests a CONCLUSION line per person."""
    names = [str(name) for name in record["names"]]
    solution = record["solution"]
    if len(names) != len(solution) or not all(isinstance(value, bool) for value in solution):
        raise ValueError(f"needs one boolean solution entry per name, got names={names} solution={solution}")
    roles = ", ".join(f"{name} is a {'knight' if knight else 'knave'}" for name, knight in zip(names, solution))
    prompt = (
        f"{record['quiz'].strip()}\n\n"
        "Reason it through, then write a line \"CONCLUSION:\" followed by one line per inhabitant "
        "in the form \"(1) Name is a knight\" or \"(1) Name is a knave\".\n\nAnswer:"
    )
    return Sample(
        id=str(record["id"]),
        input=prompt,
        target=roles,
        metadata={"benchmark": benchmark, "names": names, "solution": list(solution), "people": len(names)},
    )


def bbh_sample(record: Record, benchmark: str) -> Sample:
    """Build a BBH Sample whose prompt requests BBH's own closing phrase "So the answer is X."."""
    prompt = (
        f"{record['input'].strip()}\n\n"
        'Think step by step, then finish with "So the answer is <answer>."\n\nAnswer:'
    )
    return Sample(
        id=str(record["id"]),
        input=prompt,
        target=record["target"].strip(),
        metadata={"benchmark": benchmark, "task": record["task"]},
    )


def knights_and_knaves_rows(_config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert ``K-and-K/knights-and-knaves`` test rows; ids are ``<n>ppl/<row within that size>``."""
    seen: dict[int, int] = defaultdict(int)
    for row in rows:
        people = len(row["names"])
        yield {
            "id": f"{people}ppl/{seen[people]}",
            "quiz": row["quiz"],
            "names": list(row["names"]),
            "solution": [bool(value) for value in row["solution"]],
            "solution_text": row.get("solution_text") or "",
        }
        seen[people] += 1


def bbh_rows(config: str | None, rows: Rows) -> Iterator[Record]:
    """Convert the rows of one ``lukaemon/bbh`` task; ids are ``<task>/<row>``."""
    for index, row in enumerate(rows):
        yield {"id": f"{config}/{index}", "task": config, "input": row["input"], "target": row["target"]}


def korbench_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build the KOR-Bench Task."""
    return generation_task(spec, samples, korbench_scorer(), REASONING_MAX_TOKENS)


def knights_and_knaves_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build the Knights-and-Knaves Task."""
    return generation_task(spec, samples, knights_and_knaves_scorer(), REASONING_MAX_TOKENS)


def bbh_task(spec: BenchmarkSpec, samples: list[Sample]) -> Task:
    """Build the BBH Task."""
    return generation_task(spec, samples, bbh_scorer(), BBH_MAX_TOKENS)


BENCHMARKS = [
    BenchmarkSpec(
        name="korbench",
        group="logic",
        description="KOR-Bench: apply newly defined rules (5 categories), answers in [[...]]",
        split="test",
        expected_count=1250,
        license="not verified (KOR-Bench/KOR-Bench on GitHub)",
        schema=KORBENCH_SCHEMA,
        to_sample=korbench_sample,
        build_task=korbench_task,
        notes=(
            "NOTE: no Hugging Face repository of KOR-Bench was verified, so it loads only from "
            "<data-dir>/korbench.jsonl. The GitHub repository KOR-Bench/KOR-Bench keeps data/<category>/"
            "rule.jsonl and sample.jsonl: join each sample to its rule by rule_id to write that file.",
            "NOTE: the expected count 1,250 (5 categories x 25 rules x 10 questions) is taken from the "
            "benchmark's layout and was not counted here.",
        ),
    ),
    BenchmarkSpec(
        name="knights_and_knaves",
        group="logic",
        description="Knights and Knaves: 700 puzzles with 2-8 inhabitants, every role must be right",
        split="test",
        expected_count=700,
        license="not verified (K-and-K/knights-and-knaves card)",
        schema=KNIGHTS_AND_KNAVES_SCHEMA,
        to_sample=knights_and_knaves_sample,
        build_task=knights_and_knaves_task,
        hub=HubSource("K-and-K/knights-and-knaves", None, ("test",), KNIGHTS_AND_KNAVES_SPLITS, knights_and_knaves_rows),
        notes=(
            "NOTE: the hub revision is not pinned because none was verified here; another project pins "
            "2f68547989981b1af37cb3dde5fdefa847aa8619.",
        ),
    ),
    BenchmarkSpec(
        name="bbh",
        group="logic",
        description="BIG-Bench Hard: 27 reasoning tasks (6,511 questions), zero-shot chain of thought",
        split="test",
        expected_count=6511,
        license="MIT",
        schema=BBH_SCHEMA,
        to_sample=bbh_sample,
        build_task=bbh_task,
        hub=HubSource("lukaemon/bbh", None, BBH_TASKS, "test", bbh_rows),
        notes=("NOTE: the hub revision is not pinned because none was verified here.",),
    ),
]
