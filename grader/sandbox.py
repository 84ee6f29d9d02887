"""How a worker is isolated: kernel namespaces, resource limits, an unprivileged user.

On Linux every worker is forked from a warm server (``grader.forkserver``)
and then, before any student code runs, enters its own sandbox:

* its own **user, mount, PID, network, IPC and UTS namespaces**
  (``unshare(2)``; no privilege needed where unprivileged user namespaces are
  enabled): the whole file system is read-only (``mount_setattr(2)``,
  recursive) except the worker's own scratch directory, the grader's own
  files (and whatever else the grader asks: the checkout's solutions, a
  batch's class folder) are hidden under an empty tmpfs, but for the
  worker's own submission, which stays where it is, there is no network, and the worker
  is PID 1 of a namespace of its own, so nothing it starts outlives it and it
  can see or signal no other process;
* its own **session and process group**, a scratch working directory and
  ``TMPDIR``, and a clean environment;
* **limits**: address space (``--memory-mb`` above what the warm server had
  already mapped), CPU time, file size, no core dumps, and, for a user of its
  own (its user namespace, or the uid below), a number of processes and
  threads (a fork bomb stops there); a wall-clock timeout is enforced by the
  grader;
* when the grader runs as root (the Gradescope bundle), an **unprivileged
  identity**: a uid of its own per worker, in the group of
  ``GRADER_WORKER_USER``, so that no worker can signal or write to another
  worker, the grader, its results or its files.

Where namespaces are unavailable (or ``GRADER_SANDBOX=off``), workers keep
the limits, their session, the unprivileged user if configured, and a
subreaper that kills whatever they left running; the report says so once.
macOS and Windows start each worker as a fresh interpreter with the limits
the system offers and the wall-clock timeout.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from dataclasses import dataclass

try:  # here rather than in set_limits: a server has it loaded before it lists its modules,
    import resource  # so that a worker's guard need not list them again (grader.worker)
except ImportError:  # Windows: the grader's wall-clock timeout still applies
    resource = None

__all__ = ["Limits", "Isolation", "requested_mode", "enter_namespaces", "inside_namespace",
           "drop_privileges", "worker_identity", "WORKER_UIDS", "set_limits", "die_with_parent",
           "become_subreaper", "kill_children", "worker_env", "CAN_FORK", "task_limit"]

#: warm, forked workers (Linux only: fork-safety elsewhere is not ours to promise)
CAN_FORK = sys.platform.startswith("linux")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker (0 means no limit)."""

    call_timeout_s: float = 20.0
    start_timeout_s: float = 10.0
    memory_mb: int = 3072
    cpu_s: int = 600
    file_mb: int = 16


@dataclass(frozen=True)
class Isolation:
    name: str  # "namespaces" or "process"
    note: str = ""


def requested_mode() -> str:
    """``GRADER_SANDBOX``: ``off`` turns the namespaces off; anything else asks for them."""
    mode = os.environ.get("GRADER_SANDBOX", "auto").strip().lower()
    return "off" if mode in ("off", "none", "0", "no", "false") else "auto"


# -- Linux system calls through ctypes --------------------------------------------------
_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_MS_MOVE, _MS_BIND, _MS_REC, _MS_PRIVATE = 8192, 4096, 16384, 1 << 18
_AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = -100, 0x8000, 1
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (a syscall after 424)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 1, 4, 36


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount_setattr(libc, path: str, flags: int, set_: int = 0, clr: int = 0) -> None:
    attr = _MountAttr(set_, clr, 0, 0)
    _check(libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, path.encode(), flags,
                        ctypes.byref(attr), ctypes.sizeof(attr)), f"mount_setattr {path}")


