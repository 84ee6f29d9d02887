"""The grader's side of a worker: a student function as a callable proxy.

A check receives a :class:`StudentFunction`. Calling it runs the student's
function in the worker process and returns the decoded plain-data value, or
raises one of the :class:`StudentProblem` exceptions below, which the runner
turns into a status (``not_attempted``, ``error``, ``timeout``). A check that
*expects* the student to raise (e.g. ``ValueError`` on a bad shape) uses
:meth:`StudentFunction.call` and inspects ``Call.raised``.

A worker that cannot even start (before it imports any student code) is the
grader's problem, never the student's: :class:`WorkerUnavailable`.
"""
from __future__ import annotations

import collections
import contextlib
import os
import queue
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from grader import sandbox, wire

if TYPE_CHECKING:
    from grader.helpers import Helpers

__all__ = [
    "called_wrongly",
    "StudentProblem",
    "StudentNotImplemented",
    "StudentRaised",
    "StudentTimeout",
    "StudentCrashed",
    "StudentUnavailable",
    "StudentImportFailed",
    "WorkerUnavailable",
    "Raised",
    "Call",
    "Channel",
    "SocketWriter",
    "socket_receiver",
    "thread_receiver",
    "Ahead",
    "WorkerProcess",
    "StudentFunction",
    "module_source",
]

#: how long a fresh worker may take to say it is alive (before any student code runs)
ALIVE_TIMEOUT_S = 60.0
#: calls sent ahead to a worker (:meth:`WorkerProcess.ahead`) wait unread: at most this
#: many, and no more bytes than its channel's ``room``, so that the grader never blocks
#: writing one (while the worker is stuck in a call, or blocks writing a reply the
#: grader has not read yet)
AHEAD_CALLS = 16


class _Noted(BaseException):
    """Stops a run of a check at its first call (:meth:`StudentFunction.first_call`); a
    BaseException, so that no ``except Exception`` of a check takes it for its own."""


class StudentProblem(Exception):
    """The student's code could not give a value; ``status`` says how."""

    status = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class StudentNotImplemented(StudentProblem):
    status = "not_attempted"


def _habit_hint(raised: "Raised") -> str:
    """What to do when the student's code raised because of where it runs, not of its
    maths: the grader has no one at the keyboard and only its own libraries ("" for any
    other exception)."""
    missing = re.fullmatch(r"No module named '([\w.]+)'", raised.message)
    if raised.is_a("ModuleNotFoundError") and missing:
        name = missing.group(1).split(".")[0]
        return (f"The grader runs your code with NumPy, SciPy, PyTorch, TensorFlow and "
                f"Python's standard library only, and {name} is none of them: take that "
                f"import out (or, if {name} is a file of yours, put {name}.py beside your "
                f"modules).")
    if raised.is_a("EOFError") and "reading a line" in raised.message:
        return ("input() gets nothing while the grader runs, so it raises EOFError: take the "
                "input() calls out of your code.")
    if raised.is_a("bdb.BdbQuit"):
        return ("A breakpoint() or pdb.set_trace() stopped here, and the grader runs without "
                "a debugger: take them out of your code.")
    return ""


def called_wrongly(raised: "Raised") -> str:
    """The SPEC function that could not be called with the arguments given (its parameters
    renamed, added or dropped), from Python's own TypeError, which names it; "" otherwise."""
    from grader.contract import POINTS

    bound = re.match(r"(\w+)\(\) (got an unexpected keyword argument|missing \d+ required|"
                     r"takes \d+ positional|takes from \d+ to \d+ positional|"
                     r"got multiple values)", raised.message)
    if raised.is_a("TypeError") and bound and any(
            bound.group(1) in functions for functions in POINTS.values()):
        return bound.group(1)
    return ""


def _signature_hint(raised: "Raised") -> str:
    name = called_wrongly(raised)
    return (f"{name}'s parameters must stay as the stub has them (names, order and defaults; "
            f"CONTRACT.md lists them), and every call of it must match them.") if name else ""


def _import_hint(task: str, origin: str) -> str:
    """How to see why ``task``'s module does not import: where its source came from."""
    if not origin:
        return f"Run `python -c \"import {task}\"` in your submission folder to see the error."
    lines = ("its line 1 is the line after %%writefile" if "%%writefile" in origin
             else "its line numbers are the cell's")
    return (f"{task}.py is the code of {origin}; fix that cell ({lines}). The grader imports "
            f"it as a file: plain Python only, no %magics or !commands.")


