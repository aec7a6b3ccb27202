"""Run untrusted Python (model output plus benchmark tests) in a separate process.

What the sandbox does, layer by layer (``sandbox_isolation()`` reports which
layers are active on the current machine):

* Process: a fresh ``python -I -S -B`` (isolated mode, no ``site``, so only the
  standard library is importable) in its own session, killed as a whole group
  when the wall-time limit passes.
* Environment: an explicit minimal environment. ``HOME`` and ``TMPDIR`` point
  at a fresh temporary work folder that is deleted afterwards, and no variable
  of the parent (API keys included) is passed on.
* Resource limits (``setrlimit`` in the child): address space (``RLIMIT_AS``),
  CPU time, file size, open files, core dumps and, where the kernel enforces it
  for the child's user id, the number of processes (``RLIMIT_NPROC``).
* Namespaces, when ``unshare`` (util-linux) can create them: a new network
  namespace with only a loopback device that is down, so no connection leaves
  the child, and a new PID namespace, so every process that the program starts
  dies with it.
* User id: when the parent runs as root, the child runs under a random
  unprivileged user and group id. The kernel then rejects writes to files the
  program does not own and reads of private folders such as ``/root``. It also
  applies ``RLIMIT_NPROC``, from which it exempts root.
* Audit hook (always, see ``harness.sandbox_guard``): rejects writing, removing
  or renaming files outside the work folder, reading files outside the work
  folder and the interpreter's standard library, sockets, starting processes
  and ``ctypes``.

NOTE: on the development machines (Debian 12, root, util-linux 2.38 ``unshare``)
every layer is active: network and PID namespaces, a random unprivileged user
id and ``/usr/bin/python3`` as the interpreter (the virtual environment's
Python lives under ``/root``, which that user cannot read). Without a working
``unshare`` only the audit hook blocks sockets, and ``sandbox_isolation()``
logs a warning saying so.

What it does not guarantee:

* The audit hook is no security boundary: C code can skip audit events. Without
  the user id switch (parent not root) only the audit hook keeps the program
  from writing into files that the parent user can write.
* Even under the unprivileged user id, world-writable folders such as ``/tmp``
  and ``/dev/shm`` stay writable at the kernel level. Only the audit hook
  rejects writes there.
* There is no seccomp filter, no mount namespace and no container image, so
  kernel attack surface is that of an ordinary process. Run code that may be
  actively hostile in a VM or container as well.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

logger = logging.getLogger(__name__)

_GUARD_SOURCE = (Path(__file__).with_name("sandbox_guard.py")).read_text(encoding="utf-8")
_PROGRAM_NAME = "main.py"
_TAIL_CHARS = 4000
# Random user and group ids come from this range, far above the ids that
# distributions hand out to real accounts, so the process count of a run's id
# includes no unrelated process. Two concurrent runs may draw the same id.
_UID_RANGE = (2_000_000, 3_000_000)
# Files outside the standard library that the program may read.
_EXTRA_READ_ROOTS = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/usr/share/zoneinfo")
_SYSTEM_PYTHON = "/usr/bin/python3"
_PROBE_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one sandboxed run.

    Attributes
    ----------
    passed : bool
        True when the program exited with code 0 before the time limit.
    exit_code : int or None
        Exit code of the child, negative for a signal (as in ``subprocess``),
        None if it was killed for the wall-time limit.
    timed_out : bool
        True when the wall-time limit killed the child.
    stdout_tail, stderr_tail : str
        Last characters (at most 4,000) of the child's output streams.
    reason : str
        One line on why the run passed or failed.
    duration_s : float
        Wall time of the run in seconds.
    """

    passed: bool
    exit_code: int | None
    timed_out: bool
    stdout_tail: str
    stderr_tail: str
    reason: str
    duration_s: float


@dataclass(frozen=True)
class SandboxIsolation:
    """Isolation layers that the sandbox uses on this machine.

    Attributes
    ----------
    interpreter : str
        Python executable started for each run.
    network_namespace : bool
        True when each run gets a new network namespace (no network at all).
        False means only the audit hook blocks sockets.
    pid_namespace : bool
        True when each run gets a new PID namespace.
    user_namespace : bool
        True when the namespaces come from an unprivileged user namespace.
    drops_to_unprivileged_uid : bool
        True when the child runs under a random unprivileged user id.
    """

    interpreter: str
    network_namespace: bool
    pid_namespace: bool
    user_namespace: bool
    drops_to_unprivileged_uid: bool


class SandboxError(HarnessError):
    """The sandbox could not start a child process at all."""


