"""Pool files: the candidate models, their prices and limits, read from YAML."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import harness  # noqa: F401  (sets the offline litellm flag before litellm loads)
from harness.errors import PoolFileError

POOL_FIELDS = {"name", "description", "server", "defaults", "models"}
SERVER_FIELDS = {"kind", "host", "port", "n_ctx", "n_threads", "startup_timeout"}
MODEL_FIELDS = {
    "id",
    "model",
    "api_base",
    "api_key_env",
    "weights",
    "mode",
    "price",
    "max_concurrency",
    "params",
    "timeout",
}
PRICE_FIELDS = {"input_per_mtok", "output_per_mtok"}
MODES = {"chat", "completion"}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Price:
    """Price of a model in US dollars per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Return the cost in US dollars of a call with these token counts."""
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6


@dataclass(frozen=True)
class LocalServer:
    """A llama.cpp server that the harness starts for the pool's local models."""

    kind: str = "llama.cpp"
    host: str = "127.0.0.1"
    port: int = 8089
    n_ctx: int = 4096
    n_threads: int = 2
    startup_timeout: float = 300.0

    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


@dataclass(frozen=True)
class PoolModel:
    """One candidate model of a pool.

    ``model`` is the LiteLLM model string (``provider/name``); ``weights`` names
    a GGUF file from ``harness models pull`` when the pool's local server serves
    this model. ``timeout`` is the total time in seconds one attempt of a call
    may take, from sending the request to the last byte of the answer.
    """

    id: str
    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    weights: str | None = None
    mode: str = "chat"
    price: Price | None = None
    max_concurrency: int = 4
    params: dict[str, Any] = field(default_factory=dict)
    timeout: float = 120.0

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0]

    def api_key(self) -> str | None:
        """Return the API key from the environment, or None when the model needs none."""
        if not self.api_key_env:
            return None
        return os.environ.get(self.api_key_env)


@dataclass(frozen=True)
class Pool:
    """A set of candidate models reached through one gateway."""

    name: str
    models: tuple[PoolModel, ...]
    server: LocalServer | None = None
    source: Path | None = None

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.models]

    def get(self, model_id: str) -> PoolModel:
        """Return the model with this id, or raise naming the ids that exist."""
        for m in self.models:
            if m.id == model_id:
                return m
        raise PoolFileError(
            f"model {model_id!r} is not in pool {self.name!r}; its models are: {', '.join(self.ids)}"
        )


def _check_fields(data: dict, allowed: set[str], where: str, path: Path) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PoolFileError(
            f"{path}: unknown field {unknown[0]!r} in {where}; allowed fields are: {', '.join(sorted(allowed))}"
        )


def _number(value: Any, name: str, where: str, path: Path, *, minimum: float, integer: bool = False) -> Any:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise PoolFileError(f"{path}: {where}: {name} must be a number, got {value!r}")
    if value < minimum:
        raise PoolFileError(f"{path}: {where}: {name} must be >= {minimum}, got {value!r}; set it to {minimum} or more")
    return value


def _known_providers() -> set[str]:
    import litellm

    return {str(getattr(p, "value", p)) for p in litellm.provider_list}


def _has_builtin_price(model: str) -> bool:
    import litellm

    name = model.split("/", 1)[1] if "/" in model else model
    return model in litellm.model_cost or name in litellm.model_cost


