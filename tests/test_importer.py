"""harness import routerbench: wide RouterBench CSV to the long results matrix."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.commands.importer import parse_literal_text, routerbench_to_long
from harness.errors import HarnessError
from harness.matrix import read_matrix, to_arrays

ROUTERBENCH_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "routerbench"

HEADER = [
    "",
    "sample_id",
    "prompt",
    "eval_name",
    "model-a",
    "model-b",
    "model-a|model_response",
    "model-b|model_response",
    "model-a|total_cost",
    "model-b|total_cost",
    "oracle_model_to_route_to",
]


def write_wide(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def small_wide_csv(tmp_path: Path) -> Path:
    return write_wide(
        tmp_path / "toy_train.csv",
        [
            [0, "toy.1", "['Example\\n\\nAnswer: B', 'What is 2+2?']", "toy", 1.0, 0.0, "['4']", "['5']", 0.001, 0.01, "model-a"],
            [1, "toy.2", "['Name a colour.']", "toy", 0.0, 1.0, "['sky']", "['blue']", 0.002, 0.02, "model-b"],
            [2, "toy.3", "['Say hi.']", "toy", "", 1.0, "['']", "['hi']", 0.003, 0.03, "model-b"],
        ],
    )


def test_import_small_wide_csv(tmp_path):
    long = routerbench_to_long([small_wide_csv(tmp_path)])

    assert len(long) == 5  # six cells, one empty
    row = long[(long["sample_id"] == "toy.1") & (long["model"] == "model-b")].iloc[0]
    assert row["prompt"] == "What is 2+2?"
    assert row["score"] == 0.0
    assert row["cost"] == pytest.approx(0.01)
    assert row["response"] == "5"
    assert row["benchmark"] == "toy"
    assert set(long["split"]) == {"train"}
    assert long[(long["sample_id"] == "toy.3") & (long["model"] == "model-a")].empty


def test_import_cli_writes_matrix(tmp_path):
    source = small_wide_csv(tmp_path)
    out = tmp_path / "matrix.parquet"

    assert main(["import", "routerbench", str(source), "--out", str(out)]) == 0

    arrays = to_arrays(read_matrix(out))
    assert arrays.model_ids == ["model-a", "model-b"]
    assert arrays.sample_keys == ["toy/toy.1", "toy/toy.2", "toy/toy.3"]
    assert np.isnan(arrays.scores[2, 0])
    np.testing.assert_allclose(arrays.costs[:, 1], [0.01, 0.02, 0.03])


def test_import_rejects_code_in_prompt(tmp_path):
    marker = tmp_path / "ran"
    source = write_wide(
        tmp_path / "evil.csv",
        [[0, "x.1", f"__import__('pathlib').Path({str(marker)!r}).touch()", "x", 1.0, 1.0, "", "", 0.1, 0.1, ""]],
    )

    with pytest.raises(HarnessError, match="'prompt' is not a Python literal list"):
        routerbench_to_long([source])
    assert not marker.exists()


def test_parse_literal_text_cases():
    assert parse_literal_text("['a', 'b']", "f", "prompt") == "b"
    assert parse_literal_text("'plain'", "f", "prompt") == "plain"
    with pytest.raises(HarnessError, match="non-empty list of strings"):
        parse_literal_text("[1, 2]", "f", "prompt")
    with pytest.raises(HarnessError, match="is empty"):
        parse_literal_text(float("nan"), "f", "prompt")


def test_import_merges_split_rows(tmp_path):
    # RouterBench stores a few queries as two rows holding different models.
    source = write_wide(
        tmp_path / "halves.csv",
        [
            [0, "q.1", "['Q?']", "b", 1.0, "", "['x']", "", 0.001, 0.5, ""],
            [1, "q.1", "['Q?']", "b", "", 0.0, "", "['y']", 0.9, 0.01, ""],
        ],
    )

    arrays = to_arrays(routerbench_to_long([source]))

    assert arrays.sample_keys == ["b/q.1"]
    np.testing.assert_allclose(arrays.scores, [[1.0, 0.0]])
    np.testing.assert_allclose(arrays.costs, [[0.001, 0.01]])


def test_import_rejects_conflicting_duplicates(tmp_path):
    source = write_wide(
        tmp_path / "dup.csv",
        [
            [0, "q.1", "['Q?']", "b", 1.0, 1.0, "", "", 0.1, 0.1, ""],
            [1, "q.1", "['Q?']", "b", 0.0, "", "", "", 0.1, 0.1, ""],
        ],
    )

    with pytest.raises(HarnessError, match="'q.1' of benchmark 'b' has two results for model 'model-a'"):
        routerbench_to_long([source])


def test_import_rejects_different_pools(tmp_path):
    first = small_wide_csv(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("sample_id,prompt,eval_name,model-c\ns,['p'],b,1.0\n", encoding="utf-8")

    with pytest.raises(HarnessError, match="models differ"):
        routerbench_to_long([first, other])


def test_import_rejects_missing_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,hello\n", encoding="utf-8")

    with pytest.raises(HarnessError, match="missing RouterBench column"):
        routerbench_to_long([bad])


@pytest.mark.skipif(not ROUTERBENCH_DIR.is_dir(), reason=f"RouterBench CSV files not found in {ROUTERBENCH_DIR}")
def test_import_routerbench_test_files():
    files = [ROUTERBENCH_DIR / f"{name}_test.csv" for name in ("arc_challenge", "mbpp", "winograde")]

    arrays = to_arrays(routerbench_to_long(files, keep_responses=False))

    complete = ~np.isnan(arrays.scores).any(axis=1)
    gpt4 = arrays.model_ids.index("gpt-4-1106-preview")
    mistral = arrays.model_ids.index("mistralai/mistral-7b-chat")
    assert len(arrays.model_ids) == 11
    assert len(arrays.sample_keys) == 952  # 953 rows, one query split over two rows
    assert complete.sum() == 946
    assert arrays.scores[complete, gpt4].mean() == pytest.approx(0.8795, abs=5e-4)
    assert arrays.costs[complete, gpt4].sum() == pytest.approx(4.733, abs=1e-3)
    assert arrays.scores[complete].max(axis=1).mean() == pytest.approx(0.9757, abs=5e-4)
    assert arrays.costs[complete, mistral].sum() == pytest.approx(0.0767, abs=1e-4)
