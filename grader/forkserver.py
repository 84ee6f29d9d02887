"""The warm servers every Linux worker is forked from.

A server is a process that has imported what its workers need and never
computes, so forking it again is safe and quick. (A process forked after
torch or TensorFlow has *run* an operation can deadlock.) It is a fresh
interpreter that imports only what it is told (:func:`spawn`), never a fork
of the grader: what the grader loaded (its checks, its oracles, the quiz's
key) would be in every worker forked from it, for the student's code to
find; and forking costs in proportion to the server's memory (a NumPy-only
server is a tenth of the grader's size). It says "ready" when it has
imported, which goes on while the grader starts its work.

For every worker the server forks a *monitor*, which starts a session,
optionally drops to an unprivileged user, enters the sandbox
(``grader.sandbox.enter_namespaces``) and forks the *worker* itself, PID 1 of
its own namespace; the worker runs ``grader.worker.serve`` on the socket the
grader sent with the request, with the tamper guard the server took once
before its first fork. When the worker exits, the monitor kills
whatever it left behind, writes one last frame with the exit status on the
same socket, and exits. The server is a subreaper too: processes orphaned by
a worker that was killed are killed at the next request and when it stops.

Control messages are JSON on ``SOCK_SEQPACKET`` Unix sockets, one message
each, with the worker's socket passed as ``SCM_RIGHTS``.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys

from grader import leftovers, sandbox

__all__ = ["ServerConnection", "spawn", "probe_isolation"]

_MAX_MESSAGE = 1 << 20


def _send(sock: socket.socket, message: dict, fds: tuple[int, ...] = ()) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.send(data)


def _recv(sock: socket.socket) -> tuple[dict | None, list[int]]:
    data, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 4)
    if not data:
        return None, fds
    return json.loads(data.decode()), fds


def _exit_frame(fd: int, code: int) -> None:
    from grader import wire

    try:
        with os.fdopen(os.dup(fd), "wb", buffering=0) as stream:
            wire.write_frame(stream, {"status": "exited", "code": code})
    except OSError:
        pass


def _runtime_folders() -> tuple[str, ...]:
    """Where this interpreter and its libraries are: kept visible in a hidden folder (a
    home holding the virtual environment, or the Python it was made from)."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    folders |= {p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")}
    return tuple(sorted(folders))


def _monitor(spec: dict, fd: int, closing: list[int], guard) -> None:
    """The monitor of one worker (never returns); ``guard`` is the server's tamper guard
    (``grader.worker.Guard``), which the worker uses if it still fits."""
    code = 70
    try:
        for other in closing:
            os.close(other)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.setsid()
        if spec.get("uid") is not None:
            sandbox.drop_privileges(int(spec["uid"]), int(spec["gid"]))
        sandbox.die_with_parent()  # after the change of user, which clears it
        namespaces = spec["isolation"] == "namespaces"
        if namespaces:
            sandbox.enter_namespaces(spec["scratch"], tuple(spec.get("hide", ())),
                                     keep=(spec["submission"], *_runtime_folders()))
        else:
            sandbox.become_subreaper()
        child = os.fork()
        if child == 0:
            status = 70
            try:
                sandbox.die_with_parent()
                if namespaces:
                    sandbox.inside_namespace()
                from grader import worker

                status = worker.serve(spec, fd, fd, guard)
            finally:
                os._exit(status)
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        for _ in range(20):  # whatever the worker left running (process mode only)
            if not sandbox.kill_children():
                break
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                break
        _exit_frame(fd, code)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - report and go
        from grader import wire

        try:
            with os.fdopen(os.dup(fd), "wb", buffering=0) as stream:
                wire.write_frame(stream, {"status": "sandbox_error",
                                          "message": f"{type(exc).__name__}: {exc}"})
        except OSError:
            pass
    finally:
        os._exit(code)


def probe_isolation() -> sandbox.Isolation:
    """Whether a forked child can enter the namespaces here (forks once to find out)."""
    if sandbox.requested_mode() == "off":
        return sandbox.Isolation("process", "the sandbox is off (GRADER_SANDBOX=off): workers "
                                            "run with process limits only")
    scratch = leftovers.folder("probe")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        message = b"ok"
        try:
            sandbox.enter_namespaces(scratch, ())
        except BaseException as exc:  # noqa: BLE001
            message = f"{exc}".encode()[:400] or b"failed"
        os.write(write, message)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        answer = fh.read().decode(errors="replace")
    os.waitpid(pid, 0)
    os.rmdir(scratch)
    if answer == "ok":
        return sandbox.Isolation("namespaces")
    return sandbox.Isolation("process", f"the kernel refused a sandbox ({answer}): workers run "
                                        "with process limits only")


