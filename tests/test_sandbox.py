"""Tests of the code sandbox with real child processes."""

from __future__ import annotations

import os
import socket
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.sandbox import _namespace_prefix, run_python, sandbox_isolation

pytestmark = pytest.mark.timeout(60)


def _program(source: str) -> str:
    return textwrap.dedent(source).strip() + "\n"


def test_correct_program_passes() -> None:
    result = run_python("import math\nassert math.gcd(12, 18) == 6\nprint('ok')\n")
    assert result.passed, result.reason
    assert result.exit_code == 0
    assert result.stdout_tail == "ok\n"
    assert result.reason == "passed"


def test_failing_assert_reports_error() -> None:
    result = run_python("assert 1 + 1 == 3, 'arithmetic is off'\n")
    assert not result.passed
    assert result.exit_code == 1
    assert "AssertionError: arithmetic is off" in result.reason


def test_syntax_error_fails() -> None:
    result = run_python("def broken(:\n    pass\n")
    assert not result.passed
    assert "SyntaxError" in result.stderr_tail


def test_stdlib_imports_work() -> None:
    code = "import collections, heapq, itertools, functools, re, json, fractions, decimal, bisect, string, math\n"
    result = run_python(code + "print('imported')\n")
    assert result.passed, result.stderr_tail


def test_infinite_loop_times_out() -> None:
    result = run_python("while True:\n    pass\n", timeout_s=1.5)
    assert not result.passed
    assert result.timed_out
    assert result.duration_s < 10
    assert "timed out" in result.reason


def test_sleeping_program_times_out() -> None:
    result = run_python("import time\ntime.sleep(30)\n", timeout_s=1.0)
    assert result.timed_out
    assert result.duration_s < 10


def test_memory_hog_fails() -> None:
    result = run_python("block = bytearray(2 * 1024 ** 3)\nprint(len(block))\n", memory_mb=256)
    assert not result.passed
    assert "MemoryError" in result.stderr_tail
    assert result.stdout_tail == ""


def test_write_outside_workdir_fails(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    code = _program(
        f"""
        with open({str(target)!r}, "w") as handle:
            handle.write("escaped")
        """
    )
    result = run_python(code)
    assert not result.passed
    assert not target.exists()


def test_write_to_world_writable_tmp_fails(tmp_path: Path) -> None:
    target = Path("/tmp") / f"harness-sandbox-escape-{os.getpid()}.txt"
    result = run_python(f"open({str(target)!r}, 'w').write('x')\n")
    try:
        assert not result.passed
        assert "PermissionError" in result.stderr_tail
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_remove_outside_workdir_fails(tmp_path: Path) -> None:
    victim = tmp_path / "keep.txt"
    victim.write_text("keep")
    result = run_python(f"import os\nos.remove({str(victim)!r})\n")
    assert not result.passed
    assert victim.read_text() == "keep"


def test_rename_out_of_workdir_fails(tmp_path: Path) -> None:
    target = tmp_path / "moved.txt"
    result = run_python(f"import os\nopen('a.txt', 'w').write('a')\nos.rename('a.txt', {str(target)!r})\n")
    assert not result.passed
    assert not target.exists()


def test_files_inside_workdir_allowed() -> None:
    code = _program(
        """
        import os, tempfile
        with open("data.txt", "w") as handle:
            handle.write("inside")
        os.mkdir("folder")
        os.rename("data.txt", os.path.join("folder", "data.txt"))
        with tempfile.NamedTemporaryFile("w", delete=False) as handle:
            handle.write("temp")
        print(open(os.path.join("folder", "data.txt")).read())
        """
    )
    result = run_python(code)
    assert result.passed, result.stderr_tail
    assert result.stdout_tail == "inside\n"


def test_workdir_deleted_afterwards() -> None:
    result = run_python("import os\nopen('left.txt', 'w').write('x')\nprint(os.getcwd())\n")
    assert result.passed, result.stderr_tail
    workdir = Path(result.stdout_tail.strip())
    assert workdir.name.startswith("harness-sandbox-")
    assert not workdir.exists()


def test_socket_to_local_listener_fails() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)
    port = listener.getsockname()[1]
    accepted: list[object] = []

    def accept_one() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        accepted.append(connection)
        connection.close()

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    code = _program(
        f"""
        import socket
        connection = socket.create_connection(("127.0.0.1", {port}), timeout=2)
        connection.sendall(b"leak")
        print("connected")
        """
    )
    try:
        result = run_python(code, timeout_s=5)
    finally:
        listener.close()
        thread.join(timeout=6)
    assert not result.passed
    assert "connected" not in result.stdout_tail
    assert accepted == []


