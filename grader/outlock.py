"""One batch at a time in an output folder.

Two batches writing one output folder would both grade every student (the second
sees no grade yet) and take turns rewriting the gradebook. ``grader batch`` takes
:func:`hold` on its output folder first; a second one is told who holds it.

The lock is an advisory ``flock`` on ``OUT/.batch.lock``: the kernel drops it when
the holder's process ends, however it ends, so no stale lock survives a crash or a
``kill -9``. A child the holder forks (a server, a grader) closes its copy of the
descriptor at once, so a child that outlives a killed batch does not keep the lock.
Where ``flock`` does not exist (Windows) or the file system refuses it, there is
no lock.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["Busy", "hold", "LOCK_NAME"]

LOCK_NAME = ".batch.lock"


class Busy(Exception):
    """Another process holds the folder; ``holder`` is its process id as it wrote it."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def hold(folder: Path) -> int | None:
    """Lock ``folder`` for this process (until it ends) and return the lock's descriptor;
    None where there is no ``flock``. Raises Busy when another process holds it, and
    OSError when the lock file cannot be made."""
    try:
        import fcntl
    except ImportError:
        return None
    path = Path(folder) / LOCK_NAME
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = path.read_text(encoding="utf-8").strip()
        except OSError:
            holder = ""
        os.close(fd)
        raise Busy(holder) from None
    except OSError:  # a file system without locks (some network mounts): no lock, as on Windows
        os.close(fd)
        return None
    with open(path, "w", encoding="utf-8") as fh:  # a second descriptor: ours stays read-only
        fh.write(f"{os.getpid()}\n")
    owner = os.getpid()

    def forked() -> None:  # in a child of the holder only: a grandchild's fd is another file
        if os.getppid() == owner:
            try:
                os.close(fd)
            except OSError:
                pass

    os.register_at_fork(after_in_child=forked)
    return fd
