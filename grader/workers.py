"""Where workers come from: warm fork servers (Linux) or fresh interpreters.

A pool makes one :class:`~grader.student.WorkerProcess` per student function.
:class:`WarmPool` starts up to three servers and forks every worker from one
of them (a few milliseconds instead of seconds of imports); the sandbox is
entered by each worker (``grader.sandbox``). Forking costs in proportion to
the server's memory, so each worker comes from the smallest server that has
what it needs:

* ``numpy``, a fresh interpreter that imports NumPy and the worker's own
  modules only: every NumPy task's workers. It holds none of the grader's
  oracles or checks: the stand-ins of a module's other functions ask the
  grader (``grader.helpers``);
* ``torch``, a fresh interpreter that imports torch too, started only for a
  task whose workers need torch without TensorFlow (none of the shipped
  tasks, once TensorFlow is installed);
* ``frameworks``, a fresh interpreter that imports torch, TensorFlow and
  Keras, overlapped with the grading: the frameworks task (where torch and
  Keras are the student's own tools), and the trusted worker that answers
  for Keras.

No server is a fork of the grader, whose memory holds its checks and oracles.

:class:`ColdPool` starts each worker as a fresh interpreter that imports for
itself (macOS, Windows). :func:`open_pool` picks one.
"""
from __future__ import annotations

import importlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader import leftovers, sandbox
from grader.helpers import Helpers
from grader.parsing import read_source
from grader.student import (Channel, SocketWriter, WorkerProcess, socket_receiver,
                            thread_receiver)

__all__ = ["WarmPool", "ColdPool", "FrameworkOracle", "open_pool", "worker_spec", "preloads",
           "worker_needs", "worker_helpers", "server_for", "TIERS", "SERVED_FRAMEWORKS", "ORACLE",
           "framework_in_process"]

PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
_GRADER_DIR = str(Path(__file__).resolve().parent)
#: what of the project's checkout holds solutions, hidden from every worker like the
#: grader's own files: the reference, the tests' correct implementations, the history
#: (an installed grader has no checkout around it)
_SOLUTIONS = () if os.path.basename(PROJECT_ROOT) in ("site-packages", "dist-packages") else \
    tuple(os.path.join(PROJECT_ROOT, name) for name in ("reference", "tests", ".git"))
_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from grader.worker import main; sys.exit(main(sys.argv[1:]))")
#: what every worker needs before any student code runs
_BASE = ("numpy", "numpy.linalg", "numpy.random", "grader.worker", "grader.wire",
         "grader.extract", "grader.testfns", "grader.materialize", "grader.contract",
         "grader.sandbox")


#: what calls sent ahead to a worker may hold (``Channel.room``): a small share of what a
#: Unix socket holds (``net.core.wmem_default``, 208 kB on Linux)
SOCKET_ROOM = 32 * 1024
#: the grader's module that answers for Keras and TensorFlow (``StudentFunction.framework``)
ORACLE = "grader.oracles.keras_calls"
#: the trusted worker's limits: no student code runs there
_ORACLE_LIMITS = sandbox.Limits(call_timeout_s=300.0, start_timeout_s=60.0, memory_mb=0,
                                cpu_s=0)


class FrameworkOracle:
    """``oracle(name, *args)``: ``grader.oracles.keras_calls.call`` in a trusted worker.

    The worker is forked from the server that imported TensorFlow, on the
    first question, and answers every later one; it runs no student code.
    A failure there is the grader's, and raises ``RuntimeError``. Its answers
    depend on the question alone (seeds are among the arguments), so each is
    asked once per pool (``grader.memory``): a batch's grader asks Keras for
    its first student only.
    """

    def __init__(self, make: "callable") -> None:
        import threading

        from grader.memory import Memory

        self._make = make
        self._worker = None
        self._lock = threading.Lock()
        self.answers = Memory()  # public: a batch's grader hands it to the next

    def __call__(self, name: str, *args, **kwargs):
        return self.answers.expected(self._ask, name, *args, **kwargs)

    def _ask(self, name: str, *args, **kwargs):
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
    """The modules the workers of these batteries may need (none of the grader's oracles:
    the helpers' stand-ins ask the grader, ``grader.helpers``)."""
    names = list(_BASE)
    for b in batteries:
        names += list(b.profile.preload)
    return tuple(dict.fromkeys(names))


def worker_needs(battery) -> tuple[str, ...]:
    """What the workers of ``battery`` import before any student code runs."""
    return tuple(dict.fromkeys(battery.profile.preload))


def worker_helpers(battery, function: str) -> Helpers | None:
    """Who answers the stand-ins of the other functions while ``function`` is graded."""
    return Helpers.of(battery.task, battery.helpers, battery.target(function))


def worker_spec(submission, battery, function: str, limits: sandbox.Limits,
                scratch: str, helpers: Helpers | None = None) -> dict:
    """What a worker loads and the limits it sets (plain JSON)."""
    return {"submission": str(submission.root), "task": battery.task,
            "target": battery.target(function),
            "helpers": sorted(helpers.names) if helpers is not None else [],
            "deterministic": sorted(helpers.deterministic) if helpers is not None else [],
            "memory_mb": int(limits.memory_mb), "cpu_s": int(limits.cpu_s),
            "file_mb": int(limits.file_mb), "scratch": scratch,
            "preload": list(worker_needs(battery))}


