"""Grading as a whole, in-process: full marks, zeros, module problems, determinism."""
from __future__ import annotations

import sys
import time

import pytest

from conftest import REFERENCE, STUBS, grade, lost, make_submission
from grader.contract import POINTS, TASKS, task_points
from grader.grading import load_batteries


def test_points_add_up_to_100():
    assert sum(task_points(t) for t in TASKS) == pytest.approx(100.0)


def test_every_function_has_checks():
    checked = {(c.task, c.function) for b in load_batteries(TASKS) for c in b.checks}
    assert checked == {(t, f) for t in TASKS for f in POINTS[t]}


def test_reference_scores_full_marks(reference_report):
    failures = {c.id: (c.status, c.message) for c in reference_report.checks
                if c.status != "passed"}
    assert not failures
    assert reference_report.score == 100 and reference_report.max_score == 100


def test_stubs_score_zero_and_only_not_attempted(stubs_report):
    assert stubs_report.score == 0
    assert {c.status for c in stubs_report.checks} == {"not_attempted"}
    for c in stubs_report.checks:
        assert "Traceback" not in c.message and c.message


@pytest.mark.parametrize("seed", [1, 7])
def test_reference_scores_full_marks_at_other_seeds(seed):
    report = grade(REFERENCE, tasks=("initializers", "batchnorm", "diagnostics"), seed=seed)
    assert {c.id: c.message for c in report.checks if c.status != "passed"} == {}


def test_syntax_error_costs_that_module_only(tmp_path):
    sub = make_submission(tmp_path / "s", replace={"diagnostics": "def oops(:\n    pass\n"})
    report = grade(sub, tasks=("diagnostics", "quiz"))
    for c in report.checks:
        if c.task == "diagnostics":
            assert c.status == "error"
            assert "could not be imported" in c.message and "SyntaxError" in c.message
        else:
            assert c.status == "passed", c


def test_missing_function_and_missing_module(tmp_path):
    sub = make_submission(tmp_path / "s", replace={
        "diagnostics": (REFERENCE / "diagnostics.py").read_text().replace(
            "def diagnose(", "def diagnose_renamed(")})
    (sub / "batchnorm.py").unlink()
    report = grade(sub, tasks=("diagnostics", "batchnorm"), functions=(
        "diagnose", "relative_error", "batchnorm_forward", "batchnorm_backward"))
    assert set(lost(report)) == {"diagnose", "batchnorm_forward", "batchnorm_backward"}
    diag = [c for c in report.checks if c.function == "diagnose"]
    assert all(c.status == "error" and "defines no 'diagnose'" in c.message for c in diag)
    bn = [c for c in report.checks if c.task == "batchnorm"]
    assert all("no batchnorm.py" in c.message for c in bn)


def test_student_exception_shows_the_students_own_frames(broken):
    report = broken("initializers", "def xavier_normal(shape, gain=1.0, layout='torch', "
                                    "rng=None):\n    raise RuntimeError('oops')\n")
    errors = [c for c in report.checks if c.function == "xavier_normal"]
    assert errors and all(c.status == "error" for c in errors)
    msg = errors[0].message
    assert "RuntimeError: oops" in msg and "initializers.py" in msg
    assert "grader/" not in msg  # no frame of the grader itself


def test_a_correct_function_that_prints_keeps_its_points_and_shows_its_output(tmp_path):
    sub = make_submission(tmp_path / "s", overrides={"diagnostics": '''
        _ref_mlp = mlp_gradient_norms
        def mlp_gradient_norms(weights, x, activation="tanh"):
            print("debug: layers", len(weights), "x" * 200)
            return _ref_mlp(weights, x, activation)
    '''})
    report = grade(sub, tasks=("diagnostics",), functions=("mlp_gradient_norms",))
    assert not lost(report)


def test_submission_under_an_assignment_folder(tmp_path):
    make_submission(tmp_path / "outer" / "assignment")
    report = grade(tmp_path / "outer", tasks=("quiz",))
    assert report.score == pytest.approx(task_points("quiz"))


def test_submission_one_or_two_folders_deep(tmp_path):
    make_submission(tmp_path / "zip" / "my_submission" / "hw3")
    report = grade(tmp_path / "zip", tasks=("quiz",))
    assert report.score == pytest.approx(task_points("quiz"))


def test_two_copies_of_the_modules_are_graded_once_and_the_report_says_which(tmp_path):
    from grader.submission import found, locate

    make_submission(tmp_path / "sub" / "hw" / "final")
    make_submission(tmp_path / "sub" / "hw" / "draft", replace={"quiz": "ANSWERS = {}\n"})
    (tmp_path / "sub" / "hw" / "old").mkdir()
    (tmp_path / "sub" / "hw" / "old" / "quiz.py").write_text("ANSWERS = {}\n")  # fewer
    report = grade(tmp_path / "sub", tasks=("quiz",))
    assert report.notes == ("the modules are in more than one folder: graded hw/draft/, not "
                            "hw/final/ (keep one copy in a submission)",)
    assert locate(str(tmp_path / "sub")).root == (tmp_path / "sub" / "hw" / "draft").resolve()
    make_submission(tmp_path / "sub")  # the submission's own folder: nothing deeper counts
    assert found(tmp_path / "sub", "sub").notes == ()
    assert found(tmp_path / "sub" / "hw" / "old", "old").notes == ()


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges")
def test_a_module_linked_from_outside_the_submission_is_named(tmp_path):
    from grader.submission import found

    make_submission(tmp_path / "alice")
    mallory = make_submission(tmp_path / "mallory")
    (mallory / "quiz.py").unlink()
    (mallory / "quiz.py").symlink_to("../alice/quiz.py")
    (mallory / "helper.py").symlink_to("initializers.py")  # inside: nothing to say
    assert found(mallory, "mallory").notes == (
        "quiz.py is a link to ../alice/quiz.py, outside the submission: a batch or Gradescope "
        "grades only the submission's own files, so copy the file itself in",)
    assert found(tmp_path / "alice", "alice").notes == ()