def _hide(libc, path: str) -> None:
    """An empty tmpfs over ``path``."""
    _check(libc.mount(b"tmpfs", path.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV,
                      b"size=16k,mode=755"), f"hide {path}")


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def enter_namespaces(scratch: str, hide: tuple[str, ...] = (),
                     keep: tuple[str, ...] = ()) -> None:
    """Make the calling (single-threaded, freshly forked) process a sandbox's parent.

    After this call its children are born in a new PID namespace, and it and
    they see a read-only file system in which only ``scratch`` is writable and
    every folder of ``hide`` is empty, but for the folders of ``keep`` inside
    it (the submission being graded, inside a hidden class folder), which stay
    where they were, read-only. Raises OSError when the kernel refuses (the
    caller then reports the sandbox unavailable).
    """
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET
                        | _CLONE_NEWIPC | _CLONE_NEWUTS), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    _check(libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")
    _check(libc.mount(scratch.encode(), scratch.encode(), None, _MS_BIND | _MS_REC, None),
           f"bind {scratch}")
    hidden = [os.path.realpath(p) for p in hide if os.path.isdir(p)]
    # what is to stay visible inside a hidden folder: bound under the scratch folder first,
    # then moved back to its own place in the empty folder that hides the rest
    kept = []
    for i, path in enumerate(dict.fromkeys(os.path.realpath(p) for p in keep)):
        if os.path.isdir(path) and any(_under(path, h) for h in hidden):
            held = os.path.join(scratch, f".kept{i}")
            os.mkdir(held)
            _check(libc.mount(path.encode(), held.encode(), None, _MS_BIND | _MS_REC, None),
                   f"bind {path}")
            kept.append((held, path))
    for path in hidden:  # a folder inside another hidden one is gone with it
        if not any(path != other and _under(path, other) for other in hidden):
            _hide(libc, path)
    for held, path in kept:
        os.makedirs(path, exist_ok=True)
        _check(libc.mount(held.encode(), path.encode(), None, _MS_MOVE, None), f"keep {path}")
        os.rmdir(held)
    for path in hidden:  # what a kept folder holds that is hidden: hidden again
        if any(_under(path, k) and path != k for _, k in kept):
            _hide(libc, path)
    _mount_setattr(libc, "/", _AT_RECURSIVE, set_=_MOUNT_ATTR_RDONLY)
    _mount_setattr(libc, scratch, 0, clr=_MOUNT_ATTR_RDONLY)


def inside_namespace() -> None:
    """In the sandbox's first process (PID 1): a /proc of its own namespace."""
    libc = _libc()
    # best effort: where the kernel refuses, the old /proc only shows numbers it cannot use
    libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None)


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process, which can then kill them."""
    if sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _children() -> list[int]:
    """This process's children: from ``/proc/self/task/*/children`` where the kernel
    lists them (a few small files), else by reading the parent of every process."""
    me = os.getpid()
    if os.path.exists(f"/proc/self/task/{me}/children"):
        pids = []
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/children", "rb") as fh:
                    pids += [int(p) for p in fh.read().split()]
            except OSError:  # a thread that has just ended
                continue
        return pids
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            pids.append(int(pid))
    return pids


def kill_children(keep: frozenset[int] = frozenset()) -> int:
    """SIGKILL every child of this process but ``keep`` (Linux); return how many."""
    if not os.path.isdir("/proc"):
        return 0
    killed = 0
    for pid in _children():
        if pid in keep:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    return killed


#: the unprivileged uids workers of a root grader run as, one each (no account needed)
WORKER_UIDS = range(60000, 65000)


def worker_identity(user: str, n: int) -> tuple[int, int]:
    """(uid, gid) of the ``n``-th worker: a uid of its own, in ``user``'s group.

    A uid of its own means a worker can signal, and write to, no other worker,
    even where no namespace separates them; the group is the named user's.
    """
    import pwd

    entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    return WORKER_UIDS[n % len(WORKER_UIDS)], entry.pw_gid


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid`` in group ``gid``, without supplementary groups.

    The change of user clears what the kernel ties to the old one: the signal
    on the parent's death (set it again after this call), and the right to
    write this process's own ``/proc/self`` files, which entering a user
    namespace needs (given back here: no other process runs as ``uid``, and
    no core is dumped).
    """
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def set_limits(memory_mb: int, cpu_s: int, file_mb: int, tasks: int = 0) -> None:
    """Address space ``memory_mb`` above what is mapped now; CPU, file size, no cores;
    with ``tasks``, at most that many processes and threads of this user at once
    (``RLIMIT_NPROC``: a fork or a thread beyond fails with ``BlockingIOError``), for a
    user that is the worker's own alone (its user namespace, or a uid of its own): the
    limit counts every task of the user, and the kernel lets root pass it.

    Each is a hard limit too, which no code of this process or its children can
    raise again (an unprivileged process cannot; a soft limit alone it could lift
    with ``resource.setrlimit``); the CPU's hard limit is a second later, so that
    SIGXCPU comes before SIGKILL.
    """
    if resource is None:
        return

    def setlimit(which, value, grace=0):
        try:
            _, hard = resource.getrlimit(which)
            top = value + grace
            if hard != resource.RLIM_INFINITY:
                value, top = min(value, hard), min(top, hard)
            resource.setrlimit(which, (value, top))
        except (ValueError, OSError):
            pass
    if memory_mb > 0 and hasattr(resource, "RLIMIT_AS"):
        setlimit(resource.RLIMIT_AS, _mapped_bytes() + memory_mb * 1024 * 1024)
    if cpu_s > 0:
        setlimit(resource.RLIMIT_CPU, cpu_s, grace=1)
    setlimit(resource.RLIMIT_FSIZE, file_mb * 1024 * 1024)
    setlimit(resource.RLIMIT_CORE, 0)
    if tasks > 0 and hasattr(resource, "RLIMIT_NPROC"):
        setlimit(resource.RLIMIT_NPROC, tasks)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def task_limit() -> int:
    """How many processes and threads a worker may have at once, itself included: room for
    the thread pools TensorFlow and torch size by the cores, and a fork bomb's end."""
    return 256 + 4 * (os.cpu_count() or 1)


def worker_env(scratch: str) -> dict[str, str]:
    """The environment student code sees: a few plain variables, and the scratch as TMPDIR."""
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TF_CPP_MIN_LOG_LEVEL")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"HOME": scratch, "TMPDIR": scratch, "TEMP": scratch, "TMP": scratch,
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
                "KERAS_BACKEND": "tensorflow", "KERAS_HOME": os.path.join(scratch, ".keras"),
                "MPLCONFIGDIR": scratch, "CUDA_VISIBLE_DEVICES": ""})
    return env
