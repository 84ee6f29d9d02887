"""Run the checks of one submission and build its :class:`Report`.

Checks are grouped by student function; each group gets its own worker
process (so a monkeypatch or crash in one function cannot touch another) and
groups run in parallel threads. A module that fails to import is imported
once: its other functions reuse the verdict instead of waiting again.
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

from grader import gates, sandbox
from grader.check import Check, CheckFailed
from grader.contract import POINTS, TASKS
from grader.results import CheckResult, Report, TaskResult
from grader.student import (StudentFunction, StudentImportFailed, StudentProblem,
                            StudentTimeout, StudentUnavailable, WorkerProcess)
from grader.submission import Submission

__all__ = ["GraderBug", "RunOptions", "run", "check_rng", "versions"]


class GraderBug(Exception):
    """A check failed for a reason that is not the student's: never graded as theirs."""


@dataclass(frozen=True)
class RunOptions:
    seed: int = 0
    tasks: tuple[str, ...] = TASKS
    jobs: int = 2
    limits: sandbox.Limits = sandbox.Limits()


def check_rng(seed: int, check_id: str) -> np.random.Generator:
    """The rng of one check: depends on the seed and the id, not on run order."""
    return np.random.default_rng([seed, zlib.crc32(check_id.encode())])


def versions() -> dict:
    def version(dist: str):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None
    tf = version("tensorflow") or version("tensorflow-cpu")
    return {"python": platform.python_version(), "numpy": np.__version__,
            "torch": version("torch"), "tensorflow": tf}


def _available(framework: str) -> bool:
    return importlib.util.find_spec(framework) is not None


def _points(checks: list[Check]) -> dict[str, float]:
    """Each function's points shared among its checks by weight."""
    out = {}
    by_function: dict[tuple[str, str], list[Check]] = {}
    for c in checks:
        by_function.setdefault((c.task, c.function), []).append(c)
    for (task, function), group in by_function.items():
        total = sum(c.weight for c in group)
        for c in group:
            out[c.id] = POINTS[task][function] * c.weight / total
    return out


def _result(check: Check, points: float, status: str, message: str = "", hint: str = "",
            duration: float = 0.0) -> CheckResult:
    score = points if status == "passed" else 0.0
    return CheckResult(id=check.id, function=check.function, kind=check.kind, status=status,
                       score=score, max_score=points, message=message, hint=hint,
                       duration_s=duration)


class _ImportMemo:
    """Per-module verdict of a failed import, shared by the function groups."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {t: threading.Lock() for t in TASKS}
        self._failed: dict[str, StudentProblem] = {}

    def start(self, worker: WorkerProcess) -> None:
        with self._locks[worker.task]:
            if worker.task in self._failed:
                raise self._failed[worker.task]
            try:
                worker.start()
            except StudentUnavailable as problem:
                if isinstance(problem, StudentImportFailed):
                    self._failed[worker.task] = problem
                raise
            except StudentProblem as problem:  # timeout or crash while importing
                self._failed[worker.task] = problem
                raise


def _run_group(submission: Submission, task: str, function: str, checks: list[Check],
               points: dict[str, float], options: RunOptions, memo: _ImportMemo,
               progress: Callable[[CheckResult], None]) -> list[CheckResult]:
    results: list[CheckResult] = []
    runnable = []
    for check in checks:
        missing = [f for f in check.requires if not _available(f)]
        if missing:
            results.append(_result(
                check, points[check.id], "skipped",
                f"{' and '.join(missing)} is not installed, so this check cannot run",
                "Install the course environment: pip install -e . "
                "(torch==2.13.0 and tensorflow-cpu==2.21.0 on Linux)."))
        else:
            runnable.append(check)
    if not runnable:
        return results
    if not submission.has_module(task):
        for check in runnable:
            results.append(_result(check, points[check.id], "error",
                                   f"the submission has no {task}.py",
                                   f"Copy {task}.py from the shipped assignment/ folder."))
        return results
    target = "ANSWERS" if task == "quiz" else function
    limits = options.limits
    if task == "frameworks" and limits.memory_mb:  # torch + TensorFlow reserve ~2 GB
        limits = dataclasses.replace(limits, memory_mb=4 * limits.memory_mb,
                                     start_timeout_s=2 * limits.start_timeout_s)
    worker = WorkerProcess(submission.root, task, target, limits, sandbox.detect_isolation())
    try:
        try:
            memo.start(worker)
            startup_problem = None
        except StudentProblem as problem:
            startup_problem = problem
        strikes: list = []  # timeouts and crashes of this function, across its checks
        gate = _Gate(task, function, worker, options.seed, _timeout(runnable[0], limits),
                     strikes)
        for check in runnable:
            t0 = time.perf_counter()
            if startup_problem is not None:
                res = _result(check, points[check.id], startup_problem.status,
                              startup_problem.message, startup_problem.hint)
            elif gates.is_gated(check) and gate.outcome() is not None:
                res = gate.result(check, points[check.id])
            else:
                student = StudentFunction(function, worker,
                                          call_timeout_s=_timeout(check, limits),
                                          _strikes=strikes)
                res = _run_one(check, student, points[check.id], options.seed)
            res = dataclasses.replace(res, duration_s=time.perf_counter() - t0)
            results.append(res)
            progress(res)
    finally:
        worker.close()
    return results


def _timeout(check: Check, limits: sandbox.Limits) -> float:
    """The check's own limit, scaled by --timeout (whose default is 20 s)."""
    return check.timeout_s * limits.call_timeout_s / sandbox.Limits().call_timeout_s


