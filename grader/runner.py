"""Run the checks of one submission and build its :class:`Report`.

Checks are grouped by student function; each group gets its own worker
process from the pool (so a monkeypatch or crash in one function cannot
touch another) and groups run in parallel threads. A module that fails to
import is imported once: its other functions reuse the verdict instead of
waiting again. The runner knows tasks only through their batteries.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import platform
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from typing import Callable

import numpy as np

from grader import sandbox, scoring
from grader.battery import Battery
from grader.check import Check, CheckFailed, CheckSkipped, Figure
from grader.contract import POINTS, TASKS
from grader.results import CheckResult, Report, TaskResult
from grader.student import (StudentFunction, StudentImportFailed, StudentProblem,
                            StudentTimeout, StudentUnavailable, WorkerUnavailable)
from grader.submission import Submission

__all__ = ["GraderBug", "RunOptions", "run", "check_rng", "versions", "function_key"]


class GraderBug(Exception):
    """A check failed for a reason that is not the student's: never graded as theirs."""


@dataclass(frozen=True)
class RunOptions:
    seed: int = 0
    tasks: tuple[str, ...] = TASKS
    jobs: int = 2
    limits: sandbox.Limits = sandbox.Limits()
    #: grade only these functions of the selected tasks (None: all of them)
    functions: tuple[str, ...] | None = None
    #: also run the picture checks (for the HTML report and --plots)
    figures: bool = False


def check_rng(seed: int, check_id: str) -> np.random.Generator:
    """The rng of one check: depends on the seed and the id, not on run order."""
    return np.random.default_rng([seed, zlib.crc32(check_id.encode())])


def versions() -> dict:
    """The versions a grade depends on (read from metadata: nothing is imported)."""
    def version(dist: str):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None
    from grader import __version__

    tf = version("tensorflow") or version("tensorflow-cpu")
    return {"python": platform.python_version(), "grader": __version__,
            "numpy": version("numpy"), "scipy": version("scipy"),
            "hypothesis": version("hypothesis"), "torch": version("torch"), "tensorflow": tf,
            "keras": version("keras")}


def _available(framework: str) -> bool:
    return importlib.util.find_spec(framework) is not None


def function_key(task: str, function: str) -> str:
    return f"{task}.{function}"


def _result(check: Check, units: int, status: str, message: str = "", hint: str = "",
            evidence: str = "", output: str = "", mistake: str = "") -> CheckResult:
    return CheckResult(id=check.id, function=check.function, kind=check.kind, status=status,
                       units=units if status == "passed" else 0, max_units=units,
                       message=message, hint=hint, evidence=evidence, output=output,
                       visibility=check.visibility, gated=check.gated, mistake=mistake)


class _ImportMemo:
    """Per-module verdict of a failed import, shared by the function groups."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {t: threading.Lock() for t in TASKS}
        self._failed: dict[str, StudentProblem] = {}

    def start(self, worker) -> None:
        with self._locks[worker.task]:
            if worker.task in self._failed:
                raise self._failed[worker.task]
            try:
                worker.start()
            except StudentImportFailed as problem:
                self._failed[worker.task] = problem
                raise
            except StudentUnavailable:
                raise
            except StudentProblem as problem:  # timeout or crash while importing
                self._failed[worker.task] = type(problem)(problem.message, problem.hint)
                raise


def _limits(battery: Battery, limits: sandbox.Limits) -> sandbox.Limits:
    """The battery's profile applied to the run's limits (scaled like --timeout)."""
    scale = limits.call_timeout_s / sandbox.Limits().call_timeout_s
    memory = int(limits.memory_mb * battery.profile.memory_factor) if limits.memory_mb else 0
    return dataclasses.replace(limits, memory_mb=memory,
                               start_timeout_s=battery.profile.start_timeout_s * scale)


def _timeout(check: Check, limits: sandbox.Limits) -> float:
    """The check's own limit, scaled by --timeout (whose default is 20 s)."""
    return check.timeout_s * limits.call_timeout_s / sandbox.Limits().call_timeout_s


