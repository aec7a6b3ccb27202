"""Save and load a fitted ClusterRouter as plain JSON and .npz files with a SHA-256 manifest.

Layout of a router folder:

- ``router.json``: format version, parameters, model ids, embedder name,
  pool fingerprint.
- ``arrays.npz``: centroids, per-cluster statistics and, for kNN variants,
  the calibration embeddings, scores and costs. Loaded with
  ``allow_pickle=False``, so it cannot carry Python objects.
- ``manifest.json``: SHA-256 digest of each of the two files above.

The manifest detects a damaged, edited or missing file. It is not a
signature: someone who can rewrite the folder can rewrite the manifest too.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.router.model import VARIANTS, ClusterRouter, pool_fingerprint

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CONFIG_FILE = "router.json"
ARRAYS_FILE = "arrays.npz"
MANIFEST_FILE = "manifest.json"

_FITTED_ARRAYS = (
    "cluster_centers_",
    "cluster_sizes_",
    "cluster_accuracy_",
    "cluster_score_counts_",
    "cluster_cost_",
    "cluster_cost_counts_",
    "global_accuracy_",
    "global_cost_",
    "fallback_clusters_",
)
_KNN_ARRAYS = ("calibration_embeddings_", "calibration_scores_", "calibration_costs_")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_router(router: ClusterRouter, path_dir: str | Path) -> Path:
    """Write a fitted router to ``path_dir`` (created if needed) and return the folder."""
    router._require_fitted()
    folder = Path(path_dir)
    folder.mkdir(parents=True, exist_ok=True)

    config = {
        "format_version": FORMAT_VERSION,
        "params": router.get_params(),
        "model_ids": router.model_ids_,
        "pool_fingerprint": pool_fingerprint(router.model_ids_),
        "embedder_name": router.embedder_name,
        "n_features_in": int(router.n_features_in_),
    }
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    names = _FITTED_ARRAYS + (_KNN_ARRAYS if router.knn_weight > 0 else ())
    arrays = {name.rstrip("_"): np.asarray(getattr(router, name)) for name in names}
    with (folder / ARRAYS_FILE).open("wb") as handle:
        np.savez(handle, **arrays)

    manifest = {
        "algorithm": "sha256",
        "files": {name: _sha256(folder / name) for name in (CONFIG_FILE, ARRAYS_FILE)},
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    logger.info("saved router (%s, k=%d, %d models) to %s", router.variant, router.k, len(router.model_ids_), folder)
    return folder


def _verify_manifest(folder: Path) -> None:
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise HarnessError(f"router folder {folder}: missing file {MANIFEST_FILE}; save the router again")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = manifest["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise HarnessError(f"router folder {folder}: {MANIFEST_FILE} is invalid ({error}); save the router again") from None
    for name in (CONFIG_FILE, ARRAYS_FILE):
        if name not in listed:
            raise HarnessError(f"router folder {folder}: {MANIFEST_FILE} has no digest for {name}; save the router again")
        path = folder / name
        if not path.is_file():
            raise HarnessError(f"router folder {folder}: missing file {name}; save the router again")
        if _sha256(path) != listed[name]:
            raise HarnessError(
                f"router folder {folder}: {name} does not match its SHA-256 digest in {MANIFEST_FILE}; "
                "the file was changed or damaged after saving, so refit or restore the router"
            )


def load_router(path_dir: str | Path) -> ClusterRouter:
    """Load a router saved by :meth:`ClusterRouter.save` after checking every file's SHA-256 digest.

    Raises
    ------
    HarnessError
        When the folder or a file is missing, a digest does not match, or the
        contents are inconsistent; the message names the file.
    """
    folder = Path(path_dir)
    if not folder.is_dir():
        raise HarnessError(f"router folder not found: {folder}")
    _verify_manifest(folder)

    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise HarnessError(f"router folder {folder}: {CONFIG_FILE} is not valid JSON ({error})") from None
    if config.get("format_version") != FORMAT_VERSION:
        raise HarnessError(
            f"router folder {folder}: {CONFIG_FILE} has format_version {config.get('format_version')!r}, "
            f"this harness reads version {FORMAT_VERSION}"
        )
    params = dict(config["params"])
    if params.get("variant") not in VARIANTS:
        raise HarnessError(f"router folder {folder}: {CONFIG_FILE} names unknown variant {params.get('variant')!r}")
    router = ClusterRouter(**params)
    model_ids = [str(name) for name in config["model_ids"]]
    if pool_fingerprint(model_ids) != config.get("pool_fingerprint"):
        raise HarnessError(f"router folder {folder}: {CONFIG_FILE} model_ids do not match its pool_fingerprint")

    expected = _FITTED_ARRAYS + (_KNN_ARRAYS if router.knn_weight > 0 else ())
    try:
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as data:
            missing = [name for name in expected if name.rstrip("_") not in data.files]
            if missing:
                raise HarnessError(f"router folder {folder}: {ARRAYS_FILE} lacks array(s) {', '.join(missing)}")
            for name in expected:
                setattr(router, name, data[name.rstrip("_")])
    except ValueError as error:
        raise HarnessError(f"router folder {folder}: {ARRAYS_FILE} could not be read ({error})") from None

    if router.knn_weight <= 0:
        for name in _KNN_ARRAYS:
            setattr(router, name, None)
    router.model_ids_ = model_ids
    router.n_features_in_ = int(config["n_features_in"])
    _check_shapes(router, folder)
    router.cluster_centers_ = router.cluster_centers_.astype(np.float32)
    router.fallback_clusters_ = router.fallback_clusters_.astype(bool)
    from harness.router.stats import tie_ranks

    router.tie_ranks_ = tie_ranks(router.global_cost_)
    router._prepare()
    return router


def _check_shapes(router: ClusterRouter, folder: Path) -> None:
    k, m, d = router.k, len(router.model_ids_), router.n_features_in_
    expected = {
        "cluster_centers_": (k, d),
        "cluster_sizes_": (k,),
        "cluster_accuracy_": (k, m),
        "cluster_score_counts_": (k, m),
        "cluster_cost_": (k, m),
        "cluster_cost_counts_": (k, m),
        "global_accuracy_": (m,),
        "global_cost_": (m,),
        "fallback_clusters_": (k,),
    }
    if router.knn_weight > 0:
        n = router.calibration_embeddings_.shape[0]
        expected.update(
            {"calibration_embeddings_": (n, d), "calibration_scores_": (n, m), "calibration_costs_": (n, m)}
        )
    for name, shape in expected.items():
        actual = getattr(router, name).shape
        if actual != shape:
            raise HarnessError(
                f"router folder {folder}: array {name.rstrip('_')} in {ARRAYS_FILE} has shape {actual}, expected {shape}"
            )
