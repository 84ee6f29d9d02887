"""A class through ``grader batch``, against one cold ``grader check`` per student.

``--students`` copies of the reference (20 by default) are graded with
``grader batch --jobs 2`` (``--repeat`` times, 3 by default, each into a
fresh output folder: one batch lasts half a minute, and its time varies from
run to run more than that of twenty checks; the median counts, and the
range is printed), and, in the same run, ``--cold`` of them (all by default)
with one ``grader check --no-cache`` each, one after the other: what grading
a class with a shell loop costs. The cold checks are taken in ``--repeat``
shares, one after each batch, so that a machine that slows down or speeds up
during the run (seen here: a cold check from 7.1 to 9.1 s on one day) weighs
on both sides of the ratio alike. The ratio is the batch's median wall time
over the cold runs' (scaled to all students when ``--cold`` is smaller, which
the output says). Goal: at most 1/8.

It also prints the batch's steady state: the median time a grader spends on
one student (its first student draws the property-based examples the next
ones replay, and the batch's start imports the libraries once) over the
number of graders, against one cold check: what each further student costs.
Last, where the batch's time goes (start-up and waits, each grader's first
student, the later ones) and what the goal leaves for each later student once
the start-up and the first students are paid (in a grader's time: the graders
grade side by side); and the same in CPU (Linux, ``/proc/stat``):
what the whole machine spent on the batch and on a cold check, and what 1/8
leaves for each further student once one cold check's worth is paid for the
batch's start (its imports and its first student), beside the floor, measured
at the end of the same run as ``python -m bench workers`` does (``--floor``
copies of the reference graded in this process with no worker at all; 4 by
default, the first not counted; none with ``--mistakes``): the difference is
what the workers, their sandboxes and their round trips may cost at most. (The
floor is a little above what grading with no isolation costs: the stand-in
packs every request and reply, and takes a tamper guard per call.)

With ``--mistakes`` each copy carries one deliberately broken function per
NumPy task instead, drawn (seeded by the student's number) from the banks of
``tests/banks``: a class that loses points, whose failing properties are
searched and shrunk, as a real class's are.

Run: ``python -m bench batch [--students 20] [--cold 20] [--jobs 2] [--repeat 3]
[--floor 4] [--mistakes]``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.machine import machine_cpu

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


def _timed(cmd: list[str], gradebook: Path | None = None) -> tuple[float, float | None]:
    """Run ``cmd``: its wall time, and the CPU the whole machine spent meanwhile."""
    t0, m0 = time.perf_counter(), machine_cpu()
    proc = subprocess.run(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall, m1 = time.perf_counter() - t0, machine_cpu()
    if proc.returncode != 0:
        why = proc.stderr[-2000:]
        if gradebook is not None and gradebook.exists():  # the rows of those not graded
            with open(gradebook, newline="", encoding="utf-8") as fh:
                why += "".join(f"\n{r['student']}: {r['status']}: {r['message']}"
                               for r in csv.DictReader(fh) if r["status"] != "graded")
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {why}")
    return wall, (m1 - m0 if m0 is not None and m1 is not None else None)


def _rows(out: Path) -> list[dict]:
    """The gradebook's rows, each with the duration its student's ``outcome.json`` gives to
    the millisecond (the gradebook's tenths of a second would show the steady state, half
    of one, in steps of 0.05 s)."""
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        outcome = out / "students" / row["student"] / "outcome.json"
        if outcome.exists():
            row["duration_s"] = str(json.loads(outcome.read_text(encoding="utf-8"))
                                    .get("duration_s", row["duration_s"]))
    return rows


def _class(klass: Path, n: int, mistakes: bool) -> None:
    """``n`` copies of the reference in ``klass``; with ``mistakes``, each copy with one
    bank mistake per NumPy task appended to that task's module."""
    banks = {}
    if mistakes:
        sys.path.insert(0, str(ROOT / "tests"))
        from banks import batchnorm, diagnostics, initializers
        banks = {m.__name__.rsplit(".", 1)[-1]: m.BROKEN
                 for m in (initializers, batchnorm, diagnostics)}
    for i in range(n):
        student = klass / f"student{i:02d}"
        shutil.copytree(ROOT / "reference", student,
                        ignore=shutil.ignore_patterns("__pycache__", ".grader-cache"))
        pick = random.Random(i)
        for task, broken in banks.items():
            with open(student / f"{task}.py", "a", encoding="utf-8") as fh:
                fh.write("\n\n" + textwrap.dedent(pick.choice(broken).source) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench batch")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--cold", type=int, default=None,
                        help="how many cold checks to time (default: one per student)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--mistakes", action="store_true",
                        help="one bank mistake per NumPy task in each copy")
    parser.add_argument("--repeat", type=int, default=3,
                        help="how many times to time the batch (the median counts)")
    parser.add_argument("--floor", type=int, default=4,
                        help="copies of the reference graded in this process with no "
                             "worker at the end, the first one not counted (0: none; none "
                             "with --mistakes)")
    args = parser.parse_args(argv)
    cold_n = args.students if args.cold is None else max(1, min(args.cold, args.students))
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        klass = Path(tmp) / "class"
        _class(klass, args.students, args.mistakes)
        runs, timed = [], []  # one batch takes half a minute: its time varies more than
        repeat = max(1, args.repeat)  # 20 checks'; each is followed by its share of those
        for k in range(repeat):  # checks, so that both halves see the same machine
            out = Path(tmp) / f"out{k}"
            wall, cpu = _timed([sys.executable, "-m", "grader", "batch", str(klass),
                                "--output-dir", str(out), "--jobs", str(args.jobs)],
                               out / "gradebook.csv")
            runs.append((wall, cpu, _rows(out)))
            timed += [_timed([sys.executable, "-m", "grader", "check",
                              str(klass / f"student{i:02d}"), "--no-cache", "--quiet",
                              "--format", "json"])
                      for i in range(k * cold_n // repeat, (k + 1) * cold_n // repeat)]
        runs.sort(key=lambda run: run[0])
        batch, batch_cpu, rows = runs[len(runs) // 2]
        scores = sorted({float(r["score"]) for _, _, rr in runs for r in rr})
    cold = [wall for wall, _ in timed]
    cold_total = sum(cold) * args.students / cold_n
    what = "with 3 mistakes each" if args.mistakes else ""
    shown = (f"scores {scores[0]:g} to {scores[-1]:g}" if len(scores) > 1
             else f"scores {scores[0]:g}")
    spread = (f"median of {len(runs)}, {runs[0][0]:.1f} to {runs[-1][0]:.1f} s; "
              if len(runs) > 1 else "")
    print(f"grader batch, {args.students} copies of the reference{' ' + what if what else ''}, "
          f"--jobs {args.jobs}: {batch:7.1f} s ({spread}{batch / args.students:.2f} s per "
          f"student; {shown})")
    scaled = "" if cold_n == args.students else f" (mean of {cold_n}, scaled to {args.students})"
    print(f"{args.students} cold `grader check` runs, one after the other     : "
          f"{cold_total:7.1f} s ({cold_total / args.students:.2f} s each){scaled}")
    print(f"ratio batch / cold: {batch / cold_total:.3f} = 1/{cold_total / batch:.1f} "
          f"(goal: at most 1/8); {os.cpu_count()} cores")
    each = statistics.median(float(r["duration_s"]) for r in rows) / args.jobs
    print(f"steady state: {each:.2f} s per further student (median per grader / {args.jobs} "
          f"graders) = 1/{cold_total / args.students / each:.1f} of a cold check")
    _budget(batch, cold_total, rows, args.jobs)
    cold_cpu = [cpu for _, cpu in timed if cpu is not None]
    if batch_cpu is not None and cold_cpu:
        one = statistics.mean(cold_cpu)
        allowed = (os.cpu_count() or 1) * cold_total / 8
        each = (allowed - one) / max(1, args.students - 1)
        left = f"{each:.2f} CPU-s for each further student" if each > 0 else "nothing"
        print(f"CPU on the whole machine: the batch {batch_cpu:.1f} CPU-s, a cold check "
              f"{one:.1f} CPU-s; at 1/8 the batch may spend {allowed:.1f} CPU-s (every core "
              f"busy throughout): after one cold check's worth for its start, that leaves "
              f"{left} (now about {(batch_cpu - one) / max(1, args.students - 1):.2f})")
        if args.floor >= 2 and not args.mistakes:
            _floor_line(args.floor, each, (batch_cpu - one) / max(1, args.students - 1))
    return 0


def _floor_line(n: int, allowed: float, now: float) -> None:
    """The floor (``python -m bench workers``: a further student graded in this process,
    no worker at all) beside what 1/8 allows: what is left for isolation to cost."""
    from bench.workers import as_the_grader_runs, floor_cpu

    as_the_grader_runs()
    floor = statistics.median(floor_cpu(n))
    room = allowed - floor
    print(f"floor: a further student graded with no worker at all costs {floor:.2f} CPU-s "
          f"(median of {n - 1}); at 1/8, workers, sandboxes and round trips may cost "
          + (f"{room:.2f} CPU-s per further student (now about {now - floor:.2f})"
             if room > 0 else "nothing: the floor alone is more than 1/8 allows"))


def _budget(batch: float, cold_total: float, rows: list[dict], jobs: int) -> None:
    """Where the batch's time goes, and what the goal of 1/8 leaves per further student.

    Graders take the students in name order, so the first ``jobs`` rows are each grader's
    first student (it draws the examples the others replay, or waits for them); what the
    durations do not cover, per grader, is the start-up (imports, servers), the waits
    and the idle ends. At 1/8 each grader has the goal's time less that; the first
    students take their share of it, and the later ones share the rest."""
    durations = [float(r["duration_s"]) for r in sorted(rows, key=lambda r: r["student"])]
    first, later = durations[:jobs], durations[jobs:]
    if not later:
        return
    start = batch - sum(durations) / jobs
    left = jobs * (cold_total / 8 - start) - sum(first)  # graders' seconds for the later
    print(f"where the batch's time goes: {start:.1f} s start-up, waits and idle ends, "
          f"{max(first):.1f} s a grader's first student, {statistics.median(later):.2f} s "
          f"each later one (per grader)")
    print(f"at 1/8 the batch may take {cold_total / 8:.1f} s: after the start-up and the "
          f"first students, its {jobs} graders have {max(0.0, left):.1f} s for {len(later)} "
          f"later students, {max(0.0, left) / len(later):.2f} s each (now "
          f"{statistics.median(later):.2f} s)")


if __name__ == "__main__":
    sys.exit(main())