class _Gate:
    """The gate of one function (the battery names it), run at most once."""

    def __init__(self, gate: Callable | None, function: str, worker, seed: int,
                 timeout_s: float, strikes: list, shared: dict) -> None:
        self.run = gate
        self.function = function
        self.student = StudentFunction(function, worker, call_timeout_s=timeout_s,
                                       _strikes=strikes, shared=shared)
        self.seed = seed
        self._done = False
        self._failure: Exception | None = None

    def outcome(self) -> Exception | None:
        """None when the gate is open, else the CheckFailed or StudentProblem."""
        if not self._done and self.run is not None:
            self._done = True
            try:
                self.run(self.student, check_rng(self.seed, f"gate.{self.function}"))
            except (CheckFailed, StudentProblem) as failure:
                self._failure = failure
            except WorkerUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001
                raise GraderBug(f"the gate of {self.function} failed inside the grader: "
                                f"{type(exc).__name__}: {exc}") from exc
        return self._failure


def _waiting(check: Check, units: int, function: str, failure: Exception) -> CheckResult:
    """The result of a gated check whose gate is closed."""
    if isinstance(failure, StudentProblem):
        return _result(check, units, failure.status, failure.message, failure.hint)
    return _result(check, units, "failed",
                   f"waits for correct basic values: this property earns points once "
                   f"{function} gives correct results on basic inputs ({failure.message})",
                   "Fix the value checks of this function first.")


def _run_one(check: Check, student: StudentFunction, units: int, seed: int) -> CheckResult:
    try:
        message = check.run(student, check_rng(seed, check.id))
    except CheckFailed as failure:
        return _result(check, units, "failed", failure.message, failure.hint or check.hint,
                       failure.evidence, student.captured(), failure.mistake)
    except CheckSkipped as skipped:
        return dataclasses.replace(_result(check, units, "skipped", skipped.message,
                                           skipped.hint), pending=skipped.pending)
    except StudentProblem as problem:
        hint = problem.hint
        if isinstance(problem, StudentTimeout) and not hint:
            hint = "Look for an endless loop."
        return _result(check, units, problem.status, problem.message, hint,
                       output=student.captured())
    except WorkerUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - turned into a loud grader error
        raise GraderBug(f"check {check.id} failed inside the grader: "
                        f"{type(exc).__name__}: {exc}") from exc
    if isinstance(message, Figure):
        return dataclasses.replace(_result(check, units, "passed", message.caption,
                                           output=student.captured()),
                                   figure=message.to_dict())
    return _result(check, units, "passed", message or "", output=student.captured())