def test_grading_is_deterministic_for_a_seed_and_the_examples_change_with_it():
    a = grade(REFERENCE, tasks=("diagnostics",), seed=3, functions=("relative_error",))
    b = grade(REFERENCE, tasks=("diagnostics",), seed=3, functions=("relative_error",))
    assert [(c.id, c.status, c.message) for c in a.checks] == \
           [(c.id, c.status, c.message) for c in b.checks]


def test_hypothesis_examples_follow_the_seed():
    """Two seeds draw two different sets of examples; one seed always the same."""
    import numpy as np
    from hypothesis import strategies as st

    from grader.properties import for_all

    def examples(seed):
        seen = []
        for_all(st.integers(0, 10**9), seen.append, np.random.default_rng(seed),
                max_examples=20)
        return seen
    assert examples(1) == examples(1)
    assert examples(1) != examples(2)


def test_stubs_and_reference_share_the_student_api():
    """Same public names and signatures; the quiz asks the same questions."""
    import importlib
    import inspect

    for task in TASKS:
        stub = importlib.import_module(f"assignment.{task}")
        ref = importlib.import_module(f"reference.{task}")
        if task == "quiz":
            assert stub.QUESTIONS == ref.QUESTIONS
            assert set(stub.ANSWERS) == set(ref.ANSWERS) == set(POINTS["quiz"])
            assert all(v is None for v in stub.ANSWERS.values())
            continue
        for function in POINTS[task]:
            assert inspect.signature(getattr(stub, function)) == \
                inspect.signature(getattr(ref, function)), function
            assert getattr(stub, function).__doc__, f"{task}.{function} stub has no docstring"


def test_numpy_only_parsing_is_safe_in_threads():
    """Checks run in threads; ast.parse must never race (python/cpython#106905)."""
    from concurrent.futures import ThreadPoolExecutor

    from grader.checks.numpy_only import framework_uses

    sources = [(REFERENCE / f"{t}.py").read_text() for t in ("batchnorm", "diagnostics",
                                                             "initializers")]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: framework_uses(sources[i % 3], "relative_error"),
                                range(300)))
    assert all(r == [] for r in results)


def test_stubs_are_the_shipped_assignment():
    assert (STUBS / "initializers.py").is_file()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_grader_bug_leaves_no_worker_open(jobs):
    """A check that fails inside the grader stops the grading: every worker made is
    closed, that of a function whose TensorFlow check was still to run included."""
    import dataclasses

    from grader.runner import GraderBug, RunOptions, run
    from grader.submission import locate
    from standin import InProcessPool

    class Counting(InProcessPool):
        def __init__(self) -> None:
            self.made: list = []

        def worker(self, submission, battery, function, limits):
            made = super().worker(submission, battery, function, limits)
            closed = []
            made.close = lambda: closed.append(True)
            self.made.append((function, closed))
            return made

    def bug(student, rng):
        raise KeyError("a bug of the grader")

    (battery,) = load_batteries(("diagnostics",))
    checks = [dataclasses.replace(c, run=bug) if c.id == "diagnostics.clip_by_global_norm.values"
              else c for c in battery.checks]
    pool, reported = Counting(), []
    with pytest.raises(GraderBug, match="a bug of the grader"):
        run(locate(str(REFERENCE)), (dataclasses.replace(battery, checks=tuple(checks)),),
            RunOptions(tasks=("diagnostics",), jobs=jobs), pool,
            progress=lambda r: reported.append(r.id))
    deadline = time.monotonic() + 10  # the groups still running when it was raised
    while time.monotonic() < deadline and any(not closed for _, closed in pool.made):
        time.sleep(0.05)
    assert "diagnostics.clip_by_global_norm.tf_parity" not in reported  # it never ran
    assert [f for f, _ in pool.made].count("clip_by_global_norm") == 1
    assert [f for f, closed in pool.made if not closed] == []  # (a check may restart one)


def test_the_quiz_questions_share_one_worker_and_functions_each_have_their_own():
    """The quiz's questions all read ANSWERS: one worker serves them; a function's checks
    never share a worker with another function's, and have one worker, the check that
    compares with TensorFlow included: it runs in that worker after the function's other
    checks, queued behind every other group's."""
    from grader.runner import RunOptions, run
    from grader.submission import locate
    from standin import InProcessPool

    class Counting(InProcessPool):
        def __init__(self) -> None:
            self.made: list[tuple[str, str]] = []

        def worker(self, submission, battery, function, limits):
            self.made.append((battery.task, function))
            return super().worker(submission, battery, function, limits)

    tasks = ("quiz", "diagnostics")
    for jobs in (1, 2):
        pool, order = Counting(), []
        report = run(locate(str(REFERENCE)), load_batteries(tasks),
                     RunOptions(tasks=tasks, jobs=jobs), pool,
                     progress=lambda r: order.append(r.id))
        assert report.score == 15 + task_points("diagnostics")
        assert [f for t, f in pool.made if t == "quiz"] == ["q1"]
        diagnostics = [f for t, f in pool.made if t == "diagnostics"]
        assert sorted(diagnostics) == sorted(POINTS["diagnostics"])  # one worker each
        clipping = [i for i in order if i.startswith("diagnostics.clip_by_global_norm.")]
        assert clipping[-1] == "diagnostics.clip_by_global_norm.tf_parity", clipping
        if jobs == 1:  # queued behind every other group's checks
            assert order[-1] == clipping[-1], order[-3:]
