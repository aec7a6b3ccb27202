"""Pool file validation: every invalid file gets one error that names the value and the fix."""

from __future__ import annotations

import textwrap

import pytest

from harness.errors import PoolFileError
from harness.pool import load_pool

VALID = """\
name: demo
defaults:
  max_concurrency: 3
  params: {temperature: 0.0}
models:
  - id: small
    model: openai/small
    api_base: http://127.0.0.1:9/v1
    price: {input_per_mtok: 0.1, output_per_mtok: 0.2}
    params: {max_tokens: 64}
  - id: large
    model: openai/large
    api_base: http://127.0.0.1:9/v1
    api_key_env: LARGE_KEY
    max_concurrency: 1
    timeout: 0.5
    price: {input_per_mtok: 1, output_per_mtok: 2}
"""

# (case id, YAML text, pattern the message must match)
INVALID = [
    (
        "unknown-provider",
        "name: p\nmodels:\n  - {id: a, model: nosuch/x, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"unknown provider 'nosuch' in model 'nosuch/x'; use a LiteLLM provider such as openai",
    ),
    (
        "no-provider-prefix",
        "name: p\nmodels:\n  - {id: a, model: gpt-x, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"model 'gpt-x' needs a provider prefix such as 'openai/gpt-x'",
    ),
    (
        "duplicate-id",
        "name: p\nmodels:\n"
        "  - {id: a, model: openai/x, price: {input_per_mtok: 1, output_per_mtok: 1}}\n"
        "  - {id: a, model: openai/y, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"model id 'a' is used twice; give each model a unique 'id'",
    ),
    (
        "price-missing",
        "name: p\nmodels:\n  - {id: a, model: openai/mystery-model}\n",
        r"model 'a': price is missing and LiteLLM has no price for 'openai/mystery-model'; add 'price: \{",
    ),
    (
        "price-half-missing",
        "name: p\nmodels:\n  - {id: a, model: openai/x, price: {input_per_mtok: 1}}\n",
        r"price is missing 'output_per_mtok' \(US dollars per million tokens\)",
    ),
    (
        "negative-price",
        "name: p\nmodels:\n  - {id: a, model: openai/x, price: {input_per_mtok: -1, output_per_mtok: 1}}\n",
        r"price.input_per_mtok must be >= 0, got -1; set it to 0 or more",
    ),
    (
        "negative-concurrency",
        "name: p\nmodels:\n  - {id: a, model: openai/x, max_concurrency: -2, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"max_concurrency must be >= 1, got -2; set it to 1 or more",
    ),
    (
        "negative-timeout",
        "name: p\nmodels:\n  - {id: a, model: openai/x, timeout: -5, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"timeout must be >= 0.1, got -5",
    ),
    (
        "limit-not-a-number",
        "name: p\nmodels:\n  - {id: a, model: openai/x, max_concurrency: many, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"max_concurrency must be a number, got 'many'",
    ),
    (
        "yaml-syntax",
        "name: p\nmodels:\n  - id: a\n    model: [openai/x\n    price: 3\n",
        r"invalid YAML at line \d+, column \d+",
    ),
    (
        "unknown-model-field",
        "name: p\nmodels:\n  - {id: a, model: openai/x, temprature: 0, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"unknown field 'temprature' in models\[0\]; allowed fields are: api_base, api_key_env",
    ),
    (
        "unknown-pool-field",
        "name: p\nmodel: []\nmodels:\n  - {id: a, model: openai/x, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"unknown field 'model' in the pool; allowed fields are: defaults, description, models, name, server",
    ),
    (
        "unknown-default-field",
        "name: p\ndefaults: {id: x}\nmodels:\n  - {id: a, model: openai/x, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"unknown field 'id' in defaults",
    ),
    (
        "no-models",
        "name: p\nmodels: []\n",
        r"the pool has no models; add a 'models' list with at least one entry",
    ),
    (
        "invalid-mode",
        "name: p\nmodels:\n  - {id: a, model: openai/x, mode: stream, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"mode 'stream' is invalid; use 'chat' or 'completion'",
    ),
    (
        "id-with-slash",
        "name: p\nmodels:\n  - {id: a/b, model: openai/x, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"id 'a/b' is invalid; use letters, digits",
    ),
    (
        "server-on-all-interfaces",
        "name: p\nserver: {host: 0.0.0.0}\nmodels:\n  - {id: a, model: openai/x, weights: w, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"server host '0.0.0.0' is not allowed; the local server binds to 127.0.0.1 only",
    ),
    (
        "server-on-lan-address",
        "name: p\nserver: {host: 192.168.1.20}\nmodels:\n  - {id: a, model: openai/x, weights: w, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"server host '192.168.1.20' is not allowed",
    ),
    (
        "weights-without-server",
        "name: p\nmodels:\n  - {id: a, model: openai/x, weights: w, price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
        r"weights 'w' needs a 'server' section",
    ),
    (
        "not-a-mapping",
        "- just\n- a list\n",
        r"a pool file must be a mapping with 'name' and 'models', got list",
    ),
]


def write(tmp_path, text: str):
    path = tmp_path / "pool.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_valid_pool_merges_defaults(tmp_path):
    pool = load_pool(write(tmp_path, VALID))

    small, large = pool.models
    assert pool.ids == ["small", "large"]
    assert small.max_concurrency == 3
    assert small.params == {"temperature": 0.0, "max_tokens": 64}
    assert large.max_concurrency == 1
    assert large.timeout == 0.5
    assert large.api_key_env == "LARGE_KEY"
    assert large.price.cost(1_000_000, 1_000_000) == pytest.approx(3.0)


@pytest.mark.parametrize("text,pattern", [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_pool_is_rejected(tmp_path, text, pattern):
    path = write(tmp_path, text)

    with pytest.raises(PoolFileError, match=pattern) as raised:
        load_pool(path)

    assert str(raised.value).startswith(str(path))


def test_yaml_error_names_the_line(tmp_path):
    path = write(tmp_path, "name: p\nmodels:\n  - id: a\n    model: openai/x\n   bad indent: 1\n")

    with pytest.raises(PoolFileError, match="invalid YAML at line 5"):
        load_pool(path)


def test_key_pasted_as_variable_is_not_echoed(tmp_path):
    secret = "sk-proj-THIS-IS-A-PASTED-KEY-1234"
    path = write(
        tmp_path,
        f"name: p\nmodels:\n  - {{id: a, model: openai/x, api_key_env: {secret}, "
        "price: {input_per_mtok: 1, output_per_mtok: 1}}\n",
    )

    with pytest.raises(PoolFileError, match="api_key_env must be the name of an environment variable") as raised:
        load_pool(path)

    assert secret not in str(raised.value)


def test_missing_pool_file_is_named(tmp_path):
    with pytest.raises(PoolFileError, match=r"pool file '.*nowhere.yaml' not found"):
        load_pool(tmp_path / "nowhere.yaml")


def test_unknown_model_lists_pool_ids(tmp_path):
    pool = load_pool(write(tmp_path, VALID))

    with pytest.raises(PoolFileError, match="model 'medium' is not in pool 'demo'; its models are: small, large"):
        pool.get("medium")
