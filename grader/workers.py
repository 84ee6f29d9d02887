"""Where workers come from: a warm fork server (Linux) or fresh interpreters.

A pool makes one :class:`~grader.student.WorkerProcess` per student function.
:class:`WarmPool` imports what the workers will need in this process, forks
``grader.forkserver`` before anything is computed, and forks every worker
from it (a few milliseconds instead of seconds of imports); the sandbox is
entered by each worker (``grader.sandbox``). :class:`ColdPool` starts each
worker as a fresh interpreter that imports for itself (macOS, Windows).
:func:`open_pool` picks one.
"""
from __future__ import annotations

import importlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from grader import sandbox
from grader.student import (Channel, SocketWriter, WorkerProcess, socket_receiver,
                            thread_receiver)

__all__ = ["WarmPool", "ColdPool", "open_pool", "worker_spec", "preloads"]

PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
_GRADER_DIR = str(Path(__file__).resolve().parent)
_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from grader.worker import main; sys.exit(main(sys.argv[1:]))")
#: what every worker needs before any student code runs
_BASE = ("numpy", "numpy.linalg", "numpy.random", "grader.worker", "grader.wire",
         "grader.extract", "grader.testfns", "grader.materialize", "grader.contract",
         "grader.sandbox")


def preloads(batteries) -> tuple[str, ...]:
    """The modules the workers of these batteries need, helpers included."""
    names = list(_BASE)
    for b in batteries:
        names += list(b.profile.preload)
        if b.helpers:
            names.append(b.helpers)
    return tuple(dict.fromkeys(names))


def worker_spec(submission, battery, function: str, limits: sandbox.Limits,
                scratch: str) -> dict:
    """What a worker loads and the limits it sets (plain JSON)."""
    return {"submission": str(submission.root), "task": battery.task,
            "target": battery.target(function), "helpers": battery.helpers,
            "memory_mb": int(limits.memory_mb), "cpu_s": int(limits.cpu_s),
            "file_mb": int(limits.file_mb), "scratch": scratch,
            "preload": list(battery.profile.preload)}


def _scratch(identity: tuple[int, int] | None) -> str:
    path = tempfile.mkdtemp(prefix="grader-worker-")
    if identity is not None:
        os.chown(path, *identity)
    return path


def _source(submission, task: str):
    return lambda: submission.module_path(task).read_text(encoding="utf-8", errors="replace")


class WarmPool:
    """Workers forked from a warm server; this process must not have computed yet.

    ``clients`` control sockets are opened; this pool uses the first, and
    :meth:`spare_sockets` hands the others to processes forked from this one
    (a batch's graders), which :meth:`attach` to the same server.
    """

    def __init__(self, modules: tuple[str, ...], hide: tuple[str, ...] = (),
                 user: str | None = None, clients: int = 1) -> None:
        for name in modules:
            importlib.import_module(name)
        from grader import forkserver

        self.user = user if user is not None else os.environ.get("GRADER_WORKER_USER") or None
        self.hide = tuple(dict.fromkeys((_GRADER_DIR, *hide)))
        self._count = itertools.count()
        socks, self.server_pid = forkserver.start(clients)
        self._spare = socks[1:]
        self.connection = forkserver.ServerConnection(socks[0], self.server_pid)
        self.owner = True

    @classmethod
    def attach(cls, sock, server_pid: int, hide: tuple[str, ...], user: str | None):
        """A pool on a control socket of a server someone else started."""
        from grader import forkserver

        pool = cls.__new__(cls)
        pool.user, pool.hide, pool.server_pid = user, hide, server_pid
        pool._spare, pool.owner = [], False
        pool._count = itertools.count(1_000 * os.getpid())  # apart from the other graders
        pool.connection = forkserver.ServerConnection(sock, server_pid)
        return pool

    def spare_sockets(self) -> list:
        """The other control sockets, taken once."""
        spare, self._spare = self._spare, []
        return spare

    def note(self) -> str:
        note = self.connection.isolation.note
        if self.user:
            note = (note + "; " if note else "") + (
                f"workers run as unprivileged uids of their own in {self.user}'s group")
        return note

    def worker(self, submission, battery, function: str, limits) -> WorkerProcess:
        def launch() -> Channel:
            identity = (sandbox.worker_identity(self.user, next(self._count))
                        if self.user and os.geteuid() == 0 else None)
            scratch = _scratch(identity)
            spec = dict(worker_spec(submission, battery, function, limits, scratch),
                        hide=list(self.hide), uid=identity and identity[0],
                        gid=identity and identity[1])
            sock, pid = self.connection.spawn(spec)
            return Channel(receive=socket_receiver(sock), writer=SocketWriter(sock),
                           kill=lambda: _killpg(pid), exit_code=lambda timeout: None,
                           scratch=scratch, close=sock.close)
        return WorkerProcess(launch, battery.task, battery.target(function), limits,
                             _source(submission, battery.task))

    def close(self) -> None:
        self.connection.close()
        for sock in self._spare:
            sock.close()
        if self.owner:
            try:
                os.waitpid(self.server_pid, 0)
            except ChildProcessError:
                pass


def _killpg(pid: int) -> None:
    import signal

    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class ColdPool:
    """Every worker a fresh interpreter (no fork server): macOS, Windows."""

    def __init__(self, modules: tuple[str, ...] = (), hide: tuple[str, ...] = (),
                 user: str | None = None, clients: int = 1) -> None:
        self.user = None

    def spare_sockets(self) -> list:
        return []

    def note(self) -> str:
        return (f"no sandbox on {sys.platform}: workers are separate processes with a "
                "wall-clock timeout" + (" and resource limits" if os.name == "posix" else ""))

    def worker(self, submission, battery, function: str, limits) -> WorkerProcess:
        def launch() -> Channel:
            scratch = _scratch(None)
            spec = worker_spec(submission, battery, function, limits, scratch)
            kwargs = ({"start_new_session": True} if os.name == "posix" else
                      {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)})
            proc = subprocess.Popen(
                [sys.executable, "-I", "-B", "-c", _BOOTSTRAP, PROJECT_ROOT, json.dumps(spec)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                cwd=scratch, env=sandbox.worker_env(scratch), **kwargs)

            def exit_code(timeout: float):
                try:
                    return proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    return None

            def kill() -> None:
                if os.name == "posix":
                    _killpg(proc.pid)
                try:
                    proc.kill()
                    proc.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            return Channel(receive=thread_receiver(proc.stdout), writer=proc.stdin, kill=kill,
                           exit_code=exit_code, scratch=scratch, close=proc.stdout.close)
        limits = _cold(limits)
        return WorkerProcess(launch, battery.task, battery.target(function), limits,
                             _source(submission, battery.task))

    def close(self) -> None:
        pass


def _cold(limits: sandbox.Limits) -> sandbox.Limits:
    """A cold worker imports numpy, torch and TensorFlow itself before the student's code."""
    import dataclasses

    return dataclasses.replace(limits, start_timeout_s=limits.start_timeout_s + 120.0)


def open_pool(modules: tuple[str, ...], hide: tuple[str, ...] = (), clients: int = 1):
    """A warm pool where forking is safe (Linux), else a cold one."""
    cls = WarmPool if sandbox.CAN_FORK else ColdPool
    return cls(modules, hide=hide, clients=clients)