def _namespace_prefix(isolation: SandboxIsolation, uid: int | None) -> list[str]:
    """Return the ``unshare`` command prefix for one run, empty without namespaces."""
    if not isolation.network_namespace:
        return []
    prefix = ["unshare", "--net", "--pid", "--fork", "--kill-child"]
    if isolation.user_namespace:
        prefix.insert(1, "--map-root-user")
    if uid is not None:
        prefix += ["--setuid", str(uid), "--setgid", str(uid)]
    return [*prefix, "--"]


def _probe(command: list[str]) -> bool:
    try:
        completed = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_PROBE_TIMEOUT_S,
            cwd="/",
            env=_minimal_env(tempfile.gettempdir()),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.debug("sandbox probe %s failed: %s", command[:3], error)
        return False
    if completed.returncode != 0:
        logger.debug("sandbox probe %s exited %s: %s", command[:3], completed.returncode, completed.stderr[-300:])
    return completed.returncode == 0


def _interpreter_candidates() -> list[str]:
    configured = os.environ.get("HARNESS_SANDBOX_PYTHON")
    if configured:
        return [configured]
    candidates = [os.path.realpath(sys.executable)]
    if os.path.exists(_SYSTEM_PYTHON) and os.path.realpath(_SYSTEM_PYTHON) not in candidates:
        candidates.append(_SYSTEM_PYTHON)
    return candidates


@functools.lru_cache(maxsize=1)
def sandbox_isolation() -> SandboxIsolation:
    """Detect, once per process, which isolation layers work on this machine.

    Each candidate setup is tried with a short probe run that imports a few
    standard library modules. ``HARNESS_SANDBOX_PYTHON`` sets the interpreter.

    Returns
    -------
    SandboxIsolation
        The strongest setup whose probe succeeded.

    Raises
    ------
    SandboxError
        If not even a plain child process of the interpreter starts.
    """
    probe_code = ["-I", "-S", "-B", "-c", "import json, re, math, collections, resource"]
    is_root = os.geteuid() == 0
    have_unshare = shutil.which("unshare") is not None
    setups: list[SandboxIsolation] = []
    for interpreter in _interpreter_candidates():
        if have_unshare and is_root:
            setups.append(SandboxIsolation(interpreter, True, True, False, True))
        elif have_unshare:
            setups.append(SandboxIsolation(interpreter, True, True, True, False))
    for interpreter in _interpreter_candidates():
        if have_unshare and is_root:
            setups.append(SandboxIsolation(interpreter, True, True, False, False))
        setups.append(SandboxIsolation(interpreter, False, False, False, False))
    for setup in setups:
        uid = _UID_RANGE[0] if setup.drops_to_unprivileged_uid else None
        if _probe([*_namespace_prefix(setup, uid), setup.interpreter, *probe_code]):
            if not setup.network_namespace:
                logger.warning("sandbox: no network namespace available, only the audit hook blocks sockets")
            if is_root and not setup.drops_to_unprivileged_uid:
                logger.warning("sandbox: runs as root, so the process count limit does not apply")
            logger.info("sandbox isolation: %s", setup)
            return setup
    raise SandboxError(
        f"no Python interpreter could be started for the code sandbox (tried {_interpreter_candidates()}); "
        "set HARNESS_SANDBOX_PYTHON to a working python3 executable"
    )


def _minimal_env(workdir: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def _count_user_processes(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _process_limit(isolation: SandboxIsolation, max_processes: int) -> int | None:
    """Return the ``RLIMIT_NPROC`` value for the child, or None where it would not apply."""
    if isolation.drops_to_unprivileged_uid:
        return max_processes
    if os.geteuid() == 0:
        return None
    # The kernel counts every process of the real user id, not only the child's.
    return _count_user_processes(os.getuid()) + max_processes


def _guard_config(workdir: str, limits: dict[str, int | None], allow_subprocess: bool) -> str:
    return json.dumps(
        {
            "workdir": workdir,
            "program": _PROGRAM_NAME,
            "limits": limits,
            "allow_subprocess": allow_subprocess,
            "extra_read_roots": list(_EXTRA_READ_ROOTS),
        }
    )


def _read_tail(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 4 * _TAIL_CHARS))
        data = handle.read()
    return data.decode("utf-8", errors="replace")[-_TAIL_CHARS:]


def _describe_exit(exit_code: int | None, timed_out: bool, stderr_tail: str, timeout_s: float) -> str:
    if timed_out:
        return f"timed out after {timeout_s:g} s"
    if exit_code == 0:
        return "passed"
    if exit_code is not None and exit_code < 0:
        name = signal.Signals(-exit_code).name if -exit_code in signal.valid_signals() else str(-exit_code)
        hints = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)", "SIGKILL": " (killed, e.g. CPU time limit)"}
        return f"killed by {name}{hints.get(name, '')}"
    last_line = next((line for line in reversed(stderr_tail.strip().splitlines()) if line.strip()), "")
    if last_line.startswith("MemoryError"):
        return "MemoryError (memory limit)"
    return f"exit code {exit_code}: {last_line[:300]}" if last_line else f"exit code {exit_code}"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError as error:
        logger.warning("sandbox: could not kill process group %s: %s", process.pid, error)


