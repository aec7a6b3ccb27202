"""Cache faults: damaged entries, a damaged database, a full disk, read-only folders.

diskcache keeps values under 32 KB inside its SQLite file and larger ones in
files beside it, so each kind of damage is tried on both.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
from pathlib import Path

import pytest

from harness.cache import CacheWriteError, ResponseCache
from harness.cli import main as cli_main
from harness.errors import CacheMissError, HarnessError
from harness.gateway import Gateway
from harness.pool import load_pool
from tests.conftest import write_pool

MESSAGES = [{"role": "user", "content": "Name a prime number."}]
LONG_TEXT = "prime " * 8000  # 48 KB: stored in a file, not in SQLite


def make_gateway(tmp_path: Path, api_base: str, cache_dir: Path, mode: str = "read-write") -> Gateway:
    pool = load_pool(write_pool(tmp_path / "pool.yaml", api_base, ["alpha"]))
    return Gateway(pool, ResponseCache(cache_dir, mode), max_attempts=2, backoff_initial=0.01, backoff_max=0.02)


def set_answer(server, size: str) -> None:
    if size == "large":
        server.answer = lambda request: LONG_TEXT
    else:
        server.answer = lambda request: "7"


def rows(cache_dir: Path) -> list[tuple[str, str | None, object]]:
    """Return (key, filename, value) of every row of the cache's SQLite table."""
    with sqlite3.connect(cache_dir / "cache.db") as connection:
        return connection.execute("SELECT key, filename, value FROM Cache").fetchall()


