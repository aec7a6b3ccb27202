"""End-to-end runs of the hub-only benchmarks on their fixtures, through the local-file path.

Each run is a real ``inspect_ai.eval`` with the ``mockllm/model`` provider,
whose replies are picked by a key found in the prompt, so every sample gets a
known reply and its score is checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, get_model

from harness.benchmarks import BenchmarkDataError, get_benchmark, load_samples, load_task
from harness.benchmarks.catalog.emotion import meld_rows
from harness.benchmarks.catalog.finance import finqa_rows
from harness.benchmarks.catalog.logic import BBH_TASKS, bbh_rows, knights_and_knaves_rows

FIXTURES = Path(__file__).parent / "fixtures" / "benchmarks"

pytestmark = pytest.mark.timeout(120)


def _reply_by_prompt(replies: dict[str, str]):
    def output(messages, _tools, _tool_choice, _config) -> ModelOutput:
        prompt = messages[-1].text
        for key, reply in replies.items():
            if key in prompt:
                return ModelOutput.from_content(model="mockllm/model", content=reply)
        raise AssertionError(f"no canned reply for prompt: {prompt[:300]}")

    return output


def _scores(name: str, replies: dict[str, str], log_dir: Path) -> dict[str, str]:
    task = load_task(name, FIXTURES)
    model = get_model("mockllm/model", custom_outputs=_reply_by_prompt(replies))
    [log] = inspect_eval(task, model=model, display="none", log_dir=str(log_dir), max_samples=4)
    assert log.status == "success", log.error
    assert log.samples is not None
    return {str(sample.id): next(iter(sample.scores.values())).value for sample in log.samples}


def test_korbench_fixture_end_to_end(tmp_path: Path) -> None:
    replies = {
        "Compute 3◇4": "2*3 + 4 = 10, so [[10]]",
        "If X◇7=9": "X squared is 16, so [[4]]",
        'Encrypt the plaintext "CAB"': "Shift each letter: [[DBC]]",
        "p is true and q is false": "[[q=F;p=T]]",
    }
    scores = _scores("korbench", replies, tmp_path)
    assert scores == {"operation/1": "C", "operation/2": "I", "cipher/1": "C", "logic/5": "C"}


def test_knights_and_knaves_fixture_end_to_end(tmp_path: Path) -> None:
    replies = {
        "Mia and Owen": "CONCLUSION:\n(1) Mia is a knight\n(2) Owen is a knave",
        "Lena and Theo": "CONCLUSION:\n(1) Lena is a knight\n(2) Theo is a knave",
        "Ava, Ben and Cora": "Ava is a knave, Ben is a knight, and Cora is a knave.",
    }
    scores = _scores("knights_and_knaves", replies, tmp_path)
    assert scores == {"2ppl/0": "C", "2ppl/1": "I", "3ppl/0": "C"}


def test_bbh_fixture_end_to_end(tmp_path: Path) -> None:
    replies = {
        "not ( True and False )": "True and False is False, not False is True. So the answer is True.",
        "one week ago": "One week before 03/01/2020 is 02/23/2020. So the answer is (A).",
        "How many musical instruments": "1 + 2 + 1 = 4. So the answer is 4.",
        "( [ {": "So the answer is } ) ].",
        "pear apple fig": "So the answer is apple fig pear.",
    }
    scores = _scores("bbh", replies, tmp_path)
    assert scores == {
        "boolean_expressions/0": "C",
        "date_understanding/0": "C",
        "object_counting/0": "C",
        "dyck_languages/0": "I",
        "word_sorting/0": "C",
    }


def test_finqa_fixture_end_to_end(tmp_path: Path) -> None:
    replies = {
        "percentage change in revenue": "(1150 - 1000) / 1000 = 0.15\nAnswer: 15%",
        "total of operating costs": "412.5 + 398.25 = 810.75\nAnswer: 810.75",
        "did net income increase": "Net income fell from 95 to 80.\nAnswer: yes",
    }
    scores = _scores("finqa", replies, tmp_path)
    assert scores == {"FIX/2019/page_10.pdf-1": "C", "FIX/2019/page_11.pdf-2": "C", "FIX/2019/page_12.pdf-3": "I"}


def test_emorynlp_fixture_end_to_end(tmp_path: Path) -> None:
    replies = {
        "small intestine": "Sad",
        "foosball": "Emotion: Joyful",
        "Don't touch my stuff": "Scared",
    }
    scores = _scores("emorynlp", replies, tmp_path)
    assert scores == {"s01_e01_c01_u003": "C", "s01_e01_c01_u010": "C", "s01_e01_c02_u004": "I"}


def test_meld_fixture_end_to_end(tmp_path: Path) -> None:
    replies = {
        "that is so great": "joy",
        "you did what": "Surprised.",
        "meeting is at noon": "neutral",
        "Get out of my room": "disgust",
    }
    scores = _scores("meld", replies, tmp_path)
    assert scores == {"dia0_utt0": "C", "dia0_utt1": "C", "dia1_utt0": "C", "dia1_utt1": "I"}


def test_emotion_prompt_shows_context_and_labels() -> None:
    samples = {sample.id: sample for sample in load_samples("meld", FIXTURES)}
    prompt = samples["dia0_utt1"].input
    assert "Chandler: I sold the apartment." in prompt
    assert "Monica: Wait, you did what?" in prompt
    assert "neutral, joy, surprise, anger, sadness, disgust, fear" in prompt


def test_invalid_emotion_label_rejected(tmp_path: Path) -> None:
    (tmp_path / "meld.jsonl").write_text('{"id": "x", "utterance": "Hi", "emotion": "happy"}\n')
    with pytest.raises(BenchmarkDataError, match="emotion 'happy' is not one of neutral"):
        load_samples("meld", tmp_path)


def test_knights_and_knaves_solution_length_checked(tmp_path: Path) -> None:
    record = '{"id": "x", "quiz": "q", "names": ["A", "B"], "solution": [true]}\n'
    (tmp_path / "knights_and_knaves.jsonl").write_text(record)
    with pytest.raises(BenchmarkDataError, match="one boolean solution entry per name"):
        load_samples("knights_and_knaves", tmp_path)


def test_hub_only_specs_have_no_package() -> None:
    for name in ("korbench", "knights_and_knaves", "bbh", "finqa", "emorynlp", "meld"):
        spec = get_benchmark(name)
        assert spec.package is None, name
        assert spec.notes, name


def test_bbh_hub_lists_all_tasks() -> None:
    assert len(BBH_TASKS) == 27
    assert get_benchmark("bbh").hub.configs == BBH_TASKS


def test_hub_converters_on_hub_shaped_rows() -> None:
    kk_rows = [
        {"quiz": "q1", "names": ["A", "B"], "solution": [True, False], "solution_text": "t"},
        {"quiz": "q2", "names": ["C", "D"], "solution": [False, False], "solution_text": "t"},
        {"quiz": "q3", "names": ["E", "F", "G"], "solution": [True, True, False], "solution_text": "t"},
    ]
    kk_ids = [record["id"] for record in knights_and_knaves_rows("test", kk_rows)]
    assert kk_ids == ["2ppl/0", "2ppl/1", "3ppl/0"]

    bbh = list(bbh_rows("navigate", [{"input": "Take 1 step.", "target": "No"}]))
    assert bbh == [{"id": "navigate/0", "task": "navigate", "input": "Take 1 step.", "target": "No"}]

    meld = list(meld_rows("MELD_Text", [{"text": "Hi!", "emotion": 1, "sentiment": 1}]))
    assert meld == [{"id": "test/0", "utterance": "Hi!", "emotion": "joy"}]

    finqa_row = {
        "id": "A/1",
        "question": "q",
        "pre_text": ["a"],
        "post_text": [],
        "table": [["x", "1"]],
        "answer": "1",
        "final_result": "1.0",
        "program_re": "add(1, 0)",
        "gold_inds": [],
    }
    [finqa] = list(finqa_rows(None, [finqa_row]))
    assert finqa["final_result"] == "1.0"
    assert finqa["table"] == [["x", "1"]]