class StudentRaised(StudentProblem):
    status = "error"

    def __init__(self, raised: "Raised", what: str) -> None:
        text = f"{what} raised {raised.type}: {raised.message}".rstrip(": ")
        if raised.traceback.strip():
            text += "\n" + raised.traceback.rstrip()
        super().__init__(text, _habit_hint(raised) or _signature_hint(raised))
        self.raised = raised


class StudentTimeout(StudentProblem):
    status = "timeout"


class StudentCrashed(StudentProblem):
    status = "error"


class StudentUnavailable(StudentProblem):
    """The module does not import, or does not define the function."""

    status = "error"


class StudentImportFailed(StudentUnavailable):
    """The module itself failed to import: the same for all its functions."""


class WorkerUnavailable(Exception):
    """A worker could not start before any student code ran: the grader's problem."""


@dataclass(frozen=True)
class Raised:
    type: str
    bases: tuple[str, ...]  # the exception's class and its bases, by name
    message: str
    traceback: str = ""

    def is_a(self, name: str) -> bool:
        return name in self.bases


@dataclass(frozen=True)
class Call:
    """Everything one call of the student's function produced."""

    value: object = None
    raised: Raised | None = None
    mutated: tuple[str, ...] = ()
    aliased: tuple[str, ...] = ()
    warnings: tuple[dict, ...] = ()
    frameworks_loaded: tuple[str, ...] = ()


@dataclass
class Channel:
    """A started worker process as the grader sees it.

    ``receive(timeout)`` returns the next frame (a dict), an ``EOFError`` when
    the worker is gone, another exception for a malformed frame, or None when
    nothing came in time.
    """

    receive: Callable[[float], object]
    writer: object  # binary stream of frames to the worker
    kill: Callable[[], None]  # stop the worker and everything it started
    exit_code: Callable[[float], int | None]  # its exit code, waiting up to the timeout
    scratch: str
    close: Callable[[], None] = lambda: None
    #: how many bytes of frames the writer surely takes without blocking, even while the
    #: worker reads none: what calls sent ahead may hold (0: none is sent ahead, as on a
    #: pipe of a few kB)
    room: int = 0


def socket_receiver(sock) -> Callable[[float], object]:
    """Frames read straight from a socket, with a timeout per frame."""
    import socket as _socket
    import struct

    def exact(n: int, deadline: float) -> bytes:
        chunks = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            chunk = sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError("stream closed")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def receive(timeout: float):
        deadline = time.monotonic() + (timeout if timeout > 0 else 1e9)
        try:
            (size,) = struct.unpack(">Q", exact(8, deadline))
            if size > wire.MAX_FRAME_BYTES:
                return wire.WireError(f"message of {size} bytes exceeds {wire.MAX_FRAME_BYTES}")
            return wire.unpack(exact(size, deadline))
        except (TimeoutError, _socket.timeout):
            return None
        except EOFError as exc:
            return exc
        except (wire.WireError, OSError, ValueError) as exc:
            return exc
    return receive


class SocketWriter:
    """A write-only stream on a socket that always sends everything (sendall)."""

    def __init__(self, sock) -> None:
        self.sock = sock

    def write(self, data: bytes) -> int:
        self.sock.settimeout(None)
        self.sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def thread_receiver(stream) -> Callable[[float], object]:
    """Frames read by a thread from a pipe (where select cannot wait on one: Windows)."""
    replies: queue.Queue = queue.Queue()

    def loop() -> None:
        try:
            while True:
                replies.put(wire.read_frame(stream))
        except EOFError:
            replies.put(EOFError())
        except (wire.WireError, OSError, ValueError) as exc:
            replies.put(exc)
    threading.Thread(target=loop, daemon=True).start()

    def receive(timeout: float):
        try:
            return replies.get(timeout=timeout if timeout > 0 else None)
        except queue.Empty:
            return None
    return receive


#: what each field of a worker's frame must be ("value" may be any plain data). Student
#: code runs in the worker and can write frames of its own to the worker's socket, so
#: the grader checks every field before it uses one: a forged frame costs that
#: function its points, never the grading.
_STRINGS = ("status", "type", "message", "traceback")
_STRING_LISTS = ("mutated", "aliased", "frameworks_loaded", "mro", "replaced",
                 "frameworks_at_import")


def _strings(value) -> bool:
    return type(value) is list and all(type(v) is str for v in value)


