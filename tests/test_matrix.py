"""The long-format results matrix: validation, CSV and Parquet round trips, wide arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.errors import HarnessError
from harness.matrix import from_arrays, read_matrix, to_arrays, validate_matrix, write_matrix


def toy_matrix() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": ["s1", "s1", "s2", "s2", "s3"],
            "benchmark": ["a", "a", "a", "a", "b"],
            "prompt": ["NA", "NA", "two", "two", "three"],
            "model": ["m1", "m2", "m1", "m2", "m2"],
            "score": [1.0, 0.0, 0.5, 1.0, 1.0],
            "cost": [0.01, 0.02, np.nan, 0.02, 0.03],
            "response": ["", "x", "y", "z", "w"],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_matrix_round_trip(tmp_path, suffix):
    path = write_matrix(toy_matrix(), tmp_path / f"m{suffix}")

    back = read_matrix(path)

    assert back["prompt"].tolist()[:2] == ["NA", "NA"]
    assert back["response"].tolist()[0] == ""
    assert np.isnan(back["cost"].iloc[2])
    assert back["score"].tolist() == [1.0, 0.0, 0.5, 1.0, 1.0]


def test_to_arrays_fills_missing_pairs():
    arrays = to_arrays(toy_matrix())

    keys, prompts, benchmarks, models, scores, costs = arrays
    assert keys == ["a/s1", "a/s2", "b/s3"]
    assert prompts == ["NA", "two", "three"]
    assert list(benchmarks) == ["a", "a", "b"]
    assert models == ["m1", "m2"]
    np.testing.assert_array_equal(scores, [[1.0, 0.0], [0.5, 1.0], [np.nan, 1.0]])
    assert np.isnan(costs[1, 0])
    assert np.isnan(costs[2, 0])


def test_to_arrays_model_order():
    arrays = to_arrays(toy_matrix(), model_ids=["m2", "m1", "m3"])

    np.testing.assert_array_equal(arrays.scores[:, 0], [0.0, 1.0, 1.0])
    assert np.isnan(arrays.scores[:, 2]).all()


def test_validate_missing_column():
    with pytest.raises(HarnessError, match="missing column\\(s\\) cost"):
        validate_matrix(toy_matrix().drop(columns=["cost"]))


def test_validate_score_out_of_range():
    frame = toy_matrix()
    frame.loc[3, "score"] = 1.5
    with pytest.raises(HarnessError, match="'score' must be in \\[0, 1\\], found 1.5 in row 3"):
        validate_matrix(frame)


def test_validate_missing_score():
    frame = toy_matrix()
    frame.loc[0, "score"] = np.nan
    with pytest.raises(HarnessError, match="'score' must be in"):
        validate_matrix(frame)


def test_validate_negative_cost():
    frame = toy_matrix()
    frame.loc[1, "cost"] = -0.5
    with pytest.raises(HarnessError, match="'cost' must be >= 0"):
        validate_matrix(frame)


def test_validate_duplicate_row():
    frame = pd.concat([toy_matrix(), toy_matrix().iloc[[2]]], ignore_index=True)
    with pytest.raises(HarnessError, match="duplicate row for sample_id 's2' \\(benchmark 'a'\\) and model 'm1'"):
        validate_matrix(frame)


def test_validate_empty_model():
    frame = toy_matrix()
    frame.loc[4, "model"] = " "
    with pytest.raises(HarnessError, match="column 'model' is empty in row 4"):
        validate_matrix(frame)


def test_unsupported_extension(tmp_path):
    with pytest.raises(HarnessError, match="unsupported matrix file extension"):
        write_matrix(toy_matrix(), tmp_path / "m.xlsx")


def test_read_missing_file(tmp_path):
    with pytest.raises(HarnessError, match="matrix file not found"):
        read_matrix(tmp_path / "absent.csv")


def test_from_arrays_skips_missing_scores():
    frame = from_arrays(
        ["s1", "s2"], ["a", "a"], ["p1", "p2"], ["m1", "m2"],
        np.array([[1.0, np.nan], [0.0, 1.0]]), np.array([[0.1, 0.2], [np.nan, 0.2]]),
    )  # fmt: skip

    assert len(frame) == 3
    back = to_arrays(frame)
    assert np.isnan(back.scores[0, 1])
    assert np.isnan(back.costs[1, 0])