def run_python(
    code: str,
    timeout_s: float = 10.0,
    memory_mb: int = 512,
    *,
    max_processes: int = 16,
    max_file_mb: int = 16,
    max_open_files: int = 64,
    allow_subprocess: bool = False,
) -> SandboxResult:
    """Run one Python program in the sandbox and report whether it exited cleanly.

    Parameters
    ----------
    code : str
        Complete program source, run as ``__main__`` from ``main.py`` in the
        work folder (which is also the current directory).
    timeout_s : float
        Wall-time limit in seconds. The CPU time limit is this value rounded
        up plus one second.
    memory_mb : int
        Address space limit (``RLIMIT_AS``) in MiB for each process.
    max_processes : int
        Process limit for the child's user id (``RLIMIT_NPROC``). It applies
        only where ``sandbox_isolation()`` reports an unprivileged user id or the
        parent is not root.
    max_file_mb : int
        Largest file, stdout and stderr included, that the child may write, in MiB.
    max_open_files : int
        Limit on open file descriptors.
    allow_subprocess : bool
        If True, the audit hook lets the program fork and start processes, so
        only the kernel limits bound them. Meant for tests of those limits.

    Returns
    -------
    SandboxResult
        ``passed`` is True when the exit code is 0 within the time limit.

    Raises
    ------
    HarnessError
        If a limit is not positive.
    SandboxError
        If the child process cannot be started.
    """
    if timeout_s <= 0 or memory_mb <= 0 or max_processes <= 0 or max_file_mb <= 0 or max_open_files <= 0:
        raise HarnessError(
            f"sandbox limits must be positive, got timeout_s={timeout_s}, memory_mb={memory_mb}, "
            f"max_processes={max_processes}, max_file_mb={max_file_mb}, max_open_files={max_open_files}"
        )
    isolation = sandbox_isolation()
    uid = secrets.randbelow(_UID_RANGE[1] - _UID_RANGE[0]) + _UID_RANGE[0] if isolation.drops_to_unprivileged_uid else None
    limits: dict[str, int | None] = {
        "RLIMIT_AS": memory_mb * 1024 * 1024,
        "RLIMIT_CPU": math.ceil(timeout_s) + 1,
        "RLIMIT_FSIZE": max_file_mb * 1024 * 1024,
        "RLIMIT_NOFILE": max_open_files,
        "RLIMIT_CORE": 0,
        "RLIMIT_NPROC": _process_limit(isolation, max_processes),
    }
    workdir = tempfile.mkdtemp(prefix="harness-sandbox-")
    output_dir = Path(tempfile.mkdtemp(prefix="harness-sandbox-output-"))
    try:
        Path(workdir, _PROGRAM_NAME).write_text(code, encoding="utf-8")
        if uid is not None:
            os.chown(workdir, uid, uid)
            os.chown(Path(workdir, _PROGRAM_NAME), uid, uid)
        command = [
            *_namespace_prefix(isolation, uid),
            isolation.interpreter,
            "-I",
            "-S",
            "-B",
            "-c",
            _GUARD_SOURCE,
            _guard_config(workdir, limits, allow_subprocess),
        ]
        stdout_path = output_dir / "stdout"
        stderr_path = output_dir / "stderr"
        started = time.monotonic()
        timed_out = False
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    cwd=workdir,
                    env=_minimal_env(workdir),
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as error:
                raise SandboxError(f"could not start the sandbox child {command[0]!r}: {error}") from error
            try:
                exit_code: int | None = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                exit_code = None
                _kill_group(process)
                process.wait()
            else:
                # Children that the program left behind share its process group.
                _kill_group(process)
        duration_s = time.monotonic() - started
        stdout_tail = _read_tail(stdout_path)
        stderr_tail = _read_tail(stderr_path)
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)
        _remove_workdir(workdir)
    passed = exit_code == 0 and not timed_out
    return SandboxResult(
        passed=passed,
        exit_code=exit_code,
        timed_out=timed_out,
        stdout_tail=stdout_tail,
        stderr_tail=stderr_tail,
        reason=_describe_exit(exit_code, timed_out, stderr_tail, timeout_s),
        duration_s=duration_s,
    )


def _remove_workdir(workdir: str) -> None:
    def make_writable_and_retry(function, path, _exc_info) -> None:  # type: ignore[no-untyped-def]
        # The program may have removed write permission from its own folders.
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            function(path)
        except OSError as error:
            if error.errno != errno.ENOENT:
                logger.warning("sandbox: could not remove %s: %s", path, error)

    shutil.rmtree(workdir, onerror=make_writable_and_retry)
