"""The registry of benchmarks, filled from the modules of ``harness.benchmarks.catalog``."""

from __future__ import annotations

import importlib
import pkgutil
import threading

from harness.benchmarks.spec import BenchmarkSpec
from harness.errors import HarnessError

CATALOG_PACKAGE = "harness.benchmarks.catalog"

_registry: dict[str, BenchmarkSpec] = {}
_catalog_loaded = False
_lock = threading.Lock()


class UnknownBenchmarkError(HarnessError):
    """A benchmark name is not in the registry."""


def register_benchmark(spec: BenchmarkSpec) -> BenchmarkSpec:
    """Add ``spec`` to the registry and return it.

    Raises
    ------
    HarnessError
        If another spec already uses the name.
    """
    existing = _registry.get(spec.name)
    if existing is not None and existing is not spec:
        raise HarnessError(f"benchmark name {spec.name!r} is registered twice; rename one of the specs")
    _registry[spec.name] = spec
    return spec


def _load_catalog() -> None:
    # Each catalog module lists its specs in a module-level BENCHMARKS list, so
    # adding a benchmark means adding a module (or an entry) and nothing else.
    global _catalog_loaded
    with _lock:
        if _catalog_loaded:
            return
        package = importlib.import_module(CATALOG_PACKAGE)
        for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if module_info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{CATALOG_PACKAGE}.{module_info.name}")
            for spec in getattr(module, "BENCHMARKS", []):
                register_benchmark(spec)
        _catalog_loaded = True


def list_benchmarks() -> list[BenchmarkSpec]:
    """Return every registered benchmark, ordered by group and then name."""
    _load_catalog()
    return sorted(_registry.values(), key=lambda spec: (spec.group, spec.name))


def get_benchmark(name: str) -> BenchmarkSpec:
    """Return the spec registered under ``name``.

    Raises
    ------
    UnknownBenchmarkError
        If no benchmark has that name; the message lists the known names.
    """
    _load_catalog()
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise UnknownBenchmarkError(
            f"unknown benchmark {name!r}; known benchmarks: {known} (run `harness tasks` for details)"
        ) from None
