"""How fast a student's loop is: each row a ratio against a baseline measured in the same run.

Every row times a command and its baseline ``--repeat`` times, alternating
(so that a slow minute of the machine slows both), and prints the medians and
their ratio, with the goal of each row:

=====================  ===========================================  =======
row                    baseline                                     goal
=====================  ===========================================  =======
reference              ``import numpy, scipy.stats, torch, tf``     ≤ 1.3
stubs                  the same                                     ≤ 1.3
task X (NumPy tasks)   the imports that task's checks need          ≤ 1.5
task quiz              ``import numpy``                             ≤ 3
one function           ``import numpy, scipy.stats, torch``         ≤ 1.5
re-check, unchanged    the full check of the reference              ≤ 0.1
re-check, one edit     grading that module's task alone             ≤ 1.1
frameworks.py hangs    the full check of the reference              ≤ 3
pictures               the full check of the reference              (none)
=====================  ===========================================  =======

The ``pictures`` row is the full check with ``--plots DIR`` (the pictures
computed in the workers and drawn as PNG files, as ``--format html`` does):
the time the pictures add; they carry no points, so the row has no goal.

Run: ``python -m bench speed [--repeat 3] [--row NAME ...]``.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main", "ROWS"]

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ALL_IMPORTS = "import numpy, scipy.stats, torch, tensorflow"
#: what each NumPy task's checks import (numpy, scipy's tests, the frameworks they compare to)
TASK_IMPORTS = {"initializers": ALL_IMPORTS, "batchnorm": ALL_IMPORTS,
                "diagnostics": ALL_IMPORTS}
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


def _run(cmd: list[str], cwd: Path = ROOT) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return elapsed


def _check(path: Path, *args: str) -> list[str]:
    return [PY, "-m", "grader", "check", str(path), "--quiet", "--format", "json", *args]


def _imports(code: str) -> list[str]:
    return [PY, "-c", code]


def _copy(src: Path, into: Path) -> Path:
    if into.exists():
        shutil.rmtree(into)
    shutil.copytree(src, into, ignore=shutil.ignore_patterns(".grader-cache", "__pycache__"))
    return into


class _Edited:
    """A copy of the reference whose cache is warm except for one module, edited each time."""

    def __init__(self, where: Path, task: str) -> None:
        self.path = _copy(ROOT / "reference", where / "edited")
        self.task = task
        self.count = 0
        _run(_check(self.path))  # fills the cache

    def __call__(self) -> list[str]:
        self.count += 1
        with open(self.path / f"{self.task}.py", "a", encoding="utf-8") as fh:
            fh.write(f"\n# edit {self.count}\n")
        return _check(self.path)


def _rows(where: Path) -> dict:
    """name -> (what, command maker, baseline maker, goal); a maker returns a command."""
    ref, stubs = ROOT / "reference", ROOT / "assignment"
    cached = _copy(ref, where / "cached")
    hung = _copy(ref, where / "hung")
    source = (hung / "frameworks.py").read_text(encoding="utf-8")
    (hung / "frameworks.py").write_text("import time\ntime.sleep(10 ** 6)\n" + source,
                                        encoding="utf-8")
    edited: dict[str, _Edited] = {}

    def edit(task):
        def make():
            if task not in edited:
                edited[task] = _Edited(where, task)
            return edited[task]()
        return make

    rows = {
        "reference": ("check reference (all tasks)", lambda: _check(ref, "--no-cache"),
                      lambda: _imports(ALL_IMPORTS), 1.3),
        "stubs": ("check the stubs (all tasks)", lambda: _check(stubs, "--no-cache"),
                  lambda: _imports(ALL_IMPORTS), 1.3),
    }
    for task, code in TASK_IMPORTS.items():
        rows[f"task-{task}"] = (f"check reference --task {task}",
                                lambda t=task: _check(ref, "--no-cache", "--task", t),
                                lambda c=code: _imports(c), 1.5)
    rows["task-quiz"] = ("check reference --task quiz",
                         lambda: _check(ref, "--no-cache", "--task", "quiz"),
                         lambda: _imports("import numpy"), 3.0)
    # the README's example of a narrowed check: a function with no Keras check waits for
    # no TensorFlow (none is imported for it, and a pool does not wait for an import)
    rows["one-function"] = ("check reference --task initializers --function xavier_uniform",
                            lambda: _check(ref, "--no-cache", "--task", "initializers",
                                           "--function", "xavier_uniform"),
                            lambda: _imports("import numpy, scipy.stats, torch"), 1.5)
    _run(_check(cached))  # warm the cache once
    rows["recheck-unchanged"] = ("re-check, nothing changed (cached)", lambda: _check(cached),
                                 lambda: _check(ref, "--no-cache"), 0.1)
    rows["recheck-edited"] = ("re-check after editing diagnostics.py", edit("diagnostics"),
                              lambda: _check(ref, "--no-cache", "--task", "diagnostics"), 1.1)
    rows["hung-import"] = ("frameworks.py hangs at import", lambda: _check(hung, "--no-cache"),
                           lambda: _check(ref, "--no-cache"), 3.0)
    rows["pictures"] = ("check reference with the pictures", lambda: _check(
        ref, "--no-cache", "--plots", str(where / "plots")), lambda: _check(ref, "--no-cache"),
        math.inf)
    return rows


ROWS = ("reference", "stubs", "task-initializers", "task-batchnorm", "task-diagnostics",
        "task-quiz", "one-function", "recheck-unchanged", "recheck-edited", "hung-import",
        "pictures")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench speed")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--row", action="append", choices=ROWS, default=[])
    args = parser.parse_args(argv)
    chosen = args.row or list(ROWS)
    print(f"{'row':20} {'what':40} {'target s':>9} {'baseline s':>11} {'ratio':>6} {'goal':>5}")
    worst = []
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        rows = _rows(Path(tmp))
        for name in chosen:
            what, target, baseline, goal = rows[name]
            t, b = [], []
            for _ in range(args.repeat):
                b.append(_run(baseline()))
                t.append(_run(target()))
            tm, bm = statistics.median(t), statistics.median(b)
            ratio = tm / bm
            mark = "" if goal == math.inf else "ok" if ratio <= goal else "MISS"
            worst.append((name, ratio, goal))
            print(f"{name:20} {what:40} {tm:9.2f} {bm:11.2f} {ratio:6.2f} {goal:5.1f} {mark}".replace(" inf", "   -"),
                  flush=True)
    print(f"(medians of {args.repeat}, alternating; {os.cpu_count()} cores, Python "
          f"{sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