def _malformed(frame: dict) -> str | None:
    """What is wrong with a worker's frame, or None."""
    for key in _STRINGS:
        if key in frame and type(frame[key]) is not str:
            return f"its {key!r} is not text"
    for key in _STRING_LISTS:
        if key in frame and not _strings(frame[key]):
            return f"its {key!r} is not a list of texts"
    for key in ("code", "pid"):
        if key in frame and type(frame[key]) is not int:
            return f"its {key!r} is not a whole number"
    if "fatal" in frame and type(frame["fatal"]) is not bool:
        return "its 'fatal' is not true or false"
    warnings = frame.get("warnings", [])
    if type(warnings) is not list or not all(
            type(w) is dict and all(type(k) is str and type(v) is str for k, v in w.items())
            for w in warnings):
        return "its 'warnings' are not records of texts"
    output = frame.get("output", {})
    if type(output) is not dict or type(output.get("text", "")) is not str \
            or type(output.get("dropped", 0)) is not int:
        return "its 'output' is not a record of the text printed"
    return None


def _raised(message: dict) -> Raised:
    return Raised(str(message.get("type", "Exception")),
                  tuple(str(m) for m in message.get("mro", [message.get("type", "")])),
                  str(message.get("message", "")), str(message.get("traceback", "")))


def _tail(path: Path, limit: int = 1500) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return str(code)


class Ahead:
    """The calls a check is about to make, in order, as frames (:meth:`WorkerProcess.ahead`).

    ``queued`` are still to send, ``sent`` were sent and not asked for yet;
    ``missed`` is whether the check asked for another call than the next of them.
    """

    def __init__(self, frames) -> None:
        self.queued = collections.deque(frames)
        self.sent: collections.deque = collections.deque()
        self.missed = False

    def asked(self, frame: bytes) -> str | None:
        """Whether ``frame`` is the next call, taken off if so: ``"sent"`` (its reply is on
        its way) or ``"to send"``; None if not (a miss: nothing more is sent)."""
        following = self.sent or self.queued
        if following and following[0] == frame:
            following.popleft()
            return "sent" if following is self.sent else "to send"
        if following:
            self.missed = True
        self.queued.clear()
        return None

    def to_send(self, room: int) -> bytes | None:
        """The next frame to send now, or None while it does not fit in ``room`` bytes
        (a larger one is sent when it is asked for, as a call made then)."""
        if not self.queued or len(self.sent) >= AHEAD_CALLS or \
                sum(map(len, self.sent)) + len(self.queued[0]) > room:
            return None
        frame = self.queued.popleft()
        self.sent.append(frame)
        return frame