class _Gate:
    """The gate of one function (``grader.gates``), run at most once."""

    def __init__(self, task: str, function: str, worker: WorkerProcess, seed: int,
                 timeout_s: float, strikes: list) -> None:
        self.run = gates.gate_for(task, function)
        self.function = function
        self.student = StudentFunction(function, worker, call_timeout_s=timeout_s,
                                       _strikes=strikes)
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
            except Exception as exc:  # noqa: BLE001
                raise GraderBug(f"the gate of {self.function} failed inside the grader: "
                                f"{type(exc).__name__}: {exc}") from exc
        return self._failure

    def result(self, check: Check, points: float) -> CheckResult:
        failure = self._failure
        if isinstance(failure, StudentProblem):
            return _result(check, points, failure.status, failure.message, failure.hint)
        return _result(check, points, "failed",
                       f"not graded yet: this property earns points once {self.function} "
                       f"gives correct results on basic inputs, and it does not: "
                       f"{failure.message}",
                       "Fix the value checks of this function first.")


def _run_one(check: Check, student: StudentFunction, points: float, seed: int) -> CheckResult:
    try:
        message = check.run(student, check_rng(seed, check.id))
    except CheckFailed as failure:
        return _result(check, points, "failed", failure.message, failure.hint or check.hint)
    except StudentProblem as problem:
        hint = problem.hint
        if isinstance(problem, StudentTimeout) and not hint:
            hint = "Look for an endless loop."
        return _result(check, points, problem.status, problem.message, hint)
    except Exception as exc:  # noqa: BLE001 - turned into a loud grader error
        raise GraderBug(f"check {check.id} failed inside the grader: "
                        f"{type(exc).__name__}: {exc}") from exc
    return _result(check, points, "passed", message or "")


def run(submission: Submission, checks: list[Check], options: RunOptions,
        progress: Callable[[CheckResult], None] = lambda r: None) -> Report:
    t0 = time.perf_counter()
    selected = [c for c in checks if c.task in options.tasks]
    points = _points(list(checks))
    groups: dict[tuple[str, str], list[Check]] = {}
    for c in selected:
        groups.setdefault((c.task, c.function), []).append(c)
    memo = _ImportMemo()
    # the slowest groups (framework imports) first, so they overlap the rest
    order = sorted(groups, key=lambda k: k[0] != "frameworks")
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = {key: pool.submit(_run_group, submission, key[0], key[1], groups[key],
                                    points, options, memo, progress) for key in order}
        by_key = {key: f.result() for key, f in futures.items()}
    by_id = {r.id: r for results in by_key.values() for r in results}
    tasks = []
    for task in TASKS:
        if task not in options.tasks:
            continue
        ordered = tuple(by_id[c.id] for c in selected if c.task == task)
        tasks.append(TaskResult(task, ordered))
    notes = ()
    isolation = sandbox.detect_isolation()
    if isolation.note:
        notes = (isolation.note,)
    return Report(submission=submission.given, seed=options.seed, tasks=tuple(tasks),
                  duration_s=time.perf_counter() - t0, versions=versions(), notes=notes)
