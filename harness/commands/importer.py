"""``harness import routerbench``: convert RouterBench wide CSV files to the long results matrix.

A RouterBench file has one row per query: ``sample_id``, ``eval_name``,
``prompt`` (a Python literal list of strings whose last element is the
query), one score column per model, and ``<model>|model_response`` and
``<model>|total_cost`` columns. An empty score cell means that model has no
result for that query; it becomes no row in the long format.
"""

from __future__ import annotations

import argparse
import ast
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import HarnessError
from harness.matrix import write_matrix

logger = logging.getLogger(__name__)

_META_COLUMNS = {"sample_id", "prompt", "eval_name", "oracle_model_to_route_to"}
_RESPONSE_SUFFIX = "|model_response"
_COST_SUFFIX = "|total_cost"


def parse_literal_text(value: object, source: str, column: str) -> str:
    """Return the last string of a Python literal list such as ``['a', 'b']``.

    The text is parsed with :func:`ast.literal_eval`, which evaluates
    literals only and never runs code.

    Raises
    ------
    HarnessError
        When the cell is not a literal list or tuple of strings.
    """
    if not isinstance(value, str):
        raise HarnessError(f"{source}: column {column!r} is empty; expected a Python literal list of strings")
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as error:
        raise HarnessError(
            f"{source}: column {column!r} is not a Python literal list ({type(error).__name__}); "
            f"it starts with {value[:60]!r}"
        ) from None
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, (list, tuple)) and parsed and all(isinstance(item, str) for item in parsed):
        return parsed[-1]
    raise HarnessError(f"{source}: column {column!r} must be a non-empty list of strings, found {type(parsed).__name__}")


def _response_text(value: object) -> str:
    """Return a recorded response as text, unwrapping a literal list when there is one."""
    if not isinstance(value, str):
        return ""
    if value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return value
        if isinstance(parsed, (list, tuple)) and all(isinstance(item, str) for item in parsed):
            return "\n".join(parsed)
    return value


def _split_label(path: Path) -> str | None:
    match = re.search(r"_(train|test|val|dev)$", path.stem)
    return match.group(1) if match else None


def model_columns(columns: list[str]) -> list[str]:
    """Return the score columns of a RouterBench file: every column that is not metadata and has no ``|``."""
    models = []
    for name in columns:
        if name in _META_COLUMNS or "|" in name or name == "" or name.startswith("Unnamed:"):
            continue
        models.append(name)
    return models


def routerbench_to_long(paths: list[Path], split: str | None = None, keep_responses: bool = True) -> pd.DataFrame:
    """Convert RouterBench wide CSV files into one long-format matrix.

    Parameters
    ----------
    paths : list of pathlib.Path
        Wide CSV files; all must name the same models.
    split : str, optional
        Value of the ``split`` column; by default taken from a ``_train`` /
        ``_test`` / ``_val`` / ``_dev`` file-name suffix, else no column.
    keep_responses : bool
        Include the ``response`` column.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per (sample, model) with a recorded score.

    Notes
    -----
    RouterBench stores a few queries as two rows with the same ``sample_id``
    and prompt, each holding results for a different subset of models. Such
    rows merge into one sample; two scores for the same (sample, model) raise
    an error.
    """
    if not paths:
        raise HarnessError("no input files given; pass one or more RouterBench CSV files")
    frames = []
    expected_models: list[str] | None = None
    for path in paths:
        if not path.is_file():
            raise HarnessError(f"input file not found: {path}")
        wide = pd.read_csv(path, dtype={"sample_id": "string", "eval_name": "string", "prompt": "string"})
        missing = [name for name in ("sample_id", "eval_name", "prompt") if name not in wide.columns]
        if missing:
            raise HarnessError(f"{path}: missing RouterBench column(s) {', '.join(missing)}; is this a RouterBench wide CSV?")
        models = model_columns(list(wide.columns))
        if not models:
            raise HarnessError(f"{path}: no model score columns found")
        if expected_models is None:
            expected_models = models
        elif set(models) != set(expected_models):
            raise HarnessError(
                f"{path}: models differ from {paths[0]}: "
                f"{sorted(set(models) ^ set(expected_models))}; import files of one pool together"
            )
        frames.append(_long_rows(wide, models, path, split if split is not None else _split_label(path), keep_responses))
    long = pd.concat(frames, ignore_index=True)
    return _merge_split_rows(long)


