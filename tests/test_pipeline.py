"""End to end: the reference scores full marks, the stubs score 0 cleanly, and
a broken or missing piece costs its own points only."""
from __future__ import annotations

import pytest

from conftest import REFERENCE, STUBS, assert_only, grade, lost, make_submission
from grader.contract import POINTS, TASKS, task_points

#: a correct relative_error, but written with torch: only numpy_only may fail
TORCH_RELATIVE_ERROR = """
import torch as _t


def relative_error(a, b):
    a, b = _t.as_tensor(a), _t.as_tensor(b)
    if a.shape != b.shape:
        raise ValueError("shapes differ")
    if a.numel() == 0:
        return 0.0
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max())
"""


def test_points_add_up_to_100():
    assert sum(task_points(t) for t in TASKS) == pytest.approx(100.0)


def test_every_function_has_checks():
    from grader.checks import all_checks

    checked = {(c.task, c.function) for c in all_checks()}
    assert checked == {(t, f) for t in TASKS for f in POINTS[t]}


def test_reference_scores_full_marks(reference_report):
    failures = {c.id: (c.status, c.message) for c in reference_report.checks
                if c.status != "passed"}
    assert not failures
    assert reference_report.score == pytest.approx(100.0)
    assert reference_report.max_score == pytest.approx(100.0)


def test_stubs_score_zero_and_only_not_attempted(stubs_report):
    assert stubs_report.score == 0
    assert {c.status for c in stubs_report.checks} == {"not_attempted"}
    for c in stubs_report.checks:
        assert "Traceback" not in c.message
        assert c.message


@pytest.mark.parametrize("task,source,function", [
    ("initializers", "def xavier_normal(shape, gain=1.0, layout='torch', rng=None):\n"
                     "    raise RuntimeError('oops')\n", "xavier_normal"),
    ("diagnostics", "def relative_error(a, b):\n    return 'small'\n", "relative_error"),
    ("diagnostics", "def diagnose(grad_norms, ratio=100.0):\n    return 'healthy'\n", "diagnose"),
    ("batchnorm", "import numpy as _np\n"
                  "def batchnorm_backward(dout, x, gamma, eps=1e-5):\n"
                  "    return _np.zeros_like(x), _np.zeros_like(gamma), _np.zeros_like(gamma)\n",
     "batchnorm_backward"),
    ("initializers", "def compute_fans(shape, layout='torch'):\n    return (1, 1)\n",
     "compute_fans"),
    ("diagnostics", TORCH_RELATIVE_ERROR, "relative_error"),
])
def test_a_broken_function_costs_its_own_points_only(broken, task, source, function):
    report = broken(task, source)
    assert_only(report, function)


def test_a_broken_function_message_names_what_it_got(broken):
    report = broken("diagnostics", "def relative_error(a, b):\n    return 'small'\n")
    messages = [c.message for c in report.checks if c.function == "relative_error"
                and c.status != "passed"]
    assert any("str" in m for m in messages)


def test_framework_use_fails_numpy_only(broken):
    report = broken("diagnostics", TORCH_RELATIVE_ERROR)
    by_id = {c.id: c for c in report.checks}
    check = by_id["diagnostics.relative_error.numpy_only"]
    assert check.status == "failed"
    assert "_t" in check.message
    assert [c.id for c in report.checks if c.status != "passed"] == [check.id]


def test_syntax_error_costs_that_module_only(tmp_path):
    sub = make_submission(tmp_path / "s", replace={"diagnostics": "def oops(:\n    pass\n"})
    report = grade(sub, tasks=("diagnostics", "batchnorm"))
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
    report = grade(sub, tasks=("diagnostics", "batchnorm"))
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


def test_submission_under_an_assignment_folder(tmp_path):
    make_submission(tmp_path / "outer" / "assignment")
    report = grade(tmp_path / "outer", tasks=("diagnostics",))
    assert report.score == pytest.approx(task_points("diagnostics"))


def test_grading_is_deterministic_for_a_seed(tmp_path):
    a = grade(REFERENCE, tasks=("initializers",), seed=3)
    b = grade(REFERENCE, tasks=("initializers",), seed=3)
    assert [(c.id, c.status, c.message) for c in a.checks] == \
           [(c.id, c.status, c.message) for c in b.checks]


def test_stub_folder_is_the_shipped_assignment():
    assert (STUBS / "initializers.py").is_file()


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
