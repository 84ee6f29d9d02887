"""Shared fixtures: submissions made from the reference, graded in-process or end to end.

A *broken submission* is a copy of ``reference/`` whose module for one task
gets extra source appended that redefines one function; grading it must cost
points in that function's checks and nowhere else.

Two ways to grade: :func:`grade` runs the batteries in this process with the
stand-in pool of ``standin.py`` (fast; for banks of broken maths), and
:func:`grade_cli` runs ``python -m grader check`` in a subprocess, with real
warm workers and the sandbox (for the pipeline, hostile code, the CLI).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# as `grader check` does: one thread per process for the numerical libraries. Two test
# processes (pytest -n 2) that each let torch spin a thread per core slow each other
# down many times over on two cores.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from grader.contract import TASKS  # noqa: E402
from grader.grading import Extra, load_batteries  # noqa: E402
from grader.runner import RunOptions, run  # noqa: E402
from grader.sandbox import Limits  # noqa: E402
from grader.submission import locate  # noqa: E402
from standin import InProcessPool  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
STUBS = ROOT / "assignment"


def make_submission(directory: Path, overrides: dict[str, str] | None = None,
                    replace: dict[str, str] | None = None, base: Path = REFERENCE) -> Path:
    """A copy of the reference in ``directory``.

    ``overrides`` maps a task to source appended to its module (redefining
    functions); ``replace`` maps a task to the whole text of its module.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for task in TASKS:
        shutil.copy(base / f"{task}.py", directory / f"{task}.py")
    for task, source in (overrides or {}).items():
        with open(directory / f"{task}.py", "a", encoding="utf-8") as fh:
            fh.write("\n\n# --- deliberately broken ---\n" + textwrap.dedent(source) + "\n")
    for task, source in (replace or {}).items():
        (directory / f"{task}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return directory


def grade(path: Path, tasks=TASKS, seed: int = 0, extra: Extra = Extra(), functions=None,
          figures: bool = False, memory=None, **limits):
    """Grade ``path`` in this process through the stand-in pool (``memory``: the
    examples to replay and expected values to reuse, ``grader.memory``)."""
    options = RunOptions(seed=seed, tasks=tuple(tasks), jobs=1, limits=Limits(**limits),
                         functions=functions, figures=figures)
    return run(locate(str(path)), load_batteries(tuple(tasks), extra), options,
               InProcessPool(), memory=memory)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m grader ARGS`` in a subprocess."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd or ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def grade_cli(path: Path, *args: str, env: dict | None = None) -> dict:
    """The JSON report of ``grader check PATH ARGS`` run in a subprocess (exit 0 expected)."""
    proc = run_cli("check", str(path), "--format", "json", "--no-cache", *args, env=env)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    return json.loads(proc.stdout)


def lost(report) -> dict[str, list[str]]:
    """function -> ids of its checks that did not pass."""
    out: dict[str, list[str]] = {}
    for c in report.checks:
        if c.status != "passed":
            out.setdefault(c.function, []).append(c.id)
    return out


def assert_only(report, function: str) -> None:
    """``function`` lost points, and no other function did."""
    losses = lost(report)
    assert function in losses, f"no check of {function} caught the bug"
    others = {f: ids for f, ids in losses.items() if f != function}
    assert not others, f"other functions lost points too: {others}"


@pytest.fixture
def broken(tmp_path):
    """``broken(task, source)`` grades the reference with ``source`` appended to ``task``."""
    def _grade(task: str, source: str, seed: int = 0, **limits):
        sub = make_submission(tmp_path / "sub", overrides={task: source})
        return grade(sub, tasks=(task,), seed=seed, **limits)
    return _grade


@pytest.fixture(scope="session")
def reference_report():
    return grade(REFERENCE)


@pytest.fixture(scope="session")
def stubs_report():
    return grade(STUBS)
