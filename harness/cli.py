"""The ``harness`` command: one sub-command per step of the workflow."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

import harness  # noqa: F401  (offline flags before anything imports litellm)
from harness.errors import HarnessError

# Each entry is a module that defines
# ``register(subparsers) -> None``, which adds its sub-command and sets
# ``func`` on the parser to a callable taking the parsed arguments and
# returning an exit code.
COMMAND_MODULES = [
    "harness.commands.run",
    "harness.commands.models",
    "harness.commands.tasks",
    "harness.commands.evaluate",
    "harness.commands.importer",
    "harness.commands.serve",
]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command that can be imported."""
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Evaluate a model pool and a cluster router on benchmarks, with a cached gateway.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # inspect-ai configures the root logger when an eval starts, so the
    # harness logs through its own handler to stay visible during a run.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    harness_logger = logging.getLogger("harness")
    harness_logger.handlers[:] = [handler]
    harness_logger.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    harness_logger.propagate = False
    # LiteLLM and httpx log every request at INFO; keep the run's own log readable.
    for noisy in ("LiteLLM", "litellm", "httpx", "httpcore", "openai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except HarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: every finished call is in the cache; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
