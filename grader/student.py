"""The grader's side of a worker: a student function as a callable proxy.

A check receives a :class:`StudentFunction`. Calling it runs the student's
function in the worker process and returns the decoded plain-data value, or
raises one of the :class:`StudentProblem` exceptions below, which the runner
turns into a status (``not_attempted``, ``error``, ``timeout``). A check that
*expects* the student to raise (e.g. ``ValueError`` on a bad shape) uses
:meth:`StudentFunction.call` and inspects ``Call.raised``.
"""
from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

from grader import sandbox, wire

__all__ = [
    "StudentProblem",
    "StudentNotImplemented",
    "StudentRaised",
    "StudentTimeout",
    "StudentCrashed",
    "StudentUnavailable",
    "StudentImportFailed",
    "Raised",
    "Call",
    "WorkerProcess",
    "StudentFunction",
    "module_source",
]


class StudentProblem(Exception):
    """The student's code could not give a value; ``status`` says how."""

    status = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class StudentNotImplemented(StudentProblem):
    status = "not_attempted"


class StudentRaised(StudentProblem):
    status = "error"

    def __init__(self, raised: "Raised", what: str) -> None:
        text = f"{what} raised {raised.type}: {raised.message}".rstrip(": ")
        if raised.traceback.strip():
            text += "\n" + raised.traceback.rstrip()
        super().__init__(text)
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
    warnings: tuple[dict, ...] = ()
    frameworks_loaded: tuple[str, ...] = ()


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


class WorkerProcess:
    """One live worker process for one student function."""

    def __init__(self, submission: Path, task: str, target: str,
                 limits: sandbox.Limits, isolation: sandbox.Isolation,
                 substitute: bool = True) -> None:
        self.submission = submission
        self.task = task
        self.target = target
        self.limits = limits
        self.isolation = isolation
        self.substitute = substitute
        self._proc = None
        self._scratch = None
        self._token = ""
        self._replies: queue.Queue = queue.Queue()
        self.ready: dict = {}

    # -- lifecycle -------------------------------------------------------
    def start(self) -> dict:
        args = ["--submission", str(self.submission), "--task", self.task,
                "--module", self.task, "--target", self.target]
        if self.substitute:
            args.append("--substitute")
        self._proc, self._scratch, self._token = sandbox.spawn(args, self.limits, self.isolation)
        self._replies = queue.Queue()
        threading.Thread(target=self._read_loop, args=(self._proc, self._replies),
                         daemon=True).start()
        reply = self._wait(self.limits.start_timeout_s, "importing the module")
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
            raise StudentImportFailed(text, "Run `python -c \"import "
                                     f"{self.task}\"` in your submission folder to see the error.")
        if status == "missing":
            raise StudentUnavailable(str(reply.get("message")),
                                     f"Keep the name and signature of {self.target} from the stub.")
        raise StudentCrashed(f"the worker answered {status!r} while starting")

    @staticmethod
    def _read_loop(proc, replies: queue.Queue) -> None:
        try:
            while True:
                replies.put(wire.read_frame(proc.stdout))
        except EOFError:
            replies.put(EOFError())
        except (wire.WireError, OSError, ValueError) as exc:
            replies.put(exc)

    def _wait(self, timeout: float, doing: str) -> dict:
        try:
            reply = self._replies.get(timeout=timeout if timeout > 0 else None)
        except queue.Empty:
            self.close()
            raise StudentTimeout(
                f"{self.target} took longer than {timeout:g} s ({doing}) and was stopped",
                "Look for an endless loop, or work that grows much faster than the input.",
            ) from None
        if isinstance(reply, EOFError):
            raise self._crash(doing)
        if isinstance(reply, Exception):
            self.close()
            raise StudentCrashed(f"the worker sent a malformed reply while {doing}: {reply}",
                                 "Return plain NumPy arrays and Python numbers.")
        return reply

    def _crash(self, doing: str) -> StudentCrashed:
        proc = self._proc
        try:
            code = proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            code = None
        stderr = _tail(Path(self._scratch) / "stderr.txt") if self._scratch else ""
        self.close()
        if code is not None and code < 0:
            import signal as _signal
            try:
                how = f"was killed by signal {_signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        hint = ""
        if code is not None and -code in (9, 24):  # SIGKILL, SIGXCPU
            hint = ("It may have used more memory or CPU time than allowed "
                    f"({self.limits.memory_mb} MB, {self.limits.cpu_s} s).")
        text = f"the process running {self.target} {how} while {doing}"
        if stderr.strip():
            text += f"; its last output:\n{stderr.strip()[-800:]}"
        return StudentCrashed(text, hint or "Do not exit the process or call os._exit; "
                              "return a value instead.")

    def request(self, message: dict, timeout: float, doing: str) -> dict:
        if self._proc is None:
            self.start()
        try:
            wire.write_frame(self._proc.stdin, message)
        except (BrokenPipeError, OSError):
            raise self._crash(doing) from None
        return self._wait(timeout, doing)

    def output_tail(self) -> str:
        return _tail(Path(self._scratch) / "stdout.txt") if self._scratch else ""

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.poll() is None:
                    wire.write_frame(proc.stdin, {"op": "exit"})
                    proc.wait(timeout=2)
            except Exception:  # noqa: BLE001 - it is going away either way
                pass
            sandbox.terminate(proc, self._token)
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        if self._scratch:
            import shutil
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


@dataclass
class StudentFunction:
    """What a check receives: the student's function, callable across processes.

    After ``max_strikes`` timeouts or crashes the function is not run again in
    this grading; later calls raise the last problem at once. The runner
    shares one ``_strikes`` list among all the checks of a function.
    """

    name: str
    worker: WorkerProcess
    call_timeout_s: float = 20.0
    max_strikes: int = 2
    _strikes: list = field(default_factory=list)

    def _request(self, message: dict, what: str) -> dict:
        if len(self._strikes) >= self.max_strikes:
            last = self._strikes[-1]
            raise type(last)(f"not run again after {len(self._strikes)} failures; "
                             f"the last: {last.message}", last.hint)
        try:
            return self.worker.request(message, self.call_timeout_s, f"running {what}")
        except (StudentTimeout, StudentCrashed) as problem:
            self._strikes.append(problem)
            raise

    def call(self, *args, _post: str | None = None, **kwargs) -> Call:
        """Run the function; a student exception is returned in ``Call.raised``."""
        what = f"{self.name}(...)"
        reply = self._request({"op": "call", "args": list(args), "kwargs": kwargs,
                               "post": _post}, what)
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
    path = Path(student.worker.submission) / f"{student.worker.task}.py"
    return path.read_text(encoding="utf-8", errors="replace")