class WorkerProcess:
    """One live worker process for one student function.

    ``launch`` starts the process (from the warm server or as a fresh
    interpreter) and returns its :class:`Channel`; ``source`` reads the
    student's module (never executed by the grader).
    """

    def __init__(self, launch: Callable[[], Channel], task: str, target: str,
                 limits: sandbox.Limits, source: Callable[[], str], origin: str = "",
                 helpers: "Helpers | None" = None) -> None:
        self.launch = launch
        #: answers the questions of the stand-ins of the module's other functions
        self.helpers = helpers
        self.source = source
        #: where the module's source came from when not a file of the student's (a notebook
        #: cell: ``Submission.sources``), for the hint of an import that fails
        self.origin = origin
        self.task = task
        self.target = target
        self.limits = limits
        self._channel: Channel | None = None
        self._exit_code: int | None = None
        self._ahead: Ahead | None = None
        self.ready: dict = {}
        self.output: list[dict] = []

    # -- lifecycle -------------------------------------------------------
    def start(self) -> dict:
        try:
            self._channel = self.launch()
        except (OSError, RuntimeError) as exc:
            raise WorkerUnavailable(f"could not start a worker for {self.target}: {exc}") \
                from exc
        self._exit_code = None
        alive = self._reply(ALIVE_TIMEOUT_S)
        if not (isinstance(alive, dict) and alive.get("status") == "alive"):
            code = self._channel.exit_code(5.0)
            self.close()
            detail = (alive.get("message") if isinstance(alive, dict) else None) or (
                f"it exited with code {code}" if code is not None else f"it answered {alive!r}")
            raise WorkerUnavailable(
                f"the worker for {self.task}.py could not start before any of its code ran "
                f"({detail}); check --memory-mb and the installation")
        reply = self._wait(self.limits.start_timeout_s, f"importing {self.task}.py",
                           module=True)
        status = reply.get("status")
        if status == "ready":
            self.ready = reply
            return reply
        self.close()
        if status == "import_error":
            raised = _raised(reply)
            text = f"{self.task}.py could not be imported: {raised.type}: {raised.message}"
            if raised.traceback.strip():
                text += "\n" + raised.traceback.rstrip()
            raise StudentImportFailed(text, _habit_hint(raised) or _import_hint(self.task,
                                                                               self.origin))
        if status == "missing":
            raise StudentUnavailable(str(reply.get("message")),
                                     f"Keep the name and signature of {self.target} from the stub.")
        raise StudentCrashed(f"the worker answered {status!r} while importing {self.task}.py")

    def _reply(self, timeout: float):
        """The next frame, EOFError, an exception, or None on timeout; notes 'exited'."""
        reply = self._channel.receive(timeout)
        if reply is None:
            return None
        if isinstance(reply, dict):
            problem = _malformed(reply)
            if problem:
                return wire.WireError(f"a frame whose fields are not what they should be "
                                      f"({problem})")
        if isinstance(reply, dict) and reply.get("status") == "exited":
            self._exit_code = int(reply.get("code", 0))
            return EOFError()
        if isinstance(reply, dict) and reply.get("output"):
            self.output.append(reply["output"])
        return reply

    def _wait(self, timeout: float, doing: str, module: bool = False) -> dict:
        who = f"{self.task}.py" if module else self.target
        deadline = time.monotonic() + timeout
        reply = self._reply(timeout)
        while isinstance(reply, dict) and reply.get("status") == "helper":
            self._answer(reply)
            left = deadline - time.monotonic()
            reply = self._reply(left) if left > 0 else None
        if reply is None:
            self.close()
            raise StudentTimeout(
                f"{who} took longer than {timeout:g} s ({doing}) and was stopped",
                (f"Code at the top level of {who} runs when the grader imports it: put tries "
                 f"and demos under `if __name__ == \"__main__\":`, and look for an endless "
                 f"loop.") if module else
                "Look for an endless loop, or work that grows much faster than the input.")
        if isinstance(reply, EOFError):
            raise self._crash(doing, who)
        if isinstance(reply, Exception):
            self.close()
            raise StudentCrashed(f"the worker sent a malformed reply while {doing}: {reply}",
                                 "Return plain NumPy arrays and Python numbers.")
        if reply.get("status") == "sandbox_error":
            self.close()
            raise WorkerUnavailable(f"the worker for {self.task}.py could not enter its "
                                    f"sandbox: {reply.get('message')}")
        return reply

    def _answer(self, question: dict) -> None:
        """Answer a stand-in's question (``grader.helpers``); a worker that is gone is
        reported by the reply of the call it stopped in."""
        answer = self.helpers.answer(question) if self.helpers is not None else {
            "status": "raised", "type": "RuntimeError",
            "message": f"the grader answers no helper while {self.target} is graded"}
        try:
            frame = wire.frame({"op": "answer", **answer})
        except wire.WireError as exc:  # an oracle's answer too large to travel
            frame = wire.frame({"op": "answer", "status": "raised", "type": "MemoryError",
                                "message": str(exc)})
        try:
            self._channel.writer.write(frame)
            self._channel.writer.flush()
        except OSError:
            pass

    def _crash(self, doing: str, who: str) -> StudentCrashed:
        channel = self._channel
        code = self._exit_code
        if code is None and channel is not None:
            code = channel.exit_code(10.0)
        stderr = _tail(Path(channel.scratch) / "stderr.txt") if channel else ""
        self.close()
        if code is None:
            how = "stopped unexpectedly (it was killed or exited)"
        elif code < 0:
            how = f"was killed by signal {_signal_name(-code)}"
        else:
            how = f"exited with code {code}"
        hint = ""
        if code is not None and -code in (9, 24):  # SIGKILL, SIGXCPU
            hint = ("It may have used more memory or CPU time than allowed "
                    f"({self.limits.memory_mb} MB, {self.limits.cpu_s} s).")
        text = f"the process running {who} {how} while {doing}"
        if stderr.strip():
            text += f"; its last output:\n{stderr.strip()[-800:]}"
        return StudentCrashed(text, hint or "Do not exit the process or call os._exit; "
                              "return a value instead.")

    def request(self, message: dict, timeout: float, doing: str) -> dict:
        """The reply to ``message`` (a call is waited for ``timeout`` seconds from now)."""
        frame = wire.frame(message)
        taken = self._ahead.asked(frame) if self._ahead is not None else None
        if taken is None:
            self._stop_ahead()
        if taken != "sent":
            self._send(frame, doing)
        self._send_ahead()
        return self._wait(timeout, doing)

    def _send(self, frame: bytes, doing: str) -> None:
        if self._channel is None:
            self.start()
        try:
            self._channel.writer.write(frame)
            self._channel.writer.flush()
        except (BrokenPipeError, OSError):
            raise self._crash(doing, self.target) from None

    def _send_ahead(self) -> None:
        """Send the next calls of the block, as many as the window takes. A worker that
        is gone is not reported here: the reply of the call it stopped in says so."""
        run = self._ahead
        while run is not None and self._channel is not None:
            frame = run.to_send(self._channel.room)
            if frame is None:
                return
            try:
                self._channel.writer.write(frame)
                self._channel.writer.flush()
            except OSError:
                run.queued.clear()
                return

    @contextlib.contextmanager
    def ahead(self, messages):
        """While in this block, ``messages`` (the calls the check is about to make, in
        order) are sent before it asks for them, a few at a time: each reply is on its way
        when asked for, instead of each call waiting for the round trip of the one before.

        The worker runs exactly the calls it would have run, in the same order, as long
        as the check asks for these. A request that is not the next of them, or the end
        of the block with some sent and not asked for (a check that stopped early), stops
        the worker, with whatever it ran ahead: the next call starts a fresh one, and what
        follows is asked one by one. A call's timeout counts from when it is asked for.
        Yields the :class:`Ahead` (``missed``: the check asked for another call).
        """
        try:
            frames = [wire.frame(m) for m in messages]
        except wire.WireError:  # a call that cannot be sent fails when it is made
            frames = []
        self._stop_ahead()
        run = self._ahead = Ahead(frames)
        try:
            yield run
        finally:
            if self._ahead is run:
                self._stop_ahead()

    def _stop_ahead(self) -> None:
        run, self._ahead = self._ahead, None
        if run is not None and run.sent:
            self.close(at_once=True)  # it ran ahead of the check: that goes with it

    def take_output(self) -> list[dict]:
        out, self.output = self.output, []
        return out

    def close(self, at_once: bool = False) -> None:
        """Stop the worker: asked to exit (waited for 2 s), or ``at_once`` killed."""
        channel, self._channel = self._channel, None
        self._ahead = None
        if channel is None:
            return
        try:
            if not at_once:
                wire.write_frame(channel.writer, {"op": "exit"})
                if channel.exit_code(2.0) is None:
                    channel.kill()
        except Exception:  # noqa: BLE001 - it is going away either way
            pass
        channel.kill()
        try:
            channel.writer.close()
        except OSError:
            pass
        channel.close()
        import shutil

        shutil.rmtree(channel.scratch, ignore_errors=True)


