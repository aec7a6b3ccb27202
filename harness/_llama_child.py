"""Run ``llama_cpp.server`` as a child that exits when the harness process that started it dies.

A harness run killed with SIGKILL cannot stop its server, which would then
keep the port and the CPU. This wrapper polls its parent id and exits once
the parent is gone; it takes the same arguments as ``python -m llama_cpp.server``.
"""

import os
import runpy
import sys
import threading
import time


def _exit_when_orphaned(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        time.sleep(1.0)


if __name__ == "__main__":
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