def test_network_namespace_blocks_without_hook() -> None:
    isolation = sandbox_isolation()
    if not isolation.network_namespace:
        pytest.skip("no network namespace on this machine; the audit hook alone blocks sockets")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    # Plain interpreter inside the same namespaces, without the guard's audit hook.
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
    try:
        completed = subprocess.run(
            [*_namespace_prefix(isolation, None), isolation.interpreter, "-I", "-S", "-c", code],
            capture_output=True,
            timeout=20,
            check=False,
            cwd="/",
        )
    finally:
        listener.close()
    assert completed.returncode != 0
    assert b"OSError" in completed.stderr or b"unreachable" in completed.stderr.lower()


def test_home_is_workdir_and_real_home_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    secret = fake_home / ".netrc"
    secret.write_text("machine example password hunter2")
    monkeypatch.setenv("HOME", str(fake_home))
    code = _program(
        f"""
        import os
        home = os.path.expanduser("~")
        print("HOME", home)
        print("LISTING", os.listdir(home))
        try:
            print("SECRET", open({str(secret)!r}).read())
        except OSError as error:
            print("BLOCKED", type(error).__name__)
        """
    )
    result = run_python(code)
    assert result.passed, result.stderr_tail
    lines = dict(line.split(" ", 1) for line in result.stdout_tail.splitlines())
    assert lines["HOME"] != str(fake_home)
    assert "harness-sandbox-" in lines["HOME"]
    assert ".netrc" not in lines["LISTING"]
    assert "SECRET" not in lines
    assert lines["BLOCKED"] == "PermissionError"
    assert "hunter2" not in result.stdout_tail


def test_real_home_folder_unreadable() -> None:
    real_home = os.path.expanduser("~")
    result = run_python(f"import os\nprint(os.listdir({real_home!r}))\n")
    assert not result.passed
    assert "PermissionError" in result.stderr_tail


def test_api_key_env_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-sandbox-leak-check")
    code = "import os\nprint(sorted(os.environ))\nprint(os.environ.get('OPENAI_API_KEY'))\n"
    result = run_python(code)
    assert result.passed, result.stderr_tail
    assert "sk-test-sandbox-leak-check" not in result.stdout_tail
    assert "OPENAI_API_KEY" not in result.stdout_tail


def test_fork_rejected_by_default() -> None:
    result = run_python("import os\nos.fork()\nprint('forked')\n")
    assert not result.passed
    assert "forked" not in result.stdout_tail
    assert "PermissionError" in result.stderr_tail


def test_subprocess_rejected_by_default() -> None:
    result = run_python("import subprocess\nsubprocess.run(['true'])\n")
    assert not result.passed
    assert "PermissionError" in result.stderr_tail


def test_fork_bomb_bounded_by_kernel_limits() -> None:
    isolation = sandbox_isolation()
    if os.geteuid() == 0 and not isolation.drops_to_unprivileged_uid:
        pytest.skip("runs as root without a user id switch, so RLIMIT_NPROC does not apply")
    code = _program(
        """
        import os
        children = 0
        failures = 0
        while True:
            try:
                if os.fork() == 0:
                    children = 0
                else:
                    children += 1
            except OSError:
                failures += 1
                if failures > 200:
                    print("limit reached", flush=True)
                    break
        """
    )
    result = run_python(code, timeout_s=4, max_processes=20, allow_subprocess=True)
    assert "limit reached" in result.stdout_tail, result.reason
    assert result.duration_s < 30
    if isolation.pid_namespace:
        # Every process of the run lived in its PID namespace and died with it.
        leftovers = subprocess.run(["pgrep", "-f", "harness-sandbox-"], capture_output=True, text=True, check=False)
        assert leftovers.stdout.strip() == ""


def test_ctypes_rejected() -> None:
    result = run_python("import ctypes\nctypes.CDLL(None).system(b'true')\n")
    assert not result.passed
    assert "PermissionError" in result.stderr_tail


def test_invalid_limit_rejected() -> None:
    with pytest.raises(HarnessError, match="timeout_s=0"):
        run_python("print(1)", timeout_s=0)


def test_huge_output_truncated() -> None:
    result = run_python("print('x' * 100000)\n")
    assert result.passed, result.reason
    assert len(result.stdout_tail) <= 4000


def test_audit_hook_alone_blocks_writes_and_sockets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.sandbox as sandbox

    # The fallback setup for machines without unshare: no namespaces, no user id switch.
    plain = sandbox.SandboxIsolation(sandbox_isolation().interpreter, False, False, False, False)
    monkeypatch.setattr(sandbox, "sandbox_isolation", lambda: plain)
    target = tmp_path / "escaped.txt"
    write = run_python(f"open({str(target)!r}, 'w').write('x')\n")
    assert not write.passed
    assert "PermissionError" in write.stderr_tail
    assert not target.exists()
    connect = run_python("import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)\n")
    assert not connect.passed
    assert "network access" in connect.stderr_tail
    passing = run_python("import json\nprint(json.dumps([1, 2]))\n")
    assert passing.passed, passing.reason
    assert passing.stdout_tail == "[1, 2]\n"
