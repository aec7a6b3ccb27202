"""Shared fixtures: a fake OpenAI-compatible server and pools that point at it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import harness  # noqa: F401  (offline litellm flag before any test imports litellm)

from tests.fake_openai import FakeOpenAIServer

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"

# inspect-ai's mockllm counts tokens with tiktoken, which downloads its
# encoding unless pointed at a local copy; litellm ships one.
if "TIKTOKEN_CACHE_DIR" not in os.environ:
    import litellm

    tokenizers = Path(litellm.__file__).parent / "litellm_core_utils" / "tokenizers"
    if tokenizers.is_dir():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(tokenizers)


@pytest.fixture
def fake_server():
    """A fake OpenAI-compatible server on 127.0.0.1, stopped after the test."""
    with FakeOpenAIServer() as server:
        yield server


def write_pool(path: Path, api_base: str, model_ids: list[str], **extra) -> Path:
    """Write a pool file whose models all point at ``api_base``."""
    import yaml

    models = []
    for index, model_id in enumerate(model_ids):
        models.append(
            {
                "id": model_id,
                "model": f"openai/{model_id}",
                "api_base": api_base,
                "price": {"input_per_mtok": 1.0 * (index + 1), "output_per_mtok": 2.0 * (index + 1)},
                "max_concurrency": 2,
                "timeout": 5,
                **extra,
            }
        )
    path.write_text(yaml.safe_dump({"name": "fake", "models": models}))
    return path
