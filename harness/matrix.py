"""The results matrix: one row per (sample, model) with the score and the cost of that call.

Long format columns:

- ``sample_id`` (str): query id, unique within a benchmark.
- ``benchmark`` (str): benchmark name.
- ``prompt`` (str): the query text sent to the model.
- ``model`` (str): pool model id.
- ``score`` (float in [0, 1]): 1.0 is a correct answer.
- ``cost`` (float, US dollars): cost of the call; NaN means unknown, never 0.
- ``response`` (str, optional): the model's answer text.
- ``split`` (str, optional): a split label such as ``train`` or ``test``.

A (sample, model) pair with no row means the model has no result for that
sample; :func:`to_arrays` turns it into NaN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import HarnessError

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("sample_id", "benchmark", "prompt", "model", "score", "cost")
OPTIONAL_COLUMNS = ("response", "split")
_STRING_COLUMNS = ("sample_id", "benchmark", "prompt", "model", "response", "split")


def _format_of(path: Path) -> str:
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    if suffix in (".csv", ".csv.gz"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise HarnessError(f"unsupported matrix file extension in {path}: use .csv, .csv.gz or .parquet")


def read_matrix(path: str | Path) -> pd.DataFrame:
    """Read and validate a long-format matrix from CSV or Parquet (chosen by extension)."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"matrix file not found: {path}")
    kind = _format_of(path)
    if kind == "csv":
        df = pd.read_csv(path, dtype={name: "string" for name in _STRING_COLUMNS}, keep_default_na=False, na_values={"score": [""], "cost": [""]})
    else:
        df = pd.read_parquet(path)
    return validate_matrix(df, source=str(path))


def write_matrix(df: pd.DataFrame, path: str | Path) -> Path:
    """Validate ``df`` and write it as CSV or Parquet (chosen by extension); return the path."""
    path = Path(path)
    kind = _format_of(path)
    df = validate_matrix(df)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    logger.info("wrote %d rows (%d samples, %d models) to %s", len(df), df["sample_id"].nunique(), df["model"].nunique(), path)
    return path


