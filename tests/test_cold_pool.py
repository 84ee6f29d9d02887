"""The fresh-interpreter pool (macOS, Windows) grades as the warm one does.

Linux grades with workers forked from warm servers; elsewhere every worker is
a fresh interpreter (``grader.workers.ColdPool``). Forcing that pool here runs
the students' path on those systems: a subprocess per function, the wire on
its pipes, the start allowance for the imports, the grader's helpers.
"""
from __future__ import annotations

import pytest

from conftest import REFERENCE, make_submission
from grader import sandbox
from grader.grading import grade
from grader.runner import RunOptions
from grader.submission import locate
from grader.workers import ColdPool, open_pool


@pytest.fixture
def cold(monkeypatch):
    monkeypatch.setattr(sandbox, "CAN_FORK", False)


def _grade(path, tasks, functions):
    return grade(locate(str(path)), RunOptions(seed=0, tasks=tasks, jobs=2, functions=functions))


def test_without_fork_every_worker_is_a_fresh_interpreter(cold):
    pool = open_pool(("numpy",))
    try:
        assert isinstance(pool, ColdPool)
        assert "no sandbox" in pool.note()
    finally:
        pool.close()


def test_fresh_interpreters_give_the_reference_full_marks(cold):
    # he_normal calls the grader's torch-backed compute_fans and calculate_gain
    report = _grade(REFERENCE, ("initializers", "quiz"), ("he_normal", "q1", "q7"))
    assert {c.function for c in report.checks} == {"he_normal", "q1", "q7"}
    assert report.units == report.max_units > 0, [
        (c.id, c.status, c.message) for c in report.checks if c.status != "passed"]


def test_fresh_interpreters_report_the_students_own_errors(cold, tmp_path):
    sub = make_submission(tmp_path / "sub", overrides={"initializers": """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            return 1 / 0
    """})
    report = _grade(sub, ("initializers",), ("he_normal",))
    assert report.checks and report.units == 0
    for c in report.checks:
        assert c.status == "error", (c.id, c.status, c.message)
        assert "raised ZeroDivisionError: division by zero" in c.message
        assert 'File "initializers.py", line' in c.message  # the student's file, as given
        assert "grader" not in c.message