class _Session:
    """One worker of a group of checks (``members``: function, its checks, its strikes),
    with its gates and what its checks draw through it, kept open across the group's
    parts: the checks that compare with TensorFlow run in a later part, in the same
    worker, queued behind every group's other checks (see :func:`run`).

    A group is one function, or the functions whose checks all read one attribute
    of the module (the quiz's questions): nothing of the student's runs between
    their checks but reading it. ``strikes`` (timeouts and crashes of a function)
    are shared with the function's other group.
    """

    def __init__(self, submission: Submission, battery: Battery, units: dict[str, int],
                 options: RunOptions, pool, memo: _ImportMemo,
                 progress: Callable[[CheckResult], None], memory=None) -> None:
        self.submission, self.battery, self.units = submission, battery, units
        self.options, self.pool, self.memo = options, pool, memo
        self.progress, self.memory = progress, memory
        self.worker = None
        self.pending = 0  # the parts still to run or running; the last one closes it
        self._lock = threading.Lock()
        self.startup_problem: StudentProblem | None = None
        self.shared: dict = {}  # what its gates and checks draw through it, for the next
        self.gates: dict[str, _Gate] = {}

    def run(self, members: list[tuple[str, list[Check], list]]
            ) -> dict[str, list[CheckResult]]:
        """The results of ``members``' checks, by function."""
        results: dict[str, list[CheckResult]] = {f: [] for f, _, _ in members}
        units = self.units

        def done(function: str, res: CheckResult) -> None:
            results[function].append(res)
            self.progress(res)

        runnable = []
        for function, checks, strikes in members:
            for check in checks:
                missing = [f for f in check.requires if not _available(f)]
                if missing:
                    done(function, _result(
                        check, units[check.id], "skipped",
                        f"{' and '.join(missing)} is not installed, so this check cannot run",
                        "Install the course environment (see the README)."))
                else:
                    runnable.append((function, check, strikes))
        if not runnable:
            return results
        task = self.battery.task
        if not self.submission.has_module(task):
            for function, check, _ in runnable:
                done(function, _result(check, units[check.id], "error",
                                       self.submission.missing_message(task),
                                       self.submission.missing_hint(task)))
            return results
        limits = _limits(self.battery, self.options.limits)
        if self.worker is None:
            self.worker = self.pool.worker(self.submission, self.battery, members[0][0],
                                           limits)
            try:
                self.memo.start(self.worker)
            except StudentProblem as problem:
                self.startup_problem = problem
        worker, seed = self.worker, self.options.seed
        for function, check, strikes in runnable:  # at the limit of the function's first check
            if function not in self.gates:
                self.gates[function] = _Gate(self.battery.gates.get(function), function,
                                             worker, seed, _timeout(check, limits), strikes,
                                             self.shared)
        for function, check, strikes in runnable:
            t0 = time.perf_counter()
            gate = self.gates[function]
            if self.startup_problem is not None:
                res = _result(check, units[check.id], self.startup_problem.status,
                              self.startup_problem.message, self.startup_problem.hint)
            elif check.gated and gate.outcome() is not None:
                res = _waiting(check, units[check.id], function, gate.outcome())
            else:
                student = StudentFunction(function, worker,
                                          call_timeout_s=_timeout(check, limits),
                                          _strikes=strikes, shared=self.shared,
                                          framework=self.pool.framework, memory=self.memory)
                res = _run_one(check, student, units[check.id], seed)
            done(function, dataclasses.replace(res, duration_s=time.perf_counter() - t0))
        return results

    def release(self) -> None:
        """One part is done (or will never run): the last one closes the worker."""
        with self._lock:
            self.pending -= 1
            last = self.pending == 0
        if last:
            self.close()

    def close(self) -> None:
        if self.worker is not None:
            worker, self.worker = self.worker, None
            worker.close()


def _join(groups: list, battery: Battery, function: str, checks: list[Check],
          strikes: list) -> None:
    """Add ``function``'s checks to ``groups``: to the last group when that group's
    functions read the same attribute of the module (one worker serves them all)."""
    if groups:
        last, members = groups[-1]
        if last is battery and battery.target(members[0][0]) == battery.target(function):
            members.append((function, checks, strikes))
            return
    groups.append((battery, [(function, checks, strikes)]))


