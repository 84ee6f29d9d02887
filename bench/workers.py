"""Where a batch's time per student goes: the grader, the workers, their round trips.

A batch grader keeps its warm servers and its memory (replayed examples, expected
values) from one
student to the next (``grader batch``). This study grades the reference
``--students`` times (5 by default) in one process the same way and reports,
for each further student (the first draws the examples and imports the
libraries):

* the wall time, the CPU time of the whole machine (``/proc/stat``) and that
  of the grader process, and how many workers it started; and the checks
  that take longest (each from its start to its result, its worker's calls
  included);
* what one worker costs (start, import of the module, exit; wall and machine
  CPU) from each of the two servers a grading starts (``grader.workers``),
  against the baseline of one ``fork`` and exit of this same process;
* what one call costs across the wire (a trivial function), against calling
  the same function in this process and against the baseline of a bare round
  trip of a few bytes on a Unix socket to a forked child that echoes them (the
  kernel's part), and how much of it is the grader's own CPU;
* further students whose replayed properties send their calls to the worker
  ahead (``grader.properties``), against the same students with every call
  one by one, taken in turns in the same pool (``--students`` of each);
* the floor: the same further student graded with no worker process at all
  (the tests' in-process stand-in pool, ``tests/standin.py``: the student's
  code runs in this process, every request and reply still goes through the
  wire encoding, and a tamper guard is taken per call, which a real worker
  takes once; Keras' answers are kept from one student to the next, as a
  batch's pool keeps them). What the checks, the student's code and the
  encoding cost with no isolation: a batch cannot grade a further student
  for less CPU than this, whatever its workers cost.

Linux only (warm servers, ``/proc/stat``). Run:
``python -m bench workers [--students 5] [--workers 30] [--calls 500]``.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from bench.machine import machine_cpu

__all__ = ["main", "floor_cpu", "as_the_grader_runs"]

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("initializers", "batchnorm", "diagnostics", "frameworks", "quiz")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Counting:
    """A worker pool that counts the workers it starts (delegates everything else)."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self.started = 0

    def worker(self, *args, **kwargs):
        self.started += 1
        return self.pool.worker(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.pool, name)


def _students(pool, n: int) -> list[tuple[float, float, float, int, dict]]:
    from grader.memory import Memory
    from grader.grading import grade
    from grader.runner import RunOptions
    from grader.submission import locate

    counting, memory, rows = _Counting(pool), Memory(), []
    submission = locate(str(ROOT / "reference"))
    for _ in range(n):
        counting.started = 0
        t0, m0, c0 = time.perf_counter(), machine_cpu(), _own_cpu()
        report = grade(submission, RunOptions(seed=0, tasks=TASKS, jobs=2), pool=counting,
                       memory=memory)
        rows.append((time.perf_counter() - t0, machine_cpu() - m0, _own_cpu() - c0,
                     counting.started, {c.id: c.duration_s for c in report.checks}))
        if report.units != report.max_units:
            raise SystemExit(f"the reference scored {report.score} / {report.max_score}")
    return rows


def _ahead_or_not(pool, n: int) -> dict[bool, list[tuple[float, float]]]:
    """Further students whose replays send their calls ahead, or make them one by one
    (``grader.memory.Memory.ahead``), taken in turns: wall and machine CPU of each."""
    from grader.grading import grade
    from grader.memory import Memory
    from grader.runner import RunOptions
    from grader.submission import locate

    submission, rows = locate(str(ROOT / "reference")), {True: [], False: []}
    memories = {ahead: Memory(ahead=ahead) for ahead in rows}
    for memory in memories.values():  # the first student draws what the others replay
        grade(submission, RunOptions(seed=0, tasks=TASKS, jobs=2), pool=pool, memory=memory)
    for i in range(n):
        for ahead in ((True, False) if i % 2 else (False, True)):
            t0, m0 = time.perf_counter(), machine_cpu()
            report = grade(submission, RunOptions(seed=0, tasks=TASKS, jobs=2), pool=pool,
                           memory=memories[ahead])
            rows[ahead].append((time.perf_counter() - t0, machine_cpu() - m0))
            if report.units != report.max_units:
                raise SystemExit(f"the reference scored {report.score} / {report.max_score}")
    return rows


def as_the_grader_runs() -> None:
    """Set, before any framework is imported, what the grader program sets: TensorFlow
    quiet and without oneDNN's custom operations, Keras on TensorFlow, one OpenMP thread."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def floor_cpu(n: int) -> list[float]:
    """CPU seconds of each further student graded in this process (no workers)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from standin import InProcessPool

    from grader.grading import grade
    from grader.memory import Memory
    from grader.runner import RunOptions
    from grader.submission import locate
    from grader.workers import framework_in_process

    class KeptAnswers(InProcessPool):  # as a batch's pool keeps Keras' answers
        def __init__(self) -> None:
            self.answers = Memory()

        def framework(self, name: str, *args, **kwargs):
            return self.answers.expected(framework_in_process, name, *args, **kwargs)

    pool, memory, cpu = KeptAnswers(), Memory(), []
    submission = locate(str(ROOT / "reference"))
    for _ in range(n):
        c0 = _own_cpu()
        report = grade(submission, RunOptions(seed=0, tasks=TASKS, jobs=1), pool=pool,
                       memory=memory)
        cpu.append(_own_cpu() - c0)
        if report.units != report.max_units:
            raise SystemExit(f"in process, the reference scored {report.score}")
    return cpu[1:]


def _fork_baseline(n: int) -> tuple[float, float]:
    t0, m0 = time.perf_counter(), machine_cpu()
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    return (time.perf_counter() - t0) / n, (machine_cpu() - m0) / n