@dataclass
class StudentFunction:
    """What a check receives: the student's function, callable across processes.

    After ``max_strikes`` timeouts or crashes the function is not run again in
    this grading; later calls raise the last problem at once. The runner
    shares one ``_strikes`` list among all the checks of a function, and one
    ``shared`` dict, in which checks may keep what they drew through the
    function for the next check (the statistical checks share their samples).
    ``framework`` is how a check asks Keras or TensorFlow for the expected
    answer (the grader itself never imports them). ``memory`` holds the
    property-based examples this grader process already drew and the expected
    values it computed, for the next submission (``grader.memory``).
    """

    name: str
    worker: WorkerProcess
    call_timeout_s: float = 20.0
    max_strikes: int = 2
    _strikes: list = field(default_factory=list)
    shared: dict = field(default_factory=dict)
    #: ``framework(name, *args)``: what Keras/TensorFlow compute
    #: (``grader.oracles.keras_calls``), answered outside the grader's process
    framework: Callable | None = None
    memory: object | None = None
    #: while :meth:`first_call` runs: where the request is noted instead of made
    _noting: list | None = field(default=None, repr=False)

    def _request(self, message: dict, what: str) -> dict:
        if self._noting is not None:
            self._noting.append(message)
            raise _Noted
        if len(self._strikes) >= self.max_strikes:
            last = self._strikes[-1]
            raise type(last)(f"not run again after {len(self._strikes)} failures; "
                             f"the last: {last.message}", last.hint)
        try:
            return self.worker.request(message, self.call_timeout_s, f"running {what}")
        except (StudentTimeout, StudentCrashed) as problem:
            self._strikes.append(problem)
            raise

    def first_call(self, run: Callable[[], object]) -> dict | None:
        """The first request ``run()`` makes through this function, found without making
        it: ``run`` is stopped there. None if it makes none (or stops before, on an error
        it will meet again when it runs for real)."""
        self._noting = noted = []
        try:
            run()
        except (_Noted, Exception):  # noqa: BLE001 - an error is met again when run for real
            pass
        finally:
            self._noting = None
        return noted[0] if noted else None

    def ahead(self, messages):
        """``WorkerProcess.ahead``: these calls, about to be made, sent before they are
        asked for (none once the function is not run again)."""
        return self.worker.ahead(messages if len(self._strikes) < self.max_strikes else ())

    def ahead_of(self, runs):
        """:meth:`ahead` for the first call of each of ``runs`` (:meth:`first_call`), in
        order: the calls they are about to make, found before any is made."""
        return self.ahead([m for run in runs if (m := self.first_call(run)) is not None])

    def in_turn(self, runs: list[Callable[[], object]]) -> list:
        """``[run() for run in runs]``, each run's call sent to the worker ahead
        (:meth:`ahead_of`): for a fixed list of inputs, where every run makes one call
        whose arguments are known before any of them runs. A run that raises stops the
        list there, and the worker with what it ran ahead."""
        with self.ahead_of(runs):
            return [run() for run in runs]

    def call(self, *args, _post: str | None = None, _expected: str | None = None,
             **kwargs) -> Call:
        """Run the function; a student exception is returned in ``Call.raised``.

        ``_expected`` names the exception class a check asks for (a refusal:
        ``"ValueError"``): one of it comes back without its traceback, which no
        message shows and the worker would format hundreds of times a grading.
        """
        what = f"{self.name}(...)"
        request = {"op": "call", "args": list(args), "kwargs": kwargs, "post": _post}
        if _expected is not None:
            request["expected"] = _expected
        reply = self._request(request, what)
        status = reply.get("status")
        if status == "not_implemented":
            raise StudentNotImplemented(
                f"{self.name} still raises NotImplementedError",
                f"Implement {self.name} in {self.worker.task}.py (its docstring says how).")
        if status == "raised":
            if reply.get("fatal"):  # the worker exits: start a clean one next time
                self.worker.close()
            return Call(raised=_raised(reply))
        if status == "bad_value":
            raise StudentCrashed(f"{self.name} returned a value that cannot be graded: "
                                 f"{reply.get('message')}",
                                 "Return NumPy arrays of sensible size and plain numbers.")
        if status != "ok":
            raise StudentCrashed(f"unexpected reply {status!r} from the worker")
        return Call(value=reply.get("value"),
                    mutated=tuple(reply.get("mutated") or ()),
                    aliased=tuple(reply.get("aliased") or ()),
                    warnings=tuple(reply.get("warnings") or ()),
                    frameworks_loaded=tuple(reply.get("frameworks_loaded") or ()))

    def __call__(self, *args, **kwargs):
        """Run the function and return its value; a student exception is an error."""
        result = self.call(*args, **kwargs)
        if result.raised is not None:
            raise StudentRaised(result.raised, f"{self.name}{_signature(args, kwargs)}")
        return result.value

    def value(self) -> object:
        """The module attribute itself (the quiz's ``ANSWERS``)."""
        reply = self._request({"op": "value"}, self.name)
        if reply.get("status") != "ok":
            raise StudentCrashed(f"could not read {self.name}: {reply.get('status')}")
        return reply.get("value")

    def captured(self, lines: int = 20) -> str:
        """What the function printed since the last time this was asked (the first lines)."""
        parts = self.worker.take_output()
        if not parts:
            return ""
        text = "".join(str(p.get("text", "")) for p in parts)
        dropped = sum(int(p.get("dropped", 0)) for p in parts)
        shown = text.splitlines()
        out = "\n".join(shown[:lines])
        more = len(shown) - lines
        if more > 0:
            out += f"\n... ({more} more lines)"
        if dropped:
            out += f"\n... ({dropped} more characters not kept)"
        return out


def _short(value) -> str:
    import numpy as np

    if isinstance(value, np.ndarray):
        return f"<array {value.shape}>"
    if isinstance(value, wire.Rng):
        return "rng"
    if isinstance(value, wire.Fn):
        return f"<function {value.name}>"
    if isinstance(value, list) and len(value) > 4:
        return f"[{len(value)} items]"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _signature(args, kwargs) -> str:
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def module_source(student: StudentFunction) -> str:
    """The text of the student's module (read, never executed, by the grader)."""
    return student.worker.source()
