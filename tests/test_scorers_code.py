"""Tests of program extraction, check-program building and the code tasks end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model

from harness.benchmarks import load_task
from harness.sandbox import run_python
from harness.scorers.code import extract_program, humaneval_program, mbpp_entry_point, mbpp_program

FIXTURES = Path(__file__).parent / "fixtures" / "benchmarks"

pytestmark = pytest.mark.timeout(120)

EXTRACTION_CASES = [
    pytest.param(
        "Sure!\n```python\ndef f(x):\n    return x + 1\n```\nThis adds one.",
        "f",
        "def f(x):\n    return x + 1\n",
        id="single-python-fence",
    ),
    pytest.param(
        "```python\nprint(f(1))\n```\nand the function:\n```python\ndef f(x):\n    return 2 * x\n```\n"
        "Usage:\n```python\nassert f(2) == 4\n```",
        "f",
        "def f(x):\n    return 2 * x\n",
        id="block-defining-entry-point-wins",
    ),
    pytest.param(
        "```python\ndef f(x):\n    return 1\n```\nImproved:\n```python\ndef f(x):\n    return 2\n```",
        "f",
        "def f(x):\n    return 2\n",
        id="last-defining-block-wins",
    ),
    pytest.param(
        "```\ndef g():\n    return 3\n```",
        "missing_name",
        "def g():\n    return 3\n",
        id="untagged-fence",
    ),
    pytest.param(
        "```text\nnot code\n```\n```py\nx = 1\n```",
        None,
        "x = 1\n",
        id="python-tag-preferred-over-other-language",
    ),
    pytest.param(
        "<think>maybe ```python\ndef f():\n    return 0\n```</think>```python\ndef f():\n    return 9\n```",
        "f",
        "def f():\n    return 9\n",
        id="think-block-ignored",
    ),
    pytest.param(
        "```python\ndef f(x):\n    return x * 3\n",
        "f",
        "def f(x):\n    return x * 3\n",
        id="unclosed-fence-at-max-tokens",
    ),
    pytest.param(
        "Here is my solution:\ndef f(x):\n    return x - 1\nIt subtracts one from x.",
        "f",
        "def f(x):\n    return x - 1\n",
        id="bare-code-with-prose-around",
    ),
    pytest.param(
        "    return sorted(values)\n",
        "f",
        "    return sorted(values)\n",
        id="bare-indented-body",
    ),
    pytest.param("I cannot solve this.", "f", "I cannot solve this.\n", id="no-code-kept-as-is"),
]


@pytest.mark.parametrize(("reply", "entry_point", "expected"), EXTRACTION_CASES)
def test_extract_program(reply: str, entry_point: str | None, expected: str) -> None:
    assert extract_program(reply, entry_point) == expected


HUMANEVAL_PROMPT = 'import math\n\n\ndef hyp(a: float, b: float) -> float:\n    """Return the hypotenuse."""\n'
HUMANEVAL_TEST = "\n\ndef check(candidate):\n    assert abs(candidate(3, 4) - 5) < 1e-9\n"

HUMANEVAL_CASES = [
    pytest.param("    return math.sqrt(a * a + b * b)\n", True, id="indented-body"),
    pytest.param("return math.sqrt(a * a + b * b)\n", True, id="unindented-body"),
    pytest.param("def hyp(a, b):\n    return math.hypot(a, b)\n", True, id="full-function-uses-prompt-import"),
    pytest.param("def hyp(a, b):\n    return a + b\n", False, id="full-function-wrong"),
    pytest.param("    return a + b\n", False, id="body-wrong"),
    pytest.param("def other(a, b):\n    return math.hypot(a, b)\n", False, id="wrong-function-name"),
]


@pytest.mark.parametrize(("completion", "should_pass"), HUMANEVAL_CASES)
def test_humaneval_program_runs(completion: str, should_pass: bool) -> None:
    program = humaneval_program(HUMANEVAL_PROMPT, completion, HUMANEVAL_TEST, "hyp")
    result = run_python(program, timeout_s=10)
    assert result.passed is should_pass, result.reason


MBPP_TESTS = ["assert double(2) == 4", "assert double(-1) == -2"]

MBPP_CASES = [
    pytest.param("def double(x):\n    return 2 * x\n", True, id="correct"),
    pytest.param("def double(x):\n    return x + 2\n", False, id="passes-first-assert-only"),
    pytest.param("def double(x):\n    while True:\n        pass\n", False, id="infinite-loop"),
    pytest.param("def double(x):\n    return 2 * x\nassert False\n", False, id="stray-failing-assert"),
]


@pytest.mark.parametrize(("code", "should_pass"), MBPP_CASES)
def test_mbpp_program_runs(code: str, should_pass: bool) -> None:
    result = run_python(mbpp_program(code, MBPP_TESTS), timeout_s=3)
    assert result.passed is should_pass, result.reason


def test_mbpp_setup_runs_after_solution() -> None:
    code = "class Box:\n    def __init__(self, v):\n        self.v = v\n\ndef unbox(b):\n    return b.v\n"
    program = mbpp_program(code, ["assert unbox(box) == 7"], "box = Box(7)")
    result = run_python(program, timeout_s=5)
    assert result.passed, result.reason


ENTRY_POINT_CASES = [
    pytest.param(["assert remove_Occ('a', 'a') == ''"], None, "remove_Occ", id="plain-call"),
    pytest.param(["assert set(similar((1, 2), (2, 3))) == {2}"], None, "similar", id="inside-set"),
    pytest.param(["assert math.isclose(area(2), 12.56, rel_tol=0.01)"], None, "area", id="inside-math-isclose"),
    pytest.param(
        ["assert is_balanced(root) == True"],
        "class Node:\n    pass\n\ndef height(n):\n    return 0\n\ndef is_balanced(r):\n    return True\n",
        "is_balanced",
        id="reference-function-called-by-test",
    ),
]


@pytest.mark.parametrize(("tests", "reference", "expected"), ENTRY_POINT_CASES)
def test_mbpp_entry_point(tests: list[str], reference: str | None, expected: str) -> None:
    assert mbpp_entry_point(tests, reference) == expected


def _reply_by_prompt(replies: dict[str, str]):
    """Return a mockllm output function that picks the reply whose key occurs in the prompt."""

    def output(messages, _tools, _tool_choice, _config) -> ModelOutput:
        prompt = messages[-1].text
        for key, reply in replies.items():
            if key in prompt:
                return ModelOutput.from_content(model="mockllm/model", content=reply)
        raise AssertionError(f"no canned reply for prompt: {prompt[:200]}")

    return output


def _run_fixture_task(name: str, replies: dict[str, str], log_dir: Path):
    task = load_task(name, FIXTURES)
    model = get_model("mockllm/model", custom_outputs=_reply_by_prompt(replies))
    [log] = inspect_eval(task, model=model, display="none", log_dir=str(log_dir), max_samples=2)
    assert log.status == "success", log.error
    return {str(sample.id): sample.scores["code_execution_scorer"].value for sample in log.samples}


def test_humaneval_fixture_end_to_end(tmp_path: Path) -> None:
    replies = {
        "def add_pair": "```python\ndef add_pair(a, b):\n    return a + b\n```",
        "def running_max": "```python\ndef running_max(values):\n    return sorted(values)\n```",
        "def is_vowel_word": "    return all(ch in 'aeiou' for ch in word.lower())\n",
    }
    scores = _run_fixture_task("humaneval", replies, tmp_path)
    assert scores == {"Fixture/0": "C", "Fixture/1": "I", "Fixture/2": "C"}


def test_mbpp_fixture_end_to_end(tmp_path: Path) -> None:
    replies = {
        "count the words": "```python\ndef count_words(sentence):\n    return len(sentence.split())\n```",
        "second smallest": "```python\ndef second_smallest(numbers):\n    return sorted(numbers)[1]\n```",
        "depth of a linked chain": (
            "```python\nclass Link:\n    def __init__(self, nxt=None):\n        self.nxt = nxt\n\n"
            "def chain_depth(link):\n    return 0 if link is None else 1 + chain_depth(link.nxt)\n```"
        ),
    }
    scores = _run_fixture_task("mbpp", replies, tmp_path)
    assert scores == {"9001": "C", "9002": "I", "9003": "C"}