def _long_rows(wide: pd.DataFrame, models: list[str], path: Path, split: str | None, keep_responses: bool) -> pd.DataFrame:
    prompts = [
        parse_literal_text(value, f"{path} row {row + 2}", "prompt") for row, value in enumerate(wide["prompt"].tolist())
    ]
    pieces = []
    for model in models:
        scores = pd.to_numeric(wide[model], errors="coerce")
        bad = wide[model].notna() & scores.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise HarnessError(f"{path} row {row + 2}: score of {model!r} is {wide[model].iat[row]!r}, not a number")
        cost_column = model + _COST_SUFFIX
        if cost_column in wide.columns:
            costs = pd.to_numeric(wide[cost_column], errors="coerce")
        else:
            logger.warning("%s: no %r column; the cost of %s is unknown (NaN)", path, cost_column, model)
            costs = pd.Series(np.nan, index=wide.index)
        piece = pd.DataFrame(
            {
                "sample_id": wide["sample_id"].astype(object),
                "benchmark": wide["eval_name"].astype(object),
                "prompt": prompts,
                "model": model,
                "score": scores.astype(float),
                "cost": costs.astype(float),
            }
        )
        if keep_responses:
            response_column = model + _RESPONSE_SUFFIX
            if response_column in wide.columns:
                piece["response"] = [_response_text(value) for value in wide[response_column].tolist()]
            else:
                piece["response"] = ""
        if split is not None:
            piece["split"] = split
        pieces.append(piece[scores.notna().to_numpy()])
    empty_cells = int(wide[models].isna().to_numpy().sum())
    if empty_cells:
        logger.info("%s: %d empty score cells (model without a result) skipped", path.name, empty_cells)
    return pd.concat(pieces, ignore_index=True)


def _merge_split_rows(long: pd.DataFrame) -> pd.DataFrame:
    """Check that rows sharing a sample id agree on the prompt and hold disjoint models."""
    prompts_per_sample = long.groupby(["benchmark", "sample_id"])["prompt"].nunique()
    conflicting = prompts_per_sample[prompts_per_sample > 1]
    if len(conflicting):
        benchmark, sample_id = conflicting.index[0]
        raise HarnessError(
            f"sample_id {sample_id!r} of benchmark {benchmark!r} appears with {conflicting.iloc[0]} different prompts; "
            "give each query its own sample_id"
        )
    duplicated = long.duplicated(subset=["benchmark", "sample_id", "model"], keep=False)
    if duplicated.any():
        row = long[duplicated].iloc[0]
        raise HarnessError(
            f"sample_id {row['sample_id']!r} of benchmark {row['benchmark']!r} has two results for model "
            f"{row['model']!r}; remove one of the two rows from the input"
        )
    return long


def run_import_routerbench(args: argparse.Namespace) -> int:
    """Convert the files named on the command line and write the matrix."""
    paths = [Path(name) for name in args.files]
    long = routerbench_to_long(paths, split=args.split, keep_responses=not args.no_responses)
    out = write_matrix(long, args.out)
    samples = long.groupby(["benchmark", "sample_id"]).ngroups
    models = long["model"].nunique()
    per_sample = long.groupby(["benchmark", "sample_id"])["model"].nunique()
    complete = int((per_sample == models).sum())
    print(
        f"wrote {out}: {len(long)} rows, {samples} samples ({complete} with a result from every model), "
        f"{models} models, benchmarks: {', '.join(sorted(long['benchmark'].unique()))}"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``harness import`` with its ``routerbench`` sub-command."""
    parser = subparsers.add_parser("import", help="convert recorded results from other formats to a results matrix")
    formats = parser.add_subparsers(dest="format", metavar="FORMAT")
    routerbench = formats.add_parser(
        "routerbench",
        help="RouterBench wide CSV files (one row per query, one score column per model)",
        description="Convert RouterBench wide CSV files into one long-format results matrix.",
    )
    routerbench.add_argument("files", nargs="+", metavar="FILE", help="RouterBench CSV files, e.g. arc_challenge_train.csv")
    routerbench.add_argument("--out", required=True, metavar="PATH", help="output matrix, .csv or .parquet")
    routerbench.add_argument(
        "--split", default=None, help="value of the split column (default: from a _train/_test file-name suffix)"
    )
    routerbench.add_argument("--no-responses", action="store_true", help="leave out the recorded response texts")
    routerbench.set_defaults(func=run_import_routerbench)
    parser.set_defaults(func=lambda _args: parser.print_help() or 2)