class _Scratches:
    """The scratch folders of a pool's workers that have not closed yet.

    Closing the pool removes them, and no worker starts after that: a Ctrl-C
    stops a grading with workers running, which closing the pool ends (their
    own ``close`` never comes), while the grading's threads may still ask for
    more.
    """

    def __init__(self) -> None:
        import threading

        self._live: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False

    def new(self, identity: tuple[int, int] | None) -> str:
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool of workers is closed")
            path = leftovers.folder("worker")
            if identity is not None:
                os.chown(path, *identity)
            self._live.add(path)
            return path

    def forget(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)
        self._live.discard(path)

    def closing(self, close, path: str):
        """``close``, after which ``path`` is its worker's to remove, no longer the pool's."""
        def closed() -> None:
            close()
            self._live.discard(path)
        return closed

    def spawned(self, connection, spec: dict):
        """``connection.spawn(spec)``; its scratch folder removed if no worker came of it."""
        try:
            return connection.spawn(spec)
        except BaseException:
            self.forget(spec["scratch"])
            raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            live, self._live = list(self._live), set()
        for path in live:
            shutil.rmtree(path, ignore_errors=True)


def _source(submission, task: str):
    return lambda: read_source(submission.module_path(task))


#: the servers, smallest first, and the frameworks each one holds
TIERS = (("numpy", frozenset()), ("torch", frozenset({"torch"})),
         ("frameworks", frozenset({"torch", "tensorflow", "keras"})))
#: every framework some server holds (what a server, not NumPy, supplies)
SERVED_FRAMEWORKS = frozenset().union(*(held for _, held in TIERS))


def server_for(needs, available) -> str:
    """The smallest of the ``available`` servers that holds every framework of ``needs``
    (the largest one when none does: what is missing is then imported by the worker)."""
    wanted = SERVED_FRAMEWORKS & set(needs)
    names = [name for name, _ in TIERS if name in available]
    for name, held in TIERS:
        if name in available and wanted <= held:
            return name
    return names[-1]


