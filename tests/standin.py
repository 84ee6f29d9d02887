"""An in-process stand-in for the worker pool, for the tests of the checks.

The student's module is imported here (under a private name), its other API
functions are handed over to stand-ins whose questions the grader's
``Helpers`` answer, packed and unpacked as in a worker, and every call goes
through ``grader.worker``'s own call logic with the request and
the reply packed and unpacked by ``grader.wire``: a check sees the same plain
data as in a real worker. What it does not give is isolation: it is for
banks of deliberately broken *maths*, never for hostile code (the real
pipeline is tested end to end through the command line).
"""
from __future__ import annotations

import contextlib
import importlib.util
import itertools
import sys
import traceback

from grader import contract, extract, materialize, testfns  # noqa: F401 - as a worker has them
from grader import wire
from grader.parsing import read_source
from grader import worker as worker_module
from grader.workers import framework_in_process, worker_helpers
from grader.student import Ahead, StudentImportFailed, StudentUnavailable

__all__ = ["InProcessPool", "exchange"]

_counter = itertools.count()


class _Worker:
    def __init__(self, submission, battery, function: str, limits) -> None:
        self.submission = submission
        self.battery = battery
        self.task = battery.task
        self.target = battery.target(function)
        self.function = function
        self.limits = limits
        self.module = None
        self.output: list[dict] = []
        self.announced: Ahead | None = None

    def source(self) -> str:
        return read_source(self.submission.module_path(self.task))

    def start(self) -> dict:
        path = self.submission.module_path(self.task)
        name = f"_standin_{self.task}_{next(_counter)}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # noqa: BLE001
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            raise StudentImportFailed(f"{self.task}.py could not be imported: {text}") from None
        if not hasattr(module, self.target):
            raise StudentUnavailable(f"{self.task}.py defines no {self.target!r}")
        helpers = worker_helpers(self.battery, self.function)
        worker_module.substitute_helpers(module, self.target,
                                         sorted(helpers.names) if helpers else (),
                                         lambda question: exchange(helpers, question),
                                         helpers.deterministic if helpers else ())
        self.module = module
        self.graders = frozenset(m for m in sys.modules if m.split(".")[0] == "grader")
        return {"status": "ready"}

    @contextlib.contextmanager
    def ahead(self, messages):
        """Nothing travels ahead here; the calls announced are matched against those made
        (``missed``), as a worker's are."""
        run = self.announced = Ahead([wire.frame(m) for m in messages])
        try:
            yield run
        finally:
            self.announced = None

    def request(self, message: dict, timeout: float, doing: str) -> dict:
        if self.announced is not None:
            self.announced.asked(wire.frame(message))
        if self.module is None:
            self.start()
        message = wire.unpack(wire.pack(message))
        target = getattr(self.module, self.target)
        if message.get("op") == "value":
            reply = {"status": "ok", "value": target, "mutated": [], "aliased": [],
                     "warnings": [], "frameworks_loaded": []}
        else:
            guard = worker_module.Guard((self.graders, len(sys.modules)))  # per call: the
            reply = worker_module.call_target(target, message,  # grader runs between calls
                                              str(self.submission.root), guard)
        try:
            return wire.unpack(wire.pack(reply))
        except wire.WireError as exc:
            return {"status": "bad_value", "message": str(exc)}

    def take_output(self) -> list[dict]:
        out, self.output = self.output, []
        return out

    def close(self) -> None:
        self.module = None


def exchange(helpers, question: dict) -> dict:
    """A stand-in's question and its answer, packed and unpacked as they travel."""
    try:
        question = wire.unpack(wire.pack(question))
    except wire.WireError as exc:
        raise TypeError(f"cannot pass this to the grader: {exc}") from None
    return wire.unpack(wire.pack({"op": "answer", **helpers.answer(question)}))


class InProcessPool:
    """Makes stand-in workers; nothing to start or stop. Keras answers in this process."""

    framework = staticmethod(framework_in_process)

    def worker(self, submission, battery, function: str, limits) -> _Worker:
        return _Worker(submission, battery, function, limits)

    def note(self) -> str:
        return ""

    def close(self) -> None:
        pass