def validate_matrix(df: pd.DataFrame, source: str = "matrix") -> pd.DataFrame:
    """Check a long-format matrix and return a copy with normalised dtypes.

    Raises
    ------
    HarnessError
        On a missing column, an empty id, a score that is missing or outside
        [0, 1], a negative cost, or a duplicate (benchmark, sample_id, model)
        row. The message names the column and the first offending value.
    """
    missing = [name for name in REQUIRED_COLUMNS if name not in df.columns]
    if missing:
        raise HarnessError(
            f"{source}: missing column(s) {', '.join(missing)}; a matrix needs {', '.join(REQUIRED_COLUMNS)}"
        )
    columns = list(REQUIRED_COLUMNS) + [name for name in OPTIONAL_COLUMNS if name in df.columns]
    out = df[columns].copy()
    for name in ("sample_id", "benchmark", "prompt", "model"):
        values = out[name].astype("string").fillna("")
        empty = (values.str.strip() == "").to_numpy(dtype=bool)
        if name != "prompt" and empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise HarnessError(f"{source}: column {name!r} is empty in row {row}; every row needs a {name}")
        out[name] = values.astype(object)

    for name in ("score", "cost"):
        try:
            out[name] = pd.to_numeric(out[name], errors="raise").astype(float)
        except (ValueError, TypeError) as error:
            raise HarnessError(f"{source}: column {name!r} contains a value that is not a number ({error})") from error

    scores = out["score"].to_numpy()
    bad = np.isnan(scores) | (scores < 0.0) | (scores > 1.0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise HarnessError(
            f"{source}: column 'score' must be in [0, 1], found {float(scores[row])} in row {row} "
            f"(sample {out['sample_id'].iat[row]!r}, model {out['model'].iat[row]!r}); "
            "drop rows without a result instead of leaving the score empty"
        )
    costs = out["cost"].to_numpy()
    negative = costs < 0.0
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise HarnessError(
            f"{source}: column 'cost' must be >= 0 US dollars or empty for unknown, found {float(costs[row])} in row {row}"
        )

    duplicated = out.duplicated(subset=["benchmark", "sample_id", "model"], keep="first")
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise HarnessError(
            f"{source}: duplicate row for sample_id {out['sample_id'].iat[row]!r} "
            f"(benchmark {out['benchmark'].iat[row]!r}) and model {out['model'].iat[row]!r}; "
            "keep one row per (sample, model)"
        )
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class MatrixArrays:
    """A matrix in wide array form; row i of every array is sample ``sample_keys[i]``.

    Attributes
    ----------
    sample_keys : list of str
        ``benchmark/sample_id`` per sample, shape (n,).
    prompts : list of str
        Prompt per sample, shape (n,).
    benchmarks : numpy.ndarray
        Benchmark name per sample, object array of shape (n,).
    model_ids : list of str
        Model per column, shape (m,), in first-seen order.
    scores : numpy.ndarray
        Shape (n, m), float64 in [0, 1]; NaN where the model has no result.
    costs : numpy.ndarray
        Shape (n, m), float64 US dollars; NaN where unknown or no result.
    """

    sample_keys: list[str]
    prompts: list[str]
    benchmarks: np.ndarray
    model_ids: list[str]
    scores: np.ndarray
    costs: np.ndarray

    def __iter__(self):
        return iter((self.sample_keys, self.prompts, self.benchmarks, self.model_ids, self.scores, self.costs))


def sample_key(benchmark: str, sample_id: str) -> str:
    """Return the key that identifies a sample across benchmarks."""
    return f"{benchmark}/{sample_id}"


def to_arrays(df: pd.DataFrame, model_ids: list[str] | None = None) -> MatrixArrays:
    """Pivot a long-format matrix into aligned arrays.

    Parameters
    ----------
    df : pandas.DataFrame
        A matrix that passes :func:`validate_matrix`.
    model_ids : list of str, optional
        Column order; models absent from ``df`` get all-NaN columns. By
        default the models in first-seen order.

    Returns
    -------
    MatrixArrays
        Unpacks as ``(sample_keys, prompts, benchmarks, model_ids, scores, costs)``.
    """
    df = validate_matrix(df)
    if model_ids is None:
        model_ids = list(dict.fromkeys(df["model"].tolist()))
    keys = [sample_key(b, s) for b, s in zip(df["benchmark"], df["sample_id"])]
    df = df.assign(_key=keys)
    order = list(dict.fromkeys(keys))
    first = df.drop_duplicates("_key").set_index("_key").loc[order]
    row_of = {key: i for i, key in enumerate(order)}
    column_of = {model: j for j, model in enumerate(model_ids)}

    scores = np.full((len(order), len(model_ids)), np.nan)
    costs = np.full((len(order), len(model_ids)), np.nan)
    known = df["model"].map(column_of)
    kept = known.notna().to_numpy()
    rows = df["_key"].map(row_of).to_numpy()[kept].astype(int)
    cols = known.to_numpy()[kept].astype(int)
    scores[rows, cols] = df["score"].to_numpy()[kept]
    costs[rows, cols] = df["cost"].to_numpy()[kept]
    return MatrixArrays(
        sample_keys=order,
        prompts=first["prompt"].tolist(),
        benchmarks=first["benchmark"].to_numpy(dtype=object),
        model_ids=list(model_ids),
        scores=scores,
        costs=costs,
    )


def from_arrays(
    sample_ids: list[str],
    benchmarks: list[str],
    prompts: list[str],
    model_ids: list[str],
    scores: np.ndarray,
    costs: np.ndarray,
) -> pd.DataFrame:
    """Build a long-format matrix from wide arrays; cells with a NaN score get no row.

    ``scores`` and ``costs`` have shape (n, m) for n samples and m models.
    """
    scores = np.asarray(scores, dtype=float)
    costs = np.asarray(costs, dtype=float)
    n, m = scores.shape
    if costs.shape != (n, m) or len(sample_ids) != n or len(benchmarks) != n or len(prompts) != n or len(model_ids) != m:
        raise HarnessError(f"from_arrays: inconsistent shapes, scores {scores.shape}, costs {costs.shape}, {len(sample_ids)} samples, {len(model_ids)} models")
    rows, cols = np.nonzero(~np.isnan(scores))
    df = pd.DataFrame(
        {
            "sample_id": np.asarray(sample_ids, dtype=object)[rows],
            "benchmark": np.asarray(benchmarks, dtype=object)[rows],
            "prompt": np.asarray(prompts, dtype=object)[rows],
            "model": np.asarray(model_ids, dtype=object)[cols],
            "score": scores[rows, cols],
            "cost": costs[rows, cols],
        }
    )
    return validate_matrix(df)
