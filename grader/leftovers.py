"""The grader's folders in the temporary folder, and what a killed grading leaves there.

Each folder the grader makes there (a worker's scratch folder, a batch's
folder of unpacked zips and notebooks) is named ``grader-<kind>-<pid>-…``
after the process that made it, which removes it when done. A process killed
outright (SIGKILL, a batch's grader stopped past ``--student-timeout``, the
kernel's out-of-memory killer) cannot: :func:`sweep` removes such folders
later, those whose process is gone. By default only those older than an
hour: a process of another PID namespace that shares the temporary folder
(another container) looks gone from here, and its folders are young while it
works. Folders named otherwise, of another user, or links are never touched; on
Windows, where no process can be asked whether it runs without ending it, only the
folders of the processes named (``pids``).
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time

__all__ = ["folder", "sweep"]

_NAME = re.compile(r"grader-(?:worker|batch|probe)-(\d+)-")


def folder(kind: str, parent: str | None = None) -> str:
    """A new private folder ``grader-<kind>-<this pid>-…`` in ``parent`` (default: the
    temporary folder)."""
    return tempfile.mkdtemp(prefix=f"grader-{kind}-{os.getpid()}-", dir=parent)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    if os.path.isdir("/proc/self"):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                return fh.read().rpartition(")")[2].split()[:1] not in (["Z"], ["X"])
        except FileNotFoundError:
            return False
        except OSError:
            return True
    if os.name != "posix":  # Windows: os.kill would end the process; count it as alive
        return True
    try:  # no /proc here (macOS): ask the kernel
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, say: it exists
        return True
    return True


def sweep(parent: str | None = None, *, pids: tuple[int, ...] | None = None,
          min_age_s: float = 3600.0) -> int:
    """Remove the grader's folders in ``parent`` whose process is gone (or, with ``pids``,
    those of these processes, alive or not), last changed at least ``min_age_s`` ago;
    how many were removed."""
    parent = parent or tempfile.gettempdir()
    uid = os.getuid() if hasattr(os, "getuid") else None  # None: Windows, one user's folder
    now, removed = time.time(), 0
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return 0
    for entry in entries:
        match = _NAME.match(entry.name)
        if not match:
            continue
        pid = int(match.group(1))
        if (pid not in pids) if pids is not None else (pid == os.getpid() or _alive(pid)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or (uid not in (0, None) and info.st_uid != uid) \
                or now - info.st_mtime < min_age_s:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += not os.path.lexists(entry.path)
    return removed