class WarmPool:
    """Workers forked from warm servers, each a fresh interpreter started here.

    ``base`` is what every worker imports (NumPy and the worker's modules),
    ``torch`` what the torch server adds, ``grader`` what this process imports
    for itself (torch and its symbolic shapes, which its autograd and a torch
    model's construction load), ``later`` what the frameworks server adds
    (TensorFlow, Keras). No server is forked from this process: a server forked
    after the grader loaded its checks would hold them, and so would every
    worker forked from it (the oracles, the quiz's key), for the student's code
    to find. The frameworks server, whose imports take longest, starts first and
    imports while the grading starts. A process forked from this one (a batch's
    grader) gets :meth:`new_sockets` to the same servers and :meth:`attach`-es
    to them.
    """

    def __init__(self, base: tuple[str, ...], torch: tuple[str, ...] = (),
                 hide: tuple[str, ...] = (), user: str | None = None,
                 later: tuple[str, ...] = (), grader: tuple[str, ...] = ()) -> None:
        from grader import forkserver

        self.user = user if user is not None else os.environ.get("GRADER_WORKER_USER") or None
        self.hide = tuple(dict.fromkeys((_GRADER_DIR, *_SOLUTIONS, *hide)))
        self.later = frozenset(later)
        self._scratches = _Scratches()
        self._count = itertools.count()
        self.connections: dict[str, forkserver.ServerConnection] = {}
        self.server_pids: dict[str, int] = {}
        self._spawned: dict[str, object] = {}
        if later:
            self._spawn("frameworks", (*base, *torch, *grader, *later, ORACLE))
        self._spawn("numpy", base)
        if torch:
            self._spawn("torch", (*base, *torch))
        for name in (*base, *torch, *grader):
            importlib.import_module(name)
        self.owner = True
        self.framework = self._oracle()

    def _spawn(self, name: str, imports: tuple[str, ...]) -> None:
        """Start server ``name``, a fresh interpreter importing ``imports`` (as this goes on)."""
        from grader import forkserver

        proc, sock = forkserver.spawn(tuple(dict.fromkeys(imports)), PROJECT_ROOT)
        self._spawned[name] = proc
        self._add(name, sock, proc.pid)

    def _add(self, name: str, sock, pid: int) -> None:
        from grader import forkserver

        self.server_pids[name] = pid
        self.connections[name] = forkserver.ServerConnection(sock, pid)

    @classmethod
    def attach(cls, socks: dict, hide: tuple[str, ...], user: str | None,
               later: frozenset = frozenset()):
        """A pool on control sockets (server name -> (socket, pid)) someone else opened."""
        from grader import forkserver

        pool = cls.__new__(cls)
        pool.user, pool.hide, pool.later = user, hide, frozenset(later)
        pool.owner = False
        pool._scratches = _Scratches()
        pool._spawned = {}
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
                scratch = self._scratches.new(None)
                spec = {"submission": scratch, "task": "keras_calls", "target": "call",
                        "trusted": ORACLE, "helpers": None, "memory_mb": 0, "cpu_s": 0,
                        "file_mb": int(_ORACLE_LIMITS.file_mb), "scratch": scratch,
                        "preload": [], "hide": list(self.hide), "uid": None, "gid": None}
                sock, pid = self._scratches.spawned(connection, spec)
                return Channel(receive=socket_receiver(sock), writer=SocketWriter(sock),
                               kill=lambda: _killpg(pid), exit_code=lambda timeout: None,
                               scratch=scratch, close=self._scratches.closing(sock.close, scratch),
                               room=SOCKET_ROOM)
            return WorkerProcess(launch, "keras_calls", "call", _ORACLE_LIMITS, lambda: "")
        return FrameworkOracle(make)

    def new_sockets(self) -> dict:
        """A control socket to each server, for a process forked from this one."""
        return {name: (c.new_socket(), self.server_pids[name])
                for name, c in self.connections.items()}

    def note(self) -> str:
        note = self.connections["numpy"].isolation.note
        if self.user:
            note = (note + "; " if note else "") + (
                f"workers run as unprivileged uids of their own in {self.user}'s group")
        return note

    def worker(self, submission, battery, function: str, limits) -> WorkerProcess:
        connection = self.connections[server_for(worker_needs(battery), self.connections)]
        helpers = worker_helpers(battery, function)

        def launch() -> Channel:
            identity = (sandbox.worker_identity(self.user, next(self._count))
                        if self.user and os.geteuid() == 0 else None)
            scratch = self._scratches.new(identity)
            spec = dict(worker_spec(submission, battery, function, limits, scratch, helpers),
                        hide=list(self.hide), uid=identity and identity[0],
                        gid=identity and identity[1])
            sock, pid = self._scratches.spawned(connection, spec)
            return Channel(receive=socket_receiver(sock), writer=SocketWriter(sock),
                           kill=lambda: _killpg(pid), exit_code=lambda timeout: None,
                           scratch=scratch, close=self._scratches.closing(sock.close, scratch),
                           room=SOCKET_ROOM)
        return WorkerProcess(launch, battery.task, battery.target(function), limits,
                             _source(submission, battery.task),
                             submission.sources.get(battery.task, ""), helpers)

    def close(self) -> None:
        try:
            self.framework.close()
            # a server still importing (TensorFlow, for checks that did not run) has started
            # no worker: it is killed, not waited for
            importing = {name for name, c in self.connections.items()
                         if self.owner and c.importing()}
            for name, connection in self.connections.items():
                if name in importing:
                    _kill(self.server_pids[name])
                connection.close()
            for proc in self._spawned.values():  # children through subprocess: reaped
                proc.wait()
        finally:  # a second Ctrl-C may cut the above short
            self._scratches.close()


def _kill(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
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
        self._scratches = _Scratches()

    def note(self) -> str:
        return (f"no sandbox on {sys.platform}: workers are separate processes with a "
                "wall-clock timeout" + (" and resource limits" if os.name == "posix" else ""))

    def worker(self, submission, battery, function: str, limits) -> WorkerProcess:
        helpers = worker_helpers(battery, function)

        def launch() -> Channel:
            scratch = self._scratches.new(None)
            spec = worker_spec(submission, battery, function, limits, scratch, helpers)
            kwargs = ({"start_new_session": True} if os.name == "posix" else
                      {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)})
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-B", "-c", _BOOTSTRAP, PROJECT_ROOT,
                     json.dumps(spec)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, cwd=scratch, env=sandbox.worker_env(scratch),
                    **kwargs)
            except BaseException:
                self._scratches.forget(scratch)
                raise

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
                           exit_code=exit_code, scratch=scratch,
                           close=self._scratches.closing(proc.stdout.close, scratch))
        limits = _cold(limits)
        return WorkerProcess(launch, battery.task, battery.target(function), limits,
                             _source(submission, battery.task),
                             submission.sources.get(battery.task, ""), helpers)

    def close(self) -> None:
        self._scratches.close()


def _cold(limits: sandbox.Limits) -> sandbox.Limits:
    """A cold worker imports numpy, torch and TensorFlow itself before the student's code."""
    import dataclasses

    return dataclasses.replace(limits, start_timeout_s=limits.start_timeout_s + 120.0)


def open_pool(base: tuple[str, ...], torch: tuple[str, ...] = (), hide: tuple[str, ...] = (),
              later: tuple[str, ...] = (), grader: tuple[str, ...] = ()):
    """A warm pool where forking is safe (Linux), else a cold one; ``grader`` is what this
    process imports besides."""
    if sandbox.CAN_FORK:
        return WarmPool(base, torch, hide=hide, later=later, grader=grader)
    for name in grader:
        importlib.import_module(name)
    return ColdPool(base, hide=hide)