def damage_small(cache_dir: Path, how: str) -> None:
    key, _, value = rows(cache_dir)[0]
    if how == "truncated":
        damaged = value[: len(value) // 2]
    else:
        damaged = value.replace('\\"7\\"', '\\"8\\"')
        assert damaged != value
    with sqlite3.connect(cache_dir / "cache.db") as connection:
        connection.execute("UPDATE Cache SET value = ? WHERE key = ?", (damaged, key))


def damage_large(cache_dir: Path, how: str) -> None:
    _, filename, _ = rows(cache_dir)[0]
    path = cache_dir / filename
    text = path.read_text(encoding="utf-8")
    if how == "truncated":
        path.write_text(text[: len(text) // 2], encoding="utf-8")
    elif how == "edited":
        path.write_text(text.replace("prime prime", "prime prim3", 1), encoding="utf-8")
    else:
        path.unlink()


DAMAGE = [("small", "truncated"), ("small", "edited"), ("large", "truncated"), ("large", "edited"), ("large", "deleted")]


@pytest.mark.parametrize("size,how", DAMAGE, ids=[f"{s}-{h}" for s, h in DAMAGE])
async def test_damaged_entry_is_reported_and_refetched(tmp_path, fake_server, caplog, size, how):
    set_answer(fake_server, size)
    cache_dir = tmp_path / "cache"
    first = make_gateway(tmp_path, fake_server.api_base, cache_dir)
    original = await first.complete("alpha", MESSAGES)
    first.cache.close()
    assert (rows(cache_dir)[0][1] is not None) == (size == "large")
    (size == "large" and damage_large or damage_small)(cache_dir, how)

    second = make_gateway(tmp_path, fake_server.api_base, cache_dir)
    with caplog.at_level(logging.WARNING, logger="harness.cache"):
        refetched = await second.complete("alpha", MESSAGES)

    assert f"damaged cache entry {original.cache_key}" in caplog.text
    assert second.cache.stats.corrupt == 1
    assert not refetched.cached
    assert refetched.text == original.text
    assert len(fake_server.requests) == 2
    # The refetched answer replaced the damaged entry.
    third = await second.complete("alpha", MESSAGES)
    assert third.cached
    assert len(fake_server.requests) == 2


@pytest.mark.parametrize("size,how", DAMAGE, ids=[f"{s}-{h}" for s, h in DAMAGE])
async def test_damaged_entry_in_replay_is_a_miss(tmp_path, fake_server, size, how):
    set_answer(fake_server, size)
    cache_dir = tmp_path / "cache"
    first = make_gateway(tmp_path, fake_server.api_base, cache_dir)
    original = await first.complete("alpha", MESSAGES)
    first.cache.close()
    (size == "large" and damage_large or damage_small)(cache_dir, how)

    replay = make_gateway(tmp_path, fake_server.api_base, cache_dir, mode="replay")
    with pytest.raises(CacheMissError, match=f"is damaged .*key {original.cache_key}.*run without --replay"):
        await replay.complete("alpha", MESSAGES, sample_id="q1")

    assert len(fake_server.requests) == 1


async def test_payload_of_wrong_shape_is_damaged(tmp_path, fake_server, caplog):
    cache_dir = tmp_path / "cache"
    first = make_gateway(tmp_path, fake_server.api_base, cache_dir)
    original = await first.complete("alpha", MESSAGES)
    # A well-formed envelope with a valid checksum around a payload that is
    # not a gateway result, as an older format or another tool might write.
    payload_text = json.dumps({"answer": "7"})
    import hashlib

    envelope = json.dumps({"sha256": hashlib.sha256(payload_text.encode()).hexdigest(), "payload": payload_text})
    first.cache._cache.set(original.cache_key, envelope)
    first.cache.close()

    second = make_gateway(tmp_path, fake_server.api_base, cache_dir)
    with caplog.at_level(logging.WARNING, logger="harness.cache"):
        result = await second.complete("alpha", MESSAGES)

    assert not result.cached
    assert f"damaged cache entry {original.cache_key}" in caplog.text
    assert len(fake_server.requests) == 2


def test_damaged_database_fails_to_open(tmp_path):
    cache = ResponseCache(tmp_path / "cache")
    cache.set("a" * 64, {"text": "x"})
    cache.close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / "cache" / f"cache.db{suffix}").unlink(missing_ok=True)
    database = tmp_path / "cache" / "cache.db"
    database.write_bytes(b"this is not an SQLite file" * 100)

    with pytest.raises(HarnessError, match="cannot open the response cache .*move a damaged cache.db away"):
        ResponseCache(tmp_path / "cache")


# Full and read-only file systems, made with small tmpfs mounts (root only).


@pytest.fixture
def tmpfs(tmp_path):
    """Return a function that mounts a tmpfs of a given size in KB; every mount is removed after the test."""
    mounts: list[Path] = []

    def mount(size_kb: int) -> Path:
        target = tmp_path / f"tmpfs{len(mounts)}"
        target.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(target)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
        mounts.append(target)
        return target

    yield mount
    for target in reversed(mounts):
        subprocess.run(["umount", "-l", str(target)], check=False)


def remount_read_only(target: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True)


def fill(folder: Path) -> Path:
    """Write one file until the file system is full; return it."""
    filler = folder / "filler.bin"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    return filler


def test_full_disk_fails_before_paid_work(tmpfs, monkeypatch):
    monkeypatch.delenv("HARNESS_CACHE_MIN_FREE_MB", raising=False)
    target = tmpfs(1024)

    with pytest.raises(HarnessError, match=r"has 1\.0 MB free, less than the 16 MB needed; free disk space"):
        ResponseCache(target / "cache")


@pytest.mark.parametrize("size", ["small", "large"])
async def test_full_disk_stops_paid_calls_and_keeps_entries(tmp_path, tmpfs, fake_server, monkeypatch, caplog, size):
    monkeypatch.setenv("HARNESS_CACHE_MIN_FREE_MB", "0")
    target = tmpfs(2048)
    set_answer(fake_server, size)
    gateway = make_gateway(tmp_path, fake_server.api_base, target / "cache")
    kept = [await gateway.complete("alpha", [{"role": "user", "content": f"question {i}"}]) for i in range(3)]
    filler = fill(target)

    with caplog.at_level(logging.ERROR, logger="harness.gateway"):
        answered = await gateway.complete("alpha", [{"role": "user", "content": "question 3"}])
    with pytest.raises(CacheWriteError, match="not called, because an earlier answer could not be stored.*free disk space"):
        await gateway.complete("alpha", [{"role": "user", "content": "question 4"}], sample_id="s4")

    assert answered.text == kept[0].text
    assert "cannot write to the response cache" in caplog.text
    assert len(fake_server.requests) == 4
    # Cached answers are still served, and every earlier entry survives.
    again = await gateway.complete("alpha", [{"role": "user", "content": "question 0"}])
    assert again.cached
    gateway.cache.close()
    filler.unlink()
    reopened = ResponseCache(target / "cache")
    assert all(reopened.get(result.cache_key) is not None for result in kept)


def test_read_only_cache_fails_before_paid_work(tmpfs):
    target = tmpfs(32768)
    cache = ResponseCache(target / "cache")
    cache.set("b" * 64, {"text": "x"})
    cache.close()
    remount_read_only(target)

    with pytest.raises(HarnessError, match="cannot open the response cache .*Read-only file system"):
        ResponseCache(target / "cache")


def test_replay_on_read_only_cache_names_the_fix(tmpfs):
    target = tmpfs(32768)
    cache = ResponseCache(target / "cache")
    cache.set("b" * 64, {"text": "x"})
    cache.close()
    remount_read_only(target)

    with pytest.raises(HarnessError, match="replay mode also writes SQLite's lock files, so copy the cache to a writable folder"):
        ResponseCache(target / "cache", "replay")


def test_read_only_results_folder_is_rejected(tmp_path, tmpfs, fake_server, capsys):
    target = tmpfs(1024)
    remount_read_only(target)
    pool_path = write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"])

    code = cli_main(["run", "--pool", str(pool_path), "--tasks", "gsm8k", "--results-dir", str(target),
                     "--cache-dir", str(tmp_path / "cache"), "--display", "none"])

    stderr = capsys.readouterr().err
    assert code == 2
    assert f"results folder {target}" in stderr
    assert "not writable" in stderr
    assert "pass --results-dir with a writable folder" in stderr
    assert fake_server.requests == []
