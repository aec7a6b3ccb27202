"""Benchmark specs, one module per family.

Every module here that does not start with "_" is imported by the registry,
and each spec in its module-level ``BENCHMARKS`` list is registered.
"""
