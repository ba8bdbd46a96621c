"""Child processes that end when the process that started them ends.

A stack or worker killed outright (SIGKILL, the kernel's out-of-memory killer) runs none of its
own clean-up, and its children would live on: a Temporal dev server holding its port and its
database, planning processes holding their memory, and a restart failing on "port in use".
On Linux a child can ask the kernel to send it SIGTERM when its parent dies, which each child
of playparse does; elsewhere these are no-ops.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask for SIGTERM when the parent process dies (call it in the child)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        # The parent died before the request was in place: nothing would send the signal.
        os.kill(os.getpid(), signal.SIGTERM)


def tied_to_parent(command: list[str]) -> list[str]:
    """`command` started through util-linux's setpriv, which makes the same request before it
    executes the command (for programs that are not Python, such as the Temporal CLI)."""
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    if setpriv is None:
        return command
    return [setpriv, "--pdeathsig", "TERM", "--", *command]
