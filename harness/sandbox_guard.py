"""Guard that the sandbox child runs before the untrusted program.

``harness.sandbox`` passes this file's source to ``python -I -S -B -c`` together
with one JSON argument (see ``harness.sandbox._guard_config``). The guard lowers
the resource limits, installs an audit hook, clears ``__main__`` and executes the
program file in it.

The audit hook is a best-effort layer, not a security boundary: CPython audit
hooks see only the operations that raise audit events, and code that reaches C
functions directly can skip them. The hook rejects ``ctypes`` loading and the
``gc`` object walkers to make that harder, but the limits that hold are the
kernel ones set up by ``harness.sandbox`` (resource limits, namespaces and an
unprivileged user id where available).

This module is executed as a script inside the child and imports only the
standard library. Importing it does nothing.
"""

import json
import os
import resource
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

# Audit events whose listed argument positions are paths that the event
# creates, changes or removes. Every such path must lie inside the work folder.
_WRITE_PATH_ARGS = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (1,),
    "os.chmod": (0,),
    "os.lchmod": (0,),
    "os.chown": (0,),
    "os.lchown": (0,),
    "os.chflags": (0,),
    "os.lchflags": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.copytree": (1,),
    "shutil.move": (0, 1),
}

# Audit events whose first argument is a path that the event reads or lists.
_READ_PATH_EVENTS = frozenset({"os.listdir", "os.scandir", "os.chdir", "glob.glob", "os.getxattr", "os.listxattr"})

_PROCESS_EVENTS = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.startfile",
        "os.kill",
        "os.killpg",
        "subprocess.Popen",
        "pty.spawn",
    }
)

_NETWORK_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
    }
)

# ctypes can call libc directly and the gc walkers can reach the hook's own
# state, so both would let the program switch the hook off.
_ALWAYS_BLOCKED_EVENTS = frozenset(
    {
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.cdata",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sys.setprofile",
        "sys.settrace",
    }
)


def _make_hook(workdir: str, read_roots: "tuple[str, ...]", allow_subprocess: bool):
    # The hook keeps everything it needs in its closure because the guard
    # clears the ``__main__`` globals before the program runs.
    realpath = os.path.realpath
    sep = os.sep
    fsdecode = os.fsdecode
    fspath = os.fspath
    write_flags = _WRITE_FLAGS
    write_path_args = _WRITE_PATH_ARGS
    read_path_events = _READ_PATH_EVENTS
    network_events = _NETWORK_EVENTS
    process_events = _PROCESS_EVENTS
    always_blocked_events = _ALWAYS_BLOCKED_EVENTS

    def as_text_path(path: object) -> "str | None":
        """Convert an audited path argument to ``str``, or None for a file descriptor."""
        if isinstance(path, int):
            return None
        if type(path) is bytes:
            return fsdecode(path)
        if type(path) is str:
            return path
        converted = fspath(path)
        if isinstance(converted, bytes):
            return fsdecode(bytes(converted))
        # str.__add__ copies a str subclass into a plain str without calling its methods.
        return str.__add__("", converted)

    def is_inside(path: object, roots: "tuple[str, ...]") -> bool:
        text = as_text_path(path)
        if text is None:
            return True
        resolved = realpath(text)
        for root in roots:
            if resolved == root or resolved.startswith(root + sep):
                return True
        return False

    write_roots = (workdir,)

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, _mode, flags = args
            writing = bool(flags & write_flags) if isinstance(flags, int) else True
            if writing and not is_inside(path, write_roots):
                raise PermissionError(f"sandbox: writing {path!r} is not allowed outside the work folder")
            if not writing and not is_inside(path, read_roots):
                raise PermissionError(f"sandbox: reading {path!r} is not allowed")
        elif event in write_path_args:
            for position in write_path_args[event]:
                if position < len(args) and not is_inside(args[position], write_roots):
                    raise PermissionError(f"sandbox: {event} on {args[position]!r} is not allowed outside the work folder")
        elif event in read_path_events:
            if args and not is_inside(args[0], read_roots):
                raise PermissionError(f"sandbox: {event} on {args[0]!r} is not allowed")
        elif event in network_events:
            raise PermissionError(f"sandbox: network access ({event}) is not allowed")
        elif event in process_events and not allow_subprocess:
            raise PermissionError(f"sandbox: starting or signalling processes ({event}) is not allowed")
        elif event in always_blocked_events:
            raise PermissionError(f"sandbox: {event} is not allowed")

    return hook


def _set_limits(limits: dict) -> None:
    for name, value in limits.items():
        if value is None:
            continue
        limit = getattr(resource, name)
        soft, hard = resource.getrlimit(limit)
        # A limit can only be lowered without privileges, so keep the lower one.
        new = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (new, new))


def _run() -> None:
    config = json.loads(sys.argv[1])
    workdir = os.path.realpath(config["workdir"])
    program_path = os.path.join(workdir, config["program"])
    stdlib = os.path.dirname(os.path.realpath(os.__file__))
    roots = [workdir, stdlib, sys.prefix, sys.base_prefix, sys.exec_prefix]
    roots += config["extra_read_roots"]
    read_roots = tuple(sorted({os.path.realpath(root) for root in roots}))

    with open(program_path, encoding="utf-8") as handle:
        source = handle.read()
    code = compile(source, program_path, "exec")

    _set_limits(config["limits"])
    sys.addaudithook(_make_hook(workdir, read_roots, bool(config["allow_subprocess"])))

    sys.argv = [program_path]
    namespace = sys.modules["__main__"].__dict__
    builtins_module = namespace["__builtins__"]
    namespace.clear()
    namespace.update({"__name__": "__main__", "__file__": program_path, "__builtins__": builtins_module})
    exec(code, namespace)


if __name__ == "__main__":
    _run()
