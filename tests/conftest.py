"""Shared fixtures: grade real submissions made from the reference.

A *broken submission* is a copy of ``reference/`` whose module for one task
gets extra source appended that redefines one function; grading it must cost
points in that function's checks and nowhere else.
"""
from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

from grader.checks import all_checks
from grader.contract import TASKS
from grader.runner import RunOptions, run
from grader.submission import locate

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
STUBS = ROOT / "assignment"

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.load_profile("ci")


def make_submission(directory: Path, overrides: dict[str, str] | None = None,
                    replace: dict[str, str] | None = None) -> Path:
    """A copy of the reference in ``directory``.

    ``overrides`` maps a task to source appended to its module (redefining
    functions); ``replace`` maps a task to the whole text of its module.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for task in TASKS:
        shutil.copy(REFERENCE / f"{task}.py", directory / f"{task}.py")
    for task, source in (overrides or {}).items():
        with open(directory / f"{task}.py", "a", encoding="utf-8") as fh:
            fh.write("\n\n# --- deliberately broken ---\n" + textwrap.dedent(source) + "\n")
    for task, source in (replace or {}).items():
        (directory / f"{task}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return directory


def grade(path: Path, tasks=TASKS, seed: int = 0, **limits):
    """Grade ``path`` in-process (student code still runs in workers)."""
    from grader.sandbox import Limits

    options = RunOptions(seed=seed, tasks=tuple(tasks), jobs=2, limits=Limits(**limits))
    return run(locate(str(path)), all_checks(), options)


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
