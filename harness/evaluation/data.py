"""Aligned arrays of one results matrix plus its query embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import HarnessError
from harness.matrix import MatrixArrays


@dataclass(frozen=True)
class EvaluationData:
    """Samples of one matrix, row-aligned across every array.

    Attributes
    ----------
    sample_keys : numpy.ndarray
        Shape (n,), ``benchmark/sample_id`` per sample.
    benchmarks : numpy.ndarray
        Shape (n,), benchmark per sample.
    model_ids : list of str
        The m models, in column order.
    scores : numpy.ndarray
        Shape (n, m), in [0, 1]; NaN where the model has no result.
    costs : numpy.ndarray
        Shape (n, m), US dollars; NaN where unknown.
    embeddings : numpy.ndarray
        Shape (n, d), float32, L2-normalised.
    """

    sample_keys: np.ndarray
    benchmarks: np.ndarray
    model_ids: list[str]
    scores: np.ndarray
    costs: np.ndarray
    embeddings: np.ndarray

    def __post_init__(self) -> None:
        n, m = self.scores.shape
        if self.costs.shape != (n, m) or len(self.model_ids) != m:
            raise HarnessError(f"scores {self.scores.shape}, costs {self.costs.shape} and {len(self.model_ids)} models do not align")
        if self.sample_keys.shape != (n,) or self.benchmarks.shape != (n,) or self.embeddings.shape[0] != n:
            raise HarnessError(
                f"{n} score rows but {self.sample_keys.shape[0]} keys, {self.benchmarks.shape[0]} benchmarks "
                f"and {self.embeddings.shape[0]} embeddings"
            )

    @classmethod
    def from_arrays(cls, arrays: MatrixArrays, embeddings: np.ndarray) -> "EvaluationData":
        """Combine the arrays of :func:`harness.matrix.to_arrays` with embeddings of shape (n, d)."""
        return cls(
            sample_keys=np.asarray(arrays.sample_keys, dtype=object),
            benchmarks=np.asarray(arrays.benchmarks, dtype=object),
            model_ids=list(arrays.model_ids),
            scores=np.asarray(arrays.scores, dtype=float),
            costs=np.asarray(arrays.costs, dtype=float),
            embeddings=np.asarray(embeddings, dtype=np.float32),
        )

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def subset(self, rows: np.ndarray) -> "EvaluationData":
        """Return the samples at ``rows`` (int indices or a bool mask)."""
        return EvaluationData(
            sample_keys=self.sample_keys[rows],
            benchmarks=self.benchmarks[rows],
            model_ids=self.model_ids,
            scores=self.scores[rows],
            costs=self.costs[rows],
            embeddings=self.embeddings[rows],
        )
