"""Where workers come from: a warm fork server (Linux) or fresh interpreters.

A pool makes one :class:`~grader.student.WorkerProcess` per student function.
:class:`WarmPool` imports what the workers will need in this process, forks
``grader.forkserver`` before anything is computed (and a second server that
imports TensorFlow for the frameworks task meanwhile), and forks every worker
from them (a few milliseconds instead of seconds of imports); the sandbox is
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

__all__ = ["WarmPool", "ColdPool", "FrameworkOracle", "open_pool", "worker_spec", "preloads",
           "ORACLE", "framework_in_process"]

PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
_GRADER_DIR = str(Path(__file__).resolve().parent)
_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from grader.worker import main; sys.exit(main(sys.argv[1:]))")
#: what every worker needs before any student code runs
_BASE = ("numpy", "numpy.linalg", "numpy.random", "grader.worker", "grader.wire",
         "grader.extract", "grader.testfns", "grader.materialize", "grader.contract",
         "grader.sandbox")


#: the grader's module that answers for Keras and TensorFlow (``StudentFunction.framework``)
ORACLE = "grader.oracles.keras_calls"
#: the trusted worker's limits: no student code runs there
_ORACLE_LIMITS = sandbox.Limits(call_timeout_s=300.0, start_timeout_s=60.0, memory_mb=0,
                                cpu_s=0)


class FrameworkOracle:
    """``oracle(name, *args)``: ``grader.oracles.keras_calls.call`` in a trusted worker.

    The worker is forked from the server that imported TensorFlow, on the
    first question, and answers every later one; it runs no student code.
    A failure there is the grader's, and raises ``RuntimeError``.
    """

    def __init__(self, make: "callable") -> None:
        import threading

        self._make = make
        self._worker = None
        self._lock = threading.Lock()

    def __call__(self, name: str, *args, **kwargs):
        with self._lock:
            if self._worker is None:
                worker = self._make()
                worker.start()
                self._worker = worker
            reply = self._worker.request({"op": "call", "args": [name, *args],
                                          "kwargs": kwargs}, _ORACLE_LIMITS.call_timeout_s,
                                         f"asking Keras/TensorFlow for {name}")
            self._worker.take_output()
        if reply.get("status") != "ok":
            raise RuntimeError(f"Keras/TensorFlow could not answer {name}: "
                               f"{reply.get('type', reply.get('status'))}: "
                               f"{reply.get('message', '')}")
        return reply.get("value")

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None


def _no_framework_server():
    raise RuntimeError("no server imported TensorFlow for this grading")


def framework_in_process(name: str, *args, **kwargs):
    """The oracle where nothing is forked (macOS, Windows): TensorFlow in this process."""
    return importlib.import_module(ORACLE).call(name, *args, **kwargs)


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
    """Workers forked from warm servers; this process must not have computed yet.

    ``modules`` are imported here and shared by every server; ``later`` (the
    frameworks' TensorFlow) only by a second server, which imports it after it
    is forked, overlapped with the grading: the workers of a battery whose
    profile preloads any of ``later`` come from that server, all others from
    the first. A process forked from this one (a batch's grader) gets
    :meth:`new_sockets` to the same servers and :meth:`attach`-es to them.
    """

    def __init__(self, modules: tuple[str, ...], hide: tuple[str, ...] = (),
                 user: str | None = None, later: tuple[str, ...] = ()) -> None:
        for name in modules:
            importlib.import_module(name)
        from grader import forkserver

        self.user = user if user is not None else os.environ.get("GRADER_WORKER_USER") or None
        self.hide = tuple(dict.fromkeys((_GRADER_DIR, *hide)))
        self.later = frozenset(later)
        self._count = itertools.count()
        self.connections: dict[str, forkserver.ServerConnection] = {}
        self.server_pids: dict[str, int] = {}
        for name, imports in (("warm", ()), ("frameworks", (*later, ORACLE))):
            if name == "frameworks" and not later:
                continue
            sock, pid = forkserver.start(imports)
            self.server_pids[name] = pid
            self.connections[name] = forkserver.ServerConnection(sock, pid)
        self.owner = True
        self.framework = self._oracle()

    @classmethod
    def attach(cls, socks: dict, hide: tuple[str, ...], user: str | None,
               later: frozenset = frozenset()):
        """A pool on control sockets (server name -> (socket, pid)) someone else opened."""
        from grader import forkserver

        pool = cls.__new__(cls)
        pool.user, pool.hide, pool.later = user, hide, frozenset(later)
        pool.owner = False
        pool._count = itertools.count(1_000 * os.getpid())  # apart from the other graders
        pool.server_pids = {name: pid for name, (_, pid) in socks.items()}
        pool.connections = {name: forkserver.ServerConnection(sock, pid)
                            for name, (sock, pid) in socks.items()}
        pool.framework = pool._oracle()
        return pool

    def _oracle(self):
        """The framework oracle: a trusted worker of the frameworks server, when there is one."""
        if "frameworks" not in self.connections:
            return FrameworkOracle(_no_framework_server)
        connection = self.connections["frameworks"]

        def make() -> WorkerProcess:
            def launch() -> Channel:
                scratch = _scratch(None)
                spec = {"submission": scratch, "task": "keras_calls", "target": "call",
                        "trusted": ORACLE, "helpers": None, "memory_mb": 0, "cpu_s": 0,
                        "file_mb": int(_ORACLE_LIMITS.file_mb), "scratch": scratch,
                        "preload": [], "hide": list(self.hide), "uid": None, "gid": None}
                sock, pid = connection.spawn(spec)
                return Channel(receive=socket_receiver(sock), writer=SocketWriter(sock),
                               kill=lambda: _killpg(pid), exit_code=lambda timeout: None,
                               scratch=scratch, close=sock.close)
            return WorkerProcess(launch, "keras_calls", "call", _ORACLE_LIMITS, lambda: "")
        return FrameworkOracle(make)

    def new_sockets(self) -> dict:
        """A control socket to each server, for a process forked from this one."""
        return {name: (c.new_socket(), self.server_pids[name])
                for name, c in self.connections.items()}

    def note(self) -> str:
        note = self.connections["warm"].isolation.note
        if self.user:
            note = (note + "; " if note else "") + (
                f"workers run as unprivileged uids of their own in {self.user}'s group")
        return note

    def _server(self, battery) -> str:
        wants_later = bool(self.later & set(battery.profile.preload))
        return "frameworks" if wants_later and "frameworks" in self.connections else "warm"

    def worker(self, submission, battery, function: str, limits) -> WorkerProcess:
        connection = self.connections[self._server(battery)]

        def launch() -> Channel:
            identity = (sandbox.worker_identity(self.user, next(self._count))
                        if self.user and os.geteuid() == 0 else None)
            scratch = _scratch(identity)
            spec = dict(worker_spec(submission, battery, function, limits, scratch),
                        hide=list(self.hide), uid=identity and identity[0],
                        gid=identity and identity[1])
            sock, pid = connection.spawn(spec)
            return Channel(receive=socket_receiver(sock), writer=SocketWriter(sock),
                           kill=lambda: _killpg(pid), exit_code=lambda timeout: None,
                           scratch=scratch, close=sock.close)
        return WorkerProcess(launch, battery.task, battery.target(function), limits,
                             _source(submission, battery.task))

    def close(self) -> None:
        self.framework.close()
        for connection in self.connections.values():
            connection.close()
        if self.owner:
            for pid in self.server_pids.values():
                try:
                    os.waitpid(pid, 0)
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
                 user: str | None = None) -> None:
        self.user = None
        self.framework = framework_in_process

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


def open_pool(modules: tuple[str, ...], hide: tuple[str, ...] = (),
              later: tuple[str, ...] = ()):
    """A warm pool where forking is safe (Linux), else a cold one."""
    if sandbox.CAN_FORK:
        return WarmPool(modules, hide=hide, later=later)
    return ColdPool(modules, hide=hide)