def _serve(controls: list[socket.socket], isolation: sandbox.Isolation) -> None:
    """The server's loop: spawn workers until every control socket closes."""
    import gc

    from grader import worker

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # monitors are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    sandbox.become_subreaper()
    sandbox.die_with_parent()
    # listed once here rather than in every worker (each listing writes to every page of
    # sys.modules' names, which a forked worker would then copy); and everything imported
    # is frozen, so that no collection in a worker walks (and copies) the server's objects
    worker.guarded_imports()
    loaded = (worker.grader_modules(), len(sys.modules))
    guard = worker.Guard(loaded)  # taken once here, used by every worker it still fits
    gc.collect()
    gc.freeze()
    selector = selectors.DefaultSelector()
    for sock in controls:
        selector.register(sock, selectors.EVENT_READ)
        _send(sock, {"status": "ready", "isolation": isolation.name, "note": isolation.note})
    spawned: set[int] = set()
    open_controls = len(controls)
    while open_controls:
        for key, _ in selector.select():
            sock = key.fileobj
            try:
                message, fds = _recv(sock)
            except (OSError, ValueError):
                message, fds = None, []
            if message is None or message.get("op") == "close":
                selector.unregister(sock)
                sock.close()
                open_controls -= 1
                continue
            spawned = {p for p in spawned if os.path.exists(f"/proc/{p}")}
            sandbox.kill_children(keep=frozenset(spawned))  # orphans of killed workers
            if message.get("op") == "attach" and len(fds) == 1:  # another process's socket
                theirs = socket.socket(fileno=fds[0])
                controls.append(theirs)
                selector.register(theirs, selectors.EVENT_READ)
                open_controls += 1
                _send(theirs, {"status": "ready", "isolation": isolation.name,
                               "note": isolation.note})
                continue
            if message.get("op") != "spawn" or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                _send(sock, {"error": f"bad request {message.get('op')!r}"})
                continue
            spec = dict(message["spec"], isolation=isolation.name, loaded=loaded)
            closing = [s.fileno() for s in controls if s.fileno() >= 0]
            pid = os.fork()
            if pid == 0:
                _monitor(spec, fds[0], closing, guard)
            os.close(fds[0])
            spawned.add(pid)
            _send(sock, {"pid": pid})
    sandbox.kill_children()


class ServerConnection:
    """The grader's end of one control socket (thread-safe)."""

    #: how long a server may take to import and start (TensorFlow on a slow disk)
    START_TIMEOUT_S = 300.0

    def __init__(self, sock: socket.socket, pid: int) -> None:
        import threading

        self.sock = sock
        self.pid = pid
        self._lock = threading.Lock()
        self._isolation: sandbox.Isolation | None = None

    def _ready(self) -> None:
        """Wait (once, under the lock) for the server's "ready"."""
        if self._isolation is not None:
            return
        self.sock.settimeout(self.START_TIMEOUT_S)
        try:
            message, _ = _recv(self.sock)
        except (OSError, ValueError) as exc:
            message = {"message": f"{type(exc).__name__}: {exc}"}
        finally:
            self.sock.settimeout(None)
        if not message or message.get("status") != "ready":
            raise RuntimeError("the worker server did not start: "
                               + str((message or {}).get("message", "it exited")))
        self._isolation = sandbox.Isolation(message["isolation"], message.get("note", ""))

    @property
    def isolation(self) -> sandbox.Isolation:
        with self._lock:
            self._ready()
        return self._isolation

    def spawn(self, spec: dict) -> tuple[socket.socket, int]:
        """A new worker for ``spec``: (the grader's socket to it, the monitor's pid)."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._lock:
                self._ready()
                _send(self.sock, {"op": "spawn", "spec": spec}, (theirs.fileno(),))
                reply, _ = _recv(self.sock)
        finally:
            theirs.close()
        if not reply or "pid" not in reply:
            mine.close()
            raise RuntimeError(f"the worker server refused a worker: {reply!r}")
        return mine, int(reply["pid"])

    def new_socket(self) -> socket.socket:
        """Another control socket to this server (for a process forked later), at once:
        the server takes it when it is ready (a batch's graders start grading while the
        frameworks server still imports TensorFlow) and says "ready" on it then."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self._lock:
                _send(self.sock, {"op": "attach"}, (theirs.fileno(),))
        finally:
            theirs.close()
        return mine

    def importing(self) -> bool:
        """Whether the server is still importing (it has not said "ready" or failed yet): it
        has then started no worker, and can be killed instead of waited for (a check that
        needed no TensorFlow need not wait seconds for its import to end)."""
        import select

        with self._lock:
            if self._isolation is not None:
                return False
            try:
                readable, _, _ = select.select([self.sock], [], [], 0)
            except (OSError, ValueError):
                return False
            return not readable

    def close(self) -> None:
        with self._lock:
            try:
                _send(self.sock, {"op": "close"})
            except OSError:
                pass
            self.sock.close()


def _import_all(names: tuple[str, ...], controls: list[socket.socket]) -> None:
    import importlib

    try:
        for name in names:
            importlib.import_module(name)
    except BaseException as exc:  # noqa: BLE001 - told to the grader, then exit
        for sock in controls:
            _send(sock, {"status": "failed", "message": f"importing {name} failed: "
                                                        f"{type(exc).__name__}: {exc}"})
        raise


_SPAWN = ("import sys; sys.path.insert(0, sys.argv[1]); "
          "from grader.forkserver import _spawned; _spawned(int(sys.argv[2]), sys.argv[3])")


def _spawned(fd: int, imports: str) -> None:
    """The entry point of a server started as a fresh interpreter (:func:`spawn`)."""
    code = 0
    theirs = socket.socket(fileno=fd)
    try:
        sandbox.die_with_parent()
        _import_all(tuple(json.loads(imports)), [theirs])
        _serve([theirs], probe_isolation())
    except BaseException:  # noqa: BLE001
        code = 70
    finally:
        os._exit(code)


def spawn(imports: tuple[str, ...], root: str):
    """A server started as a fresh interpreter that imports ``imports`` only: the smallest
    server there can be, whatever this process has imported. Returns the process and the
    grader's end of its control socket."""
    import subprocess

    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    # its workers run student code on one thread: no idle BLAS threads spinning beside it
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", _SPAWN, root, str(theirs.fileno()),
             json.dumps(list(imports))],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True, env=env)
    finally:
        theirs.close()
    return proc, mine
