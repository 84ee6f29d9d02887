"""Replayed examples (``grader.memory``): a grade is the same as when hypothesis draws.

A grader process that grades again (the batch's graders, ``grader watch``)
replays the examples it drew before instead of asking hypothesis again. These
tests show that a replay gives exactly the report a fresh search gives, for
the reference and for a broken implementation of every function that has
property-based checks, and that a function cannot pass a replay by changing
its answers from call to call.
"""
from __future__ import annotations

import pytest
from hypothesis import strategies as st

from banks import batchnorm, diagnostics, initializers
from conftest import REFERENCE, grade, make_submission
from grader.check import CheckFailed
from grader.memory import Memory
from grader.properties import for_all
from grader.runner import check_rng
from grader.student import StudentTimeout

NUMPY_TASKS = ("initializers", "batchnorm", "diagnostics")
#: one broken record of every function of the NumPy tasks
SAMPLE = list({(t, r.function): (t, r) for t, bank in
               (("initializers", initializers.BROKEN), ("batchnorm", batchnorm.BROKEN),
                ("diagnostics", diagnostics.BROKEN)) for r in reversed(bank)}.values())


def _seen(report) -> list[tuple]:
    return [(c.id, c.status, c.units, c.message, c.hint, c.evidence, c.mistake)
            for c in report.checks]


@pytest.fixture(scope="module")
def drawn():
    """The examples drawn while grading the reference's NumPy tasks."""
    examples = Memory()
    first = grade(REFERENCE, tasks=NUMPY_TASKS, memory=examples)
    assert len(examples) > 0
    return examples, first


def test_the_reference_replayed_gets_the_same_report(drawn):
    examples, first = drawn
    kept = len(examples)
    again = grade(REFERENCE, tasks=NUMPY_TASKS, memory=examples)
    assert _seen(again) == _seen(first)
    assert len(examples) == kept  # nothing drawn afresh
    assert {c.status for c in again.checks} == {"passed"}


@pytest.mark.parametrize("task, record", SAMPLE, ids=[f"{t}-{r.name}" for t, r in SAMPLE])
def test_a_broken_function_replayed_gets_the_same_report(tmp_path, drawn, task, record):
    examples, _ = drawn
    sub = make_submission(tmp_path / "sub", overrides={task: record.source})
    fresh = grade(sub, tasks=(task,), functions=(record.function,))
    replayed = grade(sub, tasks=(task,), functions=(record.function,), memory=examples)
    assert _seen(replayed) == _seen(fresh)
    assert any(c.status == "failed" for c in replayed.checks)


def test_another_seed_draws_its_own_examples(drawn):
    examples, _ = drawn
    kept = len(examples)
    report = grade(REFERENCE, tasks=("diagnostics",), seed=5, functions=("diagnose",),
                   memory=examples)
    assert len(examples) > kept
    assert _seen(report) == _seen(grade(REFERENCE, tasks=("diagnostics",), seed=5,
                                        functions=("diagnose",)))


def _search(prop, examples, max_examples=30):
    for_all(st.lists(st.integers(-100, 100), max_size=5), prop, check_rng(0, "t.f.p"),
            max_examples=max_examples, memory=examples)


def test_a_replay_tries_the_examples_hypothesis_drew_in_its_order():
    examples = Memory()
    first, second = [], []
    _search(first.append, examples)
    _search(second.append, examples)
    assert len(first) == 30 and second == first


def test_a_failure_in_a_replay_is_searched_again_and_shrunk():
    examples = Memory()
    _search(lambda xs: None, examples)

    def prop(xs):
        if sum(xs) > 50:
            raise CheckFailed(f"sum of {xs} too large")
    with pytest.raises(CheckFailed) as fresh:
        _search(prop, None)
    with pytest.raises(CheckFailed) as replayed:
        _search(prop, examples)
    assert replayed.value.message == fresh.value.message


def test_answers_that_change_between_calls_do_not_pass_a_replay():
    """Wrong on one call of the replay only: the search after it finds nothing, the
    replay's failure stands."""
    examples = Memory()
    _search(lambda xs: None, examples)
    calls = []

    def prop(xs):
        calls.append(xs)
        if len(calls) == 7:
            raise CheckFailed("wrong on the seventh call")
    with pytest.raises(CheckFailed, match="seventh"):
        _search(prop, examples)


def test_a_problem_of_the_student_code_stops_a_replay_at_once():
    examples = Memory()
    _search(lambda xs: None, examples)
    calls = []

    def prop(xs):
        calls.append(xs)
        if len(calls) == 3:
            raise StudentTimeout("took too long")
    with pytest.raises(StudentTimeout):
        _search(prop, examples)
    assert len(calls) == 3


def test_examples_depend_on_the_seed_not_on_the_modules_imported(tmp_path, monkeypatch):
    """Hypothesis can draw literals from the source of imported "local" modules (and keep
    them in ./.hypothesis): the grader turns that off, so that ``--task``, the way the
    grader is installed, or a module of the student's notebook never change the examples."""
    import importlib
    import sys

    import numpy as np

    planted = (271828.18, -314159.26, 123457, -98765)

    def drawn() -> list:
        seen: list = []
        for_all(st.floats(-1e6, 1e6) | st.integers(-10**6, 10**6), seen.append,
                np.random.default_rng(5), max_examples=300)
        return seen

    monkeypatch.chdir(tmp_path)
    before = drawn()
    (tmp_path / "planted_constants.py").write_text(f"VALUES = {planted!r}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("planted_constants")
        after = drawn()
    finally:
        sys.modules.pop("planted_constants", None)
    assert after == before
    assert not set(planted) & set(after)
    assert not (tmp_path / ".hypothesis").exists()


_DRAW = """
import json, sys
import numpy as np
from hypothesis import given, settings, strategies as st
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "planted":
    import planted_constants  # noqa: F401 - its literals, where Hypothesis would look
    @settings(max_examples=300, database=None)
    @given(st.floats(-1e6, 1e6) | st.integers(-10**6, 10**6))
    def before(x):  # a search of someone else's, before the grader's first
        pass
    before()
from grader.properties import for_all
seen = []
for_all(st.floats(-1e6, 1e6) | st.integers(-10**6, 10**6), seen.append,
        np.random.default_rng(5), max_examples=300)
print(json.dumps(seen))
"""


def test_examples_are_the_same_in_a_process_that_drew_constants_before(tmp_path):
    """A notebook kernel or a test run may have run Hypothesis, with local constants,
    before the grader's first search: the grader's examples are still those of a fresh
    process."""
    import json
    import subprocess
    import sys

    from conftest import ROOT

    (tmp_path / "planted_constants.py").write_text("VALUES = (271828.18, -314159.26, "
                                                  "123457, -98765)\n")
    runs = [subprocess.run([sys.executable, "-c", _DRAW, str(tmp_path), mode], cwd=tmp_path,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                           capture_output=True, text=True, timeout=120)
            for mode in ("fresh", "planted")]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    fresh, planted = (json.loads(r.stdout) for r in runs)
    assert planted == fresh
