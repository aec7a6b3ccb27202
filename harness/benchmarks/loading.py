"""Turn a registered benchmark into inspect Samples, a Dataset and a Task."""

from __future__ import annotations

import logging
from pathlib import Path

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample

from harness.benchmarks.registry import get_benchmark
from harness.benchmarks.sources import BenchmarkDataError, load_records

logger = logging.getLogger(__name__)


def load_samples(name: str, data_dir: str | Path | None = None) -> list[Sample]:
    """Return the Samples of benchmark ``name`` in source order.

    Each Sample has a string ``input`` (the whole prompt), a ``target``, an id
    unique within the benchmark and ``metadata["benchmark"] == name``.
    """
    spec = get_benchmark(name)
    loaded = load_records(spec, data_dir)
    logger.info("loaded %d records of %s from %s", len(loaded.records), name, loaded.source)
    samples = []
    for record in loaded.records:
        try:
            sample = spec.to_sample(record, name)
        except (KeyError, ValueError, TypeError, IndexError) as error:
            raise BenchmarkDataError(
                f'record "{record.get("id")}" of {name} ({loaded.source}) cannot become a sample: {error}'
            ) from error
        samples.append(sample)
    return samples


def load_dataset(name: str, data_dir: str | Path | None = None) -> MemoryDataset:
    """Return benchmark ``name`` as an inspect MemoryDataset named after it."""
    return MemoryDataset(load_samples(name, data_dir), name=name)


def load_task(name: str, data_dir: str | Path | None = None) -> Task:
    """Return the inspect Task of benchmark ``name``, ready for ``inspect_ai.eval``.

    Parameters
    ----------
    name
        Registry name, for example ``arc_challenge`` (see ``harness tasks``).
    data_dir
        Folder holding ``<name>.jsonl``; None falls back to ``HARNESS_DATA_DIR``
        and then to the packaged copy and the hub.
    """
    spec = get_benchmark(name)
    return spec.build_task(spec, load_samples(name, data_dir))