def _worker_cost(pool, battery, function: str, n: int) -> tuple[float, float]:
    """Start and close ``n`` workers of the reference's ``function`` (its server is the one
    ``grader.workers`` picks for it): wall and machine CPU of one."""
    from grader import sandbox
    from grader.runner import _limits
    from grader.submission import locate

    submission, limits = locate(str(ROOT / "reference")), _limits(battery, sandbox.Limits())
    t0, m0 = time.perf_counter(), machine_cpu()
    for _ in range(n):
        worker = pool.worker(submission, battery, function, limits)
        worker.start()
        worker.close()
    return (time.perf_counter() - t0) / n, (machine_cpu() - m0) / n


def _call_cost(pool, battery, n: int) -> tuple[float, float, float]:
    import importlib

    from grader import sandbox
    from grader.runner import _limits
    from grader.student import StudentFunction
    from grader.submission import locate

    submission, limits = locate(str(ROOT / "reference")), _limits(battery, sandbox.Limits())
    worker = pool.worker(submission, battery, "calculate_gain", limits)
    worker.start()
    try:
        remote = StudentFunction("calculate_gain", worker)
        t0, c0 = time.perf_counter(), _own_cpu()
        for _ in range(n):
            remote("relu")
        across, own = (time.perf_counter() - t0) / n, (_own_cpu() - c0) / n
    finally:
        worker.close()
    local = importlib.import_module("grader.oracles.initializers").calculate_gain
    t0 = time.perf_counter()
    for _ in range(n):
        local("relu")
    return across, (time.perf_counter() - t0) / n, own


def _bare_round_trip(n: int, size: int = 200) -> float:
    """Wall time of one round trip of ``size`` bytes between this process and a forked
    child that echoes them on a Unix socket: what the kernel alone costs a call."""
    import socket

    mine, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # reads and writes only: nothing of torch or TensorFlow runs here
        try:
            mine.close()
            while True:
                data = os.read(theirs.fileno(), 65536)
                if not data:
                    break
                os.write(theirs.fileno(), data)
        finally:
            os._exit(0)
    theirs.close()
    message = b"x" * size
    try:
        t0 = time.perf_counter()
        for _ in range(n):
            mine.sendall(message)
            got = 0
            while got < size:
                chunk = mine.recv(65536)
                if not chunk:
                    raise RuntimeError("the echoing child of the baseline went away")
                got += len(chunk)
        return (time.perf_counter() - t0) / n
    finally:
        mine.close()
        os.waitpid(pid, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench workers")
    parser.add_argument("--students", type=int, default=5)
    parser.add_argument("--workers", type=int, default=30)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("bench workers: Linux only (warm servers, /proc/stat)", file=sys.stderr)
        return 2
    as_the_grader_runs()
    sys.path.insert(0, str(ROOT))
    from grader.grading import load_batteries, open_workers

    batteries = load_batteries(TASKS)
    pool = open_workers(batteries)
    try:
        rows = _students(pool, max(2, args.students))[1:]
        by_task = {b.task: b for b in batteries}
        fork_wall, fork_cpu = _fork_baseline(args.workers)
        costs = [(server, _worker_cost(pool, by_task[task], function, args.workers))
                 for server, task, function in (("numpy", "initializers", "he_normal"),
                                                ("frameworks", "frameworks",
                                                 "build_keras_model"))]
        across, local, own_per_call = _call_cost(pool, by_task["initializers"], args.calls)
        bare = _bare_round_trip(args.calls)
        ahead = _ahead_or_not(pool, max(2, args.students))
    finally:
        pool.close()
    floor = floor_cpu(max(2, args.students))
    wall, machine, own = (statistics.median(r[i] for r in rows) for i in range(3))
    started = statistics.median(r[3] for r in rows)
    print(f"a further student (median of {len(rows)}): {wall:.2f} s wall, {machine:.2f} CPU-s "
          f"on the machine, {own:.2f} CPU-s in the grader, {started:g} workers")
    checks = {k: statistics.median(r[4][k] for r in rows) for k in rows[0][4]}
    slowest = sorted(checks, key=checks.get, reverse=True)[:8]
    print(f"the checks that take longest (wall, median; {sum(checks.values()):.2f} s for all "
          f"{len(checks)}, two at a time): "
          + ", ".join(f"{k} {checks[k] * 1e3:.0f} ms" for k in slowest))
    for server, (wall_, cpu_) in costs:
        print(f"one worker of the {server + ' server':17s}: {wall_ * 1e3:6.1f} ms wall, "
              f"{cpu_ * 1e3:6.1f} ms CPU = {cpu_ / fork_cpu:.1f} x the baseline")
    print(f"baseline: fork and exit of the grader : {fork_wall * 1e3:6.1f} ms wall, "
          f"{fork_cpu * 1e3:6.1f} ms CPU")
    print(f"one call across the wire              : {across * 1e6:6.0f} us, "
          f"{across / local:.0f} x calling it in the grader ({local * 1e6:.1f} us), "
          f"{across / bare:.1f} x the baseline; {own_per_call * 1e6:.0f} us of it is the "
          f"grader's own CPU")
    print(f"baseline: a bare round trip on a socket: {bare * 1e6:6.0f} us")
    (w1, c1), (w0, c0) = [[statistics.median(r[i] for r in ahead[a]) for i in range(2)]
                          for a in (True, False)]
    print(f"replays' calls sent ahead / one by one (in turns, median of {len(ahead[True])}): "
          f"{w1:.2f} / {w0:.2f} s wall = {w1 / w0:.2f}, {c1:.2f} / {c0:.2f} CPU-s on the "
          f"machine = {c1 / c0:.2f}")
    print(f"floor: a further student with no worker process (median of {len(floor)}): "
          f"{statistics.median(floor):.2f} CPU-s = {statistics.median(floor) / machine:.2f} x "
          f"the batch's {machine:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
