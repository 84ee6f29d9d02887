"""Wall time of grading the reference, against a baseline measured in the same run.

The baseline is a bare ``python -c "import numpy, scipy.stats, torch,
tensorflow"``: the least any grader that touches both frameworks must pay.
Each is run ``--repeat`` times, alternating, and the medians and their ratio
are printed. Run: ``python -m bench.grading_time [--repeat 3] [--task NAME]``.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
BASELINE = [sys.executable, "-c", "import numpy, scipy.stats, torch, tensorflow"]


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.grading_time")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--task", action="append", default=[])
    args = parser.parse_args(argv)
    grade = [sys.executable, "-m", "grader", "check", "reference", "--quiet",
             "--format", "json", *[f"--task={t}" for t in args.task]]
    base, graded = [], []
    for _ in range(args.repeat):
        base.append(_timed(BASELINE))
        graded.append(_timed(grade))
    b, g = statistics.median(base), statistics.median(graded)
    print(f"baseline  import numpy, scipy.stats, torch, tensorflow : {b:6.1f} s (median of "
          f"{args.repeat})")
    print(f"grader    check reference {' '.join(args.task) or '(all tasks)':>22} : {g:6.1f} s")
    print(f"ratio     grading / baseline                            : {g / b:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
