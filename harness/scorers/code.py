"""Extract a Python program from a model reply and check it with benchmark tests in the sandbox.

Extraction (``extract_program``):

1. ``<think>`` blocks are removed.
2. Fenced blocks (```` ```python ````, ```` ```py ````, ```` ``` ````) are collected,
   including a last block left open by a reply cut at ``max_tokens``. The
   last block that defines the entry point wins, else the last Python block,
   else the last block of any language.
3. Without fences the reply is treated as bare code: prose lines before the
   first line that starts like code are dropped, and trailing lines are cut
   until the rest parses.

Checking programs follow the benchmarks' own harnesses: HumanEval runs
``prompt + completion + test + check(entry_point)``, MBPP runs the solution,
the setup code and the ``test_list`` asserts.
"""

from __future__ import annotations

import ast
import asyncio
import re
import textwrap
from collections.abc import Sequence

from inspect_ai.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState
from inspect_ai.util import concurrency

from harness.sandbox import SandboxResult, run_python
from harness.scorers.text import strip_reasoning

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
_CODE_START = re.compile(r"^(?:def |async def |class |import |from \S+ import |@|if __name__|[A-Za-z_]\w*\s*=)")
# Lines cut from the end of bare code at most, looking for a prefix that parses.
_MAX_TRAILING_CUT = 40
# Python builtins and modules that MBPP asserts call around the function under test.
_NOT_ENTRY_POINTS = frozenset(
    {
        "set", "sorted", "list", "tuple", "dict", "str", "int", "float", "abs", "round", "len",
        "math", "isclose", "all", "any", "sum", "max", "min", "frozenset", "bool", "type", "repr",
        "isinstance", "map", "zip", "not", "print", "reversed", "enumerate", "range",
    }
)
SANDBOX_CONCURRENCY = 2


def _defines(code: str, entry_point: str | None) -> bool:
    if not entry_point:
        return False
    return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(entry_point)}\s*\(", code, re.MULTILINE) is not None


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _bare_code(text: str) -> str:
    lines = text.strip("\n").split("\n")
    start = next((index for index, line in enumerate(lines) if _CODE_START.match(line)), None)
    if start is None:
        return text.strip("\n")
    lines = lines[start:]
    for cut in range(0, min(_MAX_TRAILING_CUT, len(lines) - 1) + 1):
        candidate = "\n".join(lines[: len(lines) - cut])
        if _parses(candidate):
            return candidate
    return "\n".join(lines)


def extract_program(reply: str, entry_point: str | None = None) -> str:
    """Return the Python code in a model reply (see the module docstring for the rules).

    Parameters
    ----------
    reply : str
        Raw model output.
    entry_point : str or None
        Function name the benchmark calls; a fenced block defining it is preferred.

    Returns
    -------
    str
        The code, possibly empty when the reply contains none.
    """
    text = strip_reasoning(reply)
    blocks = [(match.group(1).lower(), match.group(2)) for match in _FENCE.finditer(text)]
    if blocks:
        defining = [code for _, code in blocks if _defines(code, entry_point)]
        if defining:
            return defining[-1].rstrip() + "\n"
        python_blocks = [code for tag, code in blocks if tag in _PYTHON_TAGS]
        chosen = python_blocks[-1] if python_blocks else blocks[-1][1]
        return chosen.rstrip() + "\n"
    return _bare_code(text).rstrip() + "\n"


def humaneval_program(prompt: str, completion: str, test: str, entry_point: str) -> str:
    """Build the HumanEval check program: prompt, completion, tests and ``check(entry_point)``.

    A completion that defines ``entry_point`` itself follows the whole prompt,
    so the prompt's imports and helper functions stay available and the new
    definition replaces the stub. Otherwise the completion is the function
    body: it is appended to the prompt, indented by four spaces if it arrived
    unindented.
    """
    if _defines(completion, entry_point):
        body = f"{prompt}\n    pass\n\n{completion}"
    else:
        lines = [line for line in completion.split("\n")]
        first_code = next((line for line in lines if line.strip()), "")
        if first_code and not first_code.startswith((" ", "\t")):
            completion = textwrap.indent(completion, "    ")
        body = prompt + completion
    return f"{body}\n\n{test}\n\ncheck({entry_point})\n"


def mbpp_program(code: str, test_list: Sequence[str], test_setup_code: str = "") -> str:
    """Build the MBPP check program: the solution, the setup code, then every assert of ``test_list``.

    The setup code runs after the solution because it can use the solution's
    classes (task 367 builds trees of the solution's ``Node``).
    """
    parts = [code.rstrip(), test_setup_code.strip(), "\n".join(test.strip() for test in test_list)]
    return "\n\n".join(part for part in parts if part) + "\n"


def mbpp_entry_point(test_list: Sequence[str], reference_code: str | None = None) -> str | None:
    """Return the name of the function that MBPP's asserts test.

    The reference solution's top-level function that the asserts call wins;
    otherwise the first called name in the first assert that is not a builtin.
    """
    tests = "\n".join(test_list)
    if reference_code:
        try:
            tree = ast.parse(reference_code)
        except SyntaxError:
            tree = None
        if tree is not None:
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and re.search(rf"\b{re.escape(node.name)}\s*\(", tests):
                    return node.name
    for test in test_list:
        for name in re.findall(r"(?<![.\w])([A-Za-z_]\w*)\s*\(", test):
            if name not in _NOT_ENTRY_POINTS:
                return name
    return None


def _explain(result: SandboxResult) -> str:
    tail = result.stderr_tail.strip()
    if result.passed or not tail:
        return result.reason
    return f"{result.reason}\n\nstderr (tail):\n{tail[-1500:]}"


async def run_checked(program: str, timeout_s: float) -> SandboxResult:
    """Run ``program`` in the sandbox from async code, at most ``SANDBOX_CONCURRENCY`` at a time."""
    async with concurrency("python-sandbox", SANDBOX_CONCURRENCY):
        return await asyncio.to_thread(run_python, program, timeout_s)


@scorer(metrics=[accuracy(), stderr()])
def code_execution_scorer(timeout_s: float = 10.0) -> Scorer:
    """Score a reply by running the benchmark's tests on the extracted program in the sandbox.

    The sample metadata selects the harness: ``kind`` is ``"humaneval"``
    (needs ``prompt``, ``test``, ``entry_point``) or ``"mbpp"`` (needs
    ``test_list``, optional ``test_setup_code`` and ``entry_point``).
    """

    async def score(state: TaskState, target: Target) -> Score:
        metadata = state.metadata
        kind = metadata.get("kind")
        entry_point = metadata.get("entry_point")
        completion = extract_program(state.output.completion, entry_point)
        if not completion.strip():
            return Score(value=INCORRECT, answer="", explanation="no code found in the reply")
        if kind == "humaneval":
            program = humaneval_program(metadata["prompt"], completion, metadata["test"], entry_point)
        elif kind == "mbpp":
            program = mbpp_program(completion, metadata["test_list"], metadata.get("test_setup_code", ""))
        else:
            raise ValueError(f"sample metadata kind must be 'humaneval' or 'mbpp', got {kind!r}")
        result = await run_checked(program, timeout_s)
        return Score(
            value=CORRECT if result.passed else INCORRECT,
            answer=completion,
            explanation=_explain(result),
            metadata={"timed_out": result.timed_out, "exit_code": result.exit_code},
        )

    return score
