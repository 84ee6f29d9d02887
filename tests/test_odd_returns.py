"""Every function returning values of the wrong kind: that function earns nothing, and the
grading never fails inside the grader (which would cost the whole submission its report)."""
from __future__ import annotations

import pytest

from conftest import grade, make_submission
from grader.contract import POINTS

# each once broke a check, or stands for a kind of value no check expects
_ODD = {
    "None": "None",
    "a word": "'x'",
    "a 0-d array": "np.array(2.0)",
    "an empty array": "np.zeros((0,))",
    "a complex array": "np.zeros((2, 3), dtype=complex)",
    "an all-NaN 2-d array": "np.full((4, 4), np.nan)",
    "a 6-d bool array": "np.zeros((2,) * 6, dtype=bool)",
    "a tuple of an array and a word": "(np.zeros(3), 'x')",
    "a pair holding an int too large for a float": "(10 ** 400, 1)",
}

_FUNCTIONS = [(task, fn) for task in POINTS if task != "quiz" for fn in POINTS[task]]


@pytest.mark.parametrize(("task", "function"), _FUNCTIONS,
                         ids=[f"{t}.{f}" for t, f in _FUNCTIONS])
def test_an_odd_return_value_costs_that_function_its_points_and_nothing_else(
        tmp_path, task, function):
    for i, (kind, value) in enumerate(_ODD.items()):
        sub = make_submission(tmp_path / str(i), overrides={
            task: f"import numpy as np\n\ndef {function}(*args, **kwargs):\n"
                  f"    return {value}\n"})
        report = grade(sub, tasks=(task,), functions=(function,))  # a GraderBug raises here
        passed = [c.id for c in report.checks if c.function == function
                  and c.status == "passed"]
        assert not passed, f"{function} returning {kind} passed {passed}"
        assert report.score == 0, (kind, report.score)


_ODD_ANSWERS = {
    "an int too large for a float": "10 ** 400",
    "a 0-d array": "np.array(-7.25)",  # a number no question has as its answer
    "a one-value array": "np.array([0.5])",
    "an array of letters": "np.array(['A'])",
    "a set of numbers": "{1, 2}",
    "bytes": "b'A'",
    "a dict": "{'A': 1}",
}


@pytest.mark.parametrize("kind", list(_ODD_ANSWERS))
def test_an_odd_answer_scores_nothing_and_never_fails_inside_the_grader(tmp_path, kind):
    sub = make_submission(tmp_path, replace={"quiz": (
        "import numpy as np\n\nANSWERS = {f'q{i}': " + _ODD_ANSWERS[kind]
        + " for i in range(1, 8)}\n")})
    report = grade(sub, tasks=("quiz",))
    assert report.score == 0
    assert {c.status for c in report.checks} == {"failed"}
