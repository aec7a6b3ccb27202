"""Calibration/test splits, cross-validation folds and near-duplicate removal."""

from __future__ import annotations

import numpy as np

from harness.errors import HarnessError


def split_per_benchmark(
    benchmarks: np.ndarray, seed: int, calibration_fraction: float = 0.7
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle each benchmark's samples with a fixed seed and split them into calibration and test.

    Parameters
    ----------
    benchmarks : numpy.ndarray
        Shape (n,), benchmark name per sample.
    seed : int
        Seed of the shuffle; the same seed gives the same split.
    calibration_fraction : float
        Share of each benchmark in calibration, rounded to the nearest
        sample. A benchmark with at least two samples keeps at least one
        on each side.

    Returns
    -------
    calibration : numpy.ndarray
        Sorted int row indices, shape (n_cal,).
    test : numpy.ndarray
        Sorted int row indices, shape (n - n_cal,).
    """
    if not 0.0 < calibration_fraction < 1.0:
        raise HarnessError(f"calibration fraction must be in (0, 1), got {calibration_fraction}")
    benchmarks = np.asarray(benchmarks, dtype=object)
    rng = np.random.default_rng(seed)
    calibration, test = [], []
    for name in sorted(set(benchmarks.tolist())):
        rows = np.flatnonzero(benchmarks == name)
        rows = rows[rng.permutation(rows.size)]
        n_cal = int(round(calibration_fraction * rows.size))
        if rows.size >= 2:
            n_cal = min(max(n_cal, 1), rows.size - 1)
        calibration.append(rows[:n_cal])
        test.append(rows[n_cal:])
    return np.sort(np.concatenate(calibration)), np.sort(np.concatenate(test))


def stratified_folds(benchmarks: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Assign each sample to one of ``n_folds`` folds, spreading every benchmark evenly.

    Returns
    -------
    numpy.ndarray
        Shape (n,), int fold index per sample.
    """
    if n_folds < 2:
        raise HarnessError(f"cross-validation needs at least 2 folds, got {n_folds}")
    benchmarks = np.asarray(benchmarks, dtype=object)
    rng = np.random.default_rng(seed)
    folds = np.empty(benchmarks.size, dtype=np.int64)
    offset = 0
    for name in sorted(set(benchmarks.tolist())):
        rows = np.flatnonzero(benchmarks == name)
        rows = rows[rng.permutation(rows.size)]
        # Continuing the fold counter across benchmarks keeps fold sizes within one sample.
        folds[rows] = (np.arange(rows.size) + offset) % n_folds
        offset += rows.size
    return folds


def near_duplicates(
    test_embeddings: np.ndarray, calibration_embeddings: np.ndarray, threshold: float = 0.95, chunk_size: int = 1024
) -> np.ndarray:
    """Flag test samples whose embedding is nearly identical to some calibration sample.

    Parameters
    ----------
    test_embeddings : numpy.ndarray
        Shape (n_test, d), L2-normalised.
    calibration_embeddings : numpy.ndarray
        Shape (n_cal, d), L2-normalised.
    threshold : float
        Cosine similarity at or above which a test sample counts as a near duplicate.
    chunk_size : int
        Test rows compared per matrix product, bounding memory to
        ``chunk_size * n_cal`` floats.

    Returns
    -------
    numpy.ndarray
        Shape (n_test,), bool, True for a near duplicate.
    """
    flags = np.zeros(test_embeddings.shape[0], dtype=bool)
    if calibration_embeddings.shape[0] == 0 or test_embeddings.shape[0] == 0:
        return flags
    for start in range(0, test_embeddings.shape[0], chunk_size):
        block = test_embeddings[start : start + chunk_size] @ calibration_embeddings.T
        flags[start : start + chunk_size] = block.max(axis=1) >= threshold
    return flags


def complete_rows(scores: np.ndarray) -> np.ndarray:
    """Return a bool mask, shape (n,), of samples with a score from every model."""
    return ~np.isnan(scores).any(axis=1)