def run(submission: Submission, batteries: tuple[Battery, ...], options: RunOptions, pool,
        progress: Callable[[CheckResult], None] = lambda r: None, cache=None,
        memory=None) -> Report:
    """Grade ``submission`` with the batteries of ``options.tasks``.

    ``pool`` makes the workers (``grader.workers``); ``cache`` (optional,
    ``grader.cache``) holds earlier results of unchanged functions;
    ``memory`` (optional, ``grader.memory``) what earlier gradings of this
    process drew.
    """
    t0 = time.perf_counter()
    selected = [dataclasses.replace(b, checks=tuple(c for c in b.checks if options.figures
                                                    or not c.figure))
                for b in batteries if b.task in options.tasks]
    units = scoring.allocate([c for b in selected for c in b.checks], POINTS)

    def wanted(function: str) -> bool:
        return options.functions is None or function in options.functions

    groups = [(b, f, [c for c in b.checks if c.function == f])
              for b in sorted(selected, key=lambda b: -b.profile.priority) for f in b.functions
              if wanted(f)]
    memo = _ImportMemo()
    by_group: dict[tuple[str, str], list[CheckResult]] = {}
    early, late = [], []
    for battery, function, checks in groups:
        reused = cache.lookup(battery.task, function, checks, units) if cache else None
        if reused is not None:
            by_group[(battery.task, function)] = reused
            for res in reused:
                progress(res)
            continue
        # the checks that compare with TensorFlow run last, when the server that imports it
        # is ready; the rest of the function's checks go first (before them, the function's
        # other checks would wait behind the whole NumPy grading, 0.6 s later on a cold
        # check)
        strikes: list = []
        now = [c for c in checks if "tensorflow" not in c.requires]
        then = [c for c in checks if "tensorflow" in c.requires]
        for part, where in ((now, early), (then, late)):
            if part:
                _join(where, battery, function, part, strikes)
    # a function's checks that compare with TensorFlow continue in the worker of its other
    # checks (one worker per function, whatever the timing), queued behind every group's
    # other checks: while TensorFlow's server imports, the rest of the grading goes on
    sessions = [_Session(submission, b, units, options, pool, memo, progress, memory)
                for b, _ in early]
    owner = {(b.task, f): i for i, (b, members) in enumerate(early) for f, _, _ in members}
    parts: list[tuple[Battery, list, _Session, int | None]] = []
    for i, (b, members) in enumerate(early):
        parts.append((b, members, sessions[i], None))
    for b, members in late:
        owners = {owner.get((b.task, f)) for f, _, _ in members}
        first = owners.pop() if len(owners) == 1 else None
        session = (sessions[first] if first is not None else
                   _Session(submission, b, units, options, pool, memo, progress, memory))
        parts.append((b, members, session, first))
    for _, _, session, _ in parts:
        session.pending += 1

    def one(k: int, wait: Callable[[int], None]):
        _, members, session, first = parts[k]
        try:
            if first is not None:
                wait(first)  # the part before it, in the same worker
            return session.run(members)
        finally:
            session.release()

    if options.jobs == 1:  # in this thread, one group after another
        try:
            done = [(parts[k][0], one(k, lambda first: None)) for k in range(len(parts))]
        finally:  # after a failure, the parts that never ran
            for _, _, session, _ in parts:
                session.close()
    else:
        threads = ThreadPoolExecutor(max_workers=options.jobs)
        futures: list = []

        def wait(first: int) -> None:
            futures[first].result()  # a failure there stops the grading: this part never runs

        try:
            for k in range(len(parts)):
                futures.append(threads.submit(one, k, wait))
            done = [(parts[k][0], future.result()) for k, future in enumerate(futures)]
        except BaseException:  # Ctrl-C: do not wait for running groups; closing the pool
            threads.shutdown(wait=False, cancel_futures=True)  # ends their workers
            for k in range(len(parts)):  # a part that will never run
                if k >= len(futures) or futures[k].cancelled():
                    parts[k][2].release()
            raise
        threads.shutdown()
    order = {c.id: i for b in selected for i, c in enumerate(b.checks)}
    fresh: dict[tuple[str, str], list[CheckResult]] = {}
    for battery, by_function in done:
        for function, results in by_function.items():
            fresh.setdefault((battery.task, function), []).extend(results)
    for (task, function), results in fresh.items():
        results.sort(key=lambda r: order[r.id])
        by_group[(task, function)] = results
        if cache is not None:
            cache.store(task, function, results)
    tasks = []
    for battery in selected:  # function by function (the points table's order)
        ordered = tuple(r for f in battery.functions if wanted(f)
                        for r in by_group[(battery.task, f)])
        if ordered:
            tasks.append(TaskResult(battery.task, ordered))
    notes = submission.notes + tuple(n for n in (pool.note(),) if n)
    return Report(submission=submission.given, seed=options.seed, tasks=tuple(tasks),
                  duration_s=time.perf_counter() - t0, versions=versions(), notes=notes,
                  sources=dict(submission.sources))