def _parse_model(raw: Any, index: int, server: LocalServer | None, path: Path) -> PoolModel:
    where = f"models[{index}]"
    if not isinstance(raw, dict):
        raise PoolFileError(f"{path}: {where} must be a mapping with at least 'id' and 'model', got {raw!r}")
    _check_fields(raw, MODEL_FIELDS, where, path)
    for required in ("id", "model"):
        if required not in raw:
            raise PoolFileError(f"{path}: {where} is missing the required field {required!r}")

    model_id = str(raw["id"])
    if not ID_PATTERN.match(model_id):
        raise PoolFileError(
            f"{path}: {where}: id {model_id!r} is invalid; use letters, digits, '.', '_', ':' or '-' (no '/')"
        )
    where = f"model {model_id!r}"

    model = str(raw["model"])
    if "/" not in model:
        raise PoolFileError(f"{path}: {where}: model {model!r} needs a provider prefix such as 'openai/{model}'")
    provider = model.split("/", 1)[0]
    if provider not in _known_providers():
        raise PoolFileError(
            f"{path}: {where}: unknown provider {provider!r} in model {model!r}; "
            "use a LiteLLM provider such as openai, anthropic, gemini, openrouter, ollama or hosted_vllm"
        )

    mode = raw.get("mode", "chat")
    if mode not in MODES:
        raise PoolFileError(f"{path}: {where}: mode {mode!r} is invalid; use 'chat' or 'completion'")

    price = None
    if "price" in raw:
        raw_price = raw["price"]
        if not isinstance(raw_price, dict):
            raise PoolFileError(f"{path}: {where}: price must be a mapping with input_per_mtok and output_per_mtok")
        _check_fields(raw_price, PRICE_FIELDS, f"{where} price", path)
        for name in PRICE_FIELDS:
            if name not in raw_price:
                raise PoolFileError(f"{path}: {where}: price is missing {name!r} (US dollars per million tokens)")
        price = Price(
            float(_number(raw_price["input_per_mtok"], "price.input_per_mtok", where, path, minimum=0)),
            float(_number(raw_price["output_per_mtok"], "price.output_per_mtok", where, path, minimum=0)),
        )
    elif raw.get("weights") or not _has_builtin_price(model):
        raise PoolFileError(
            f"{path}: {where}: price is missing and LiteLLM has no price for {model!r}; add "
            "'price: {input_per_mtok: ..., output_per_mtok: ...}' in US dollars per million tokens"
        )

    api_base = raw.get("api_base")
    if raw.get("weights") and api_base is None:
        if server is None:
            raise PoolFileError(
                f"{path}: {where}: weights {raw['weights']!r} needs a 'server' section so the harness can serve it"
            )
        api_base = server.api_base

    api_key_env = raw.get("api_key_env")
    if api_key_env is not None and not (isinstance(api_key_env, str) and ENV_NAME_PATTERN.match(api_key_env)):
        # The value is not echoed: a key pasted here by mistake must not reach a log.
        raise PoolFileError(
            f"{path}: {where}: api_key_env must be the name of an environment variable such as OPENAI_API_KEY, "
            "not the key itself; put the key in that variable or in .env"
        )

    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise PoolFileError(f"{path}: {where}: params must be a mapping, got {params!r}")

    return PoolModel(
        id=model_id,
        model=model,
        api_base=api_base,
        api_key_env=api_key_env,
        weights=raw.get("weights"),
        mode=mode,
        price=price,
        max_concurrency=_number(raw.get("max_concurrency", 4), "max_concurrency", where, path, minimum=1, integer=True),
        params=dict(params),
        timeout=float(_number(raw.get("timeout", 120.0), "timeout", where, path, minimum=0.1)),
    )


def parse_pool(data: Any, path: Path) -> Pool:
    """Validate the parsed YAML of a pool file and build the pool."""
    if not isinstance(data, dict):
        raise PoolFileError(f"{path}: a pool file must be a mapping with 'name' and 'models', got {type(data).__name__}")
    _check_fields(data, POOL_FIELDS, "the pool", path)

    server = None
    if data.get("server") is not None:
        raw_server = data["server"]
        if not isinstance(raw_server, dict):
            raise PoolFileError(f"{path}: server must be a mapping")
        _check_fields(raw_server, SERVER_FIELDS, "server", path)
        if raw_server.get("kind", "llama.cpp") != "llama.cpp":
            raise PoolFileError(f"{path}: server kind {raw_server['kind']!r} is not supported; use 'llama.cpp'")
        host = raw_server.get("host", "127.0.0.1")
        if host not in ("127.0.0.1", "localhost"):
            raise PoolFileError(f"{path}: server host {host!r} is not allowed; the local server binds to 127.0.0.1 only")
        server = LocalServer(
            host="127.0.0.1",
            port=_number(raw_server.get("port", 8089), "port", "server", path, minimum=1, integer=True),
            n_ctx=_number(raw_server.get("n_ctx", 4096), "n_ctx", "server", path, minimum=256, integer=True),
            n_threads=_number(raw_server.get("n_threads", 2), "n_threads", "server", path, minimum=1, integer=True),
            startup_timeout=float(_number(raw_server.get("startup_timeout", 300), "startup_timeout", "server", path, minimum=1)),
        )

    defaults = data.get("defaults", {}) or {}
    if not isinstance(defaults, dict):
        raise PoolFileError(f"{path}: defaults must be a mapping of model fields")
    _check_fields(defaults, MODEL_FIELDS - {"id", "model", "weights"}, "defaults", path)

    raw_models = data.get("models")
    if not isinstance(raw_models, list) or not raw_models:
        raise PoolFileError(f"{path}: the pool has no models; add a 'models' list with at least one entry")

    models: list[PoolModel] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_models):
        merged = {**defaults, **raw} if isinstance(raw, dict) else raw
        if isinstance(raw, dict) and "params" in defaults:
            merged["params"] = {**defaults["params"], **raw.get("params", {})}
        entry = _parse_model(merged, index, server, path)
        if entry.id in seen:
            raise PoolFileError(f"{path}: model id {entry.id!r} is used twice; give each model a unique 'id'")
        seen.add(entry.id)
        models.append(entry)

    return Pool(name=str(data.get("name", path.stem)), models=tuple(models), server=server, source=path)


def load_pool(path: str | Path) -> Pool:
    """Read and validate a pool file."""
    path = Path(path)
    if not path.is_file():
        available = sorted(p.name for p in Path("pools").glob("*.yaml")) if Path("pools").is_dir() else []
        hint = f"; pool files in ./pools: {', '.join(available)}" if available else ""
        raise PoolFileError(f"pool file {str(path)!r} not found{hint}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PoolFileError(f"{path}: invalid YAML{line}: {getattr(error, 'problem', error)}") from None
    return parse_pool(data, path)
