"""Saved routers: round trip, SHA-256 manifest checks and pool compatibility."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.errors import HarnessError
from harness.router import ClusterRouter, load_router, pool_fingerprint

from tests.test_router import MODELS, three_topics


@pytest.fixture
def data():
    return three_topics()


@pytest.mark.parametrize("variant", ["avengers-pro", "shrunk", "softmax", "knn"])
def test_save_load_round_trip(tmp_path, data, variant):
    embeddings, scores, costs, _ = data
    router = ClusterRouter(k=4, top_p=2, variant=variant, alpha=0.7, min_cluster_size=2, knn_k=5, embedder_name="toy-embedder")
    router.fit(embeddings, scores, costs, MODELS)

    router.save(tmp_path / "r")
    loaded = load_router(tmp_path / "r")

    assert loaded.get_params() == router.get_params()
    assert loaded.model_ids_ == MODELS
    np.testing.assert_array_equal(loaded.cluster_centers_, router.cluster_centers_)
    for alpha in (None, 1.0, 0.5, 0.0):
        np.testing.assert_array_equal(loaded.route(embeddings, alpha), router.route(embeddings, alpha))


def test_saved_files_are_plain(tmp_path, data):
    embeddings, scores, costs, _ = data
    ClusterRouter(k=3).fit(embeddings, scores, costs, MODELS).save(tmp_path / "r")

    config = json.loads((tmp_path / "r" / "router.json").read_text())
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())

    assert config["pool_fingerprint"] == pool_fingerprint(MODELS)
    assert config["params"]["k"] == 3
    assert set(manifest["files"]) == {"router.json", "arrays.npz"}
    with np.load(tmp_path / "r" / "arrays.npz", allow_pickle=False) as arrays:
        assert "cluster_centers" in arrays.files
        assert "calibration_embeddings" not in arrays.files  # only kNN variants store them


def test_tampered_config_is_rejected(tmp_path, data):
    embeddings, scores, costs, _ = data
    ClusterRouter(k=3).fit(embeddings, scores, costs, MODELS).save(tmp_path / "r")
    path = tmp_path / "r" / "router.json"
    path.write_text(path.read_text().replace('"top_p": 2', '"top_p": 3'))

    with pytest.raises(HarnessError, match="router.json does not match its SHA-256 digest"):
        load_router(tmp_path / "r")


def test_tampered_arrays_are_rejected(tmp_path, data):
    embeddings, scores, costs, _ = data
    ClusterRouter(k=3).fit(embeddings, scores, costs, MODELS).save(tmp_path / "r")
    path = tmp_path / "r" / "arrays.npz"
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    path.write_bytes(bytes(payload))

    with pytest.raises(HarnessError, match="arrays.npz does not match"):
        load_router(tmp_path / "r")


@pytest.mark.parametrize("name", ["arrays.npz", "router.json", "manifest.json"])
def test_missing_file_is_named(tmp_path, data, name):
    embeddings, scores, costs, _ = data
    ClusterRouter(k=3).fit(embeddings, scores, costs, MODELS).save(tmp_path / "r")
    (tmp_path / "r" / name).unlink()

    with pytest.raises(HarnessError, match=f"missing file {name}"):
        load_router(tmp_path / "r")


def test_missing_folder(tmp_path):
    with pytest.raises(HarnessError, match="router folder not found"):
        load_router(tmp_path / "absent")


def test_check_compatible(data):
    embeddings, scores, costs, _ = data
    router = ClusterRouter(k=3, embedder_name="toy-embedder").fit(embeddings, scores, costs, MODELS)

    router.check_compatible(list(reversed(MODELS)), "toy-embedder")
    with pytest.raises(HarnessError, match="missing from the pool: mid"):
        router.check_compatible(["cheap", "expensive"], "toy-embedder")
    with pytest.raises(HarnessError, match="not known to the router: other"):
        router.check_compatible(MODELS + ["other"], "toy-embedder")
    with pytest.raises(HarnessError, match="fitted with embedder 'toy-embedder' but 'other-embedder'"):
        router.check_compatible(MODELS, "other-embedder")
