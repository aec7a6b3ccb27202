"""Per-cluster statistics of the cluster router: NaN-aware means, min-max normalisation, tie ranks."""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)


def group_means(values: np.ndarray, labels: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the NaN-ignoring mean and count of ``values`` per group.

    Parameters
    ----------
    values : numpy.ndarray
        Shape (n, m); NaN marks a missing value.
    labels : numpy.ndarray
        Shape (n,), integer group of each row in ``[0, n_groups)``.
    n_groups : int
        Number of groups.

    Returns
    -------
    means : numpy.ndarray
        Shape (n_groups, m); NaN where a group has no value for a column.
    counts : numpy.ndarray
        Shape (n_groups, m), number of non-NaN values.
    """
    known = ~np.isnan(values)
    one_hot = np.zeros((n_groups, values.shape[0]))
    one_hot[labels, np.arange(values.shape[0])] = 1.0
    counts = one_hot @ known.astype(float)
    sums = one_hot @ np.where(known, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
    return means, counts


def column_means(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the NaN-ignoring mean and count per column of an (n, m) array."""
    known = ~np.isnan(values)
    counts = known.sum(axis=0).astype(float)
    sums = np.where(known, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1.0), np.nan)
    return means, counts


def min_max_rows(values: np.ndarray) -> np.ndarray:
    """Scale each row of an (r, m) array to [0, 1]; a row with no spread becomes all zeros."""
    low = values.min(axis=1, keepdims=True)
    spread = values.max(axis=1, keepdims=True) - low
    safe = np.where(spread > 0, spread, 1.0)
    return np.where(spread > 0, (values - low) / safe, 0.0)


def fill_unknown_costs(global_cost: np.ndarray, model_ids: list[str]) -> np.ndarray:
    """Replace a model's unknown calibration-wide cost by the highest known cost.

    An unknown cost is not zero. Treating it as the most expensive model's
    cost keeps the router from preferring a model only because its price is
    missing. With no known cost at all every model gets cost 0, so cost plays
    no part in routing.
    """
    filled = global_cost.copy()
    unknown = np.isnan(filled)
    if unknown.all():
        logger.warning("no model has a known cost; routing ignores cost")
        return np.zeros_like(filled)
    if unknown.any():
        names = [model_ids[i] for i in np.flatnonzero(unknown)]
        logger.warning("no known cost for %s; treated as the highest known cost for routing", ", ".join(names))
        filled[unknown] = np.nanmax(filled)
    return filled


def tie_ranks(global_cost: np.ndarray) -> np.ndarray:
    """Return each model's rank in the tie-break order: cheaper calibration-wide mean cost first.

    Models with equal cost keep their column order. Shape (m,), int.
    """
    order = np.argsort(global_cost, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(order.size)
    return ranks


def argmax_cheapest(scores: np.ndarray, ranks: np.ndarray, tolerance: float = 1e-9) -> np.ndarray:
    """Return per row the column of the highest score, breaking ties by the lowest rank.

    Parameters
    ----------
    scores : numpy.ndarray
        Shape (n, m).
    ranks : numpy.ndarray
        Shape (m,), tie-break rank per column (0 is preferred).
    tolerance : float
        Scores within this distance of the row maximum count as tied.

    Returns
    -------
    numpy.ndarray
        Shape (n,), int column indices.
    """
    best = scores.max(axis=1, keepdims=True)
    tied = scores >= best - tolerance
    return np.where(tied, ranks[None, :], ranks.size).argmin(axis=1)
