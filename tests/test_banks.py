"""Every bank of deliberately broken implementations, graded in-process.

One parametrised test over every record of ``tests/banks``: the broken
function loses points, in at least the checks its record lists. A record's
source rebinds nothing of the module but its own function, so every other
function of the module is the reference's own code, whose grade the
reference's full marks already give; that is checked on the source, and the
whole task is graded for one record of every function (the runner really does
keep one mistake in one place). Then every check of the grader is shown to
catch at least one record (a check that nothing fails proves nothing), and
the correct variants keep full marks.
"""
from __future__ import annotations

import ast
import textwrap

import pytest

from banks import batchnorm, diagnostics, frameworks, initializers, numpy_only
from conftest import REFERENCE, assert_only, grade, make_submission
from grader.grading import load_batteries

BANKS = {"initializers": initializers.BROKEN, "batchnorm": batchnorm.BROKEN,
         "diagnostics": diagnostics.BROKEN, "frameworks": frameworks.BROKEN}
RECORDS = [(task, record) for task, bank in BANKS.items() for record in bank]
RECORDS += [(task, record) for task, bank in numpy_only.BROKEN.items() for record in bank]


#: one record of every function, graded over its whole task
SAMPLE = list({(t, r.function): (t, r) for t, r in reversed(RECORDS)}.values())


def _failed(report, function: str) -> set[str]:
    return {c.prop for c in report.checks if c.function == function and c.status != "passed"}


def _bound_names(source: str) -> set[str]:
    """The top-level names a piece of source binds (defs, assignments, imports)."""
    names = set()
    for node in ast.parse(textwrap.dedent(source)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _reference_names(task: str) -> set[str]:
    return _bound_names((REFERENCE / f"{task}.py").read_text(encoding="utf-8"))


@pytest.mark.parametrize("task, record", RECORDS,
                         ids=[f"{t}-{r.name}" for t, r in RECORDS])
def test_broken_implementation_is_caught_in_its_function(tmp_path, task, record):
    touched = _bound_names(record.source) & _reference_names(task)
    assert touched <= {record.function}, f"{record.name} also rebinds {touched}"
    sub = make_submission(tmp_path / "sub", overrides={task: record.source})
    report = grade(sub, tasks=(task,), functions=(record.function,))
    missing = set(record.must_fail) - _failed(report, record.function)
    assert not missing, (f"{record.name} was not caught by {sorted(missing)} "
                         f"(failed: {sorted(_failed(report, record.function))})")
    for c in report.checks:
        assert c.status in ("passed", "failed", "error"), (c.id, c.status, c.message)


@pytest.mark.parametrize("task, record", SAMPLE, ids=[f"{t}-{r.name}" for t, r in SAMPLE])
def test_broken_implementation_costs_no_other_function(tmp_path, task, record):
    sub = make_submission(tmp_path / "sub", overrides={task: record.source})
    report = grade(sub, tasks=(task,))
    assert_only(report, record.function)


def test_every_check_is_caught_by_some_broken_implementation():
    """Every check that carries points (the pictures carry none: tests/test_pictures.py)."""
    caught = {f"{t}.{r.function}.{p}" for t, r in RECORDS for p in r.must_fail}
    ids = {c.id for b in load_batteries(tuple(BANKS)) for c in b.checks if not c.figure}
    assert ids <= caught, sorted(ids - caught)


def test_every_listed_check_exists():
    ids = {c.id for b in load_batteries(tuple(BANKS)) for c in b.checks}
    listed = {f"{t}.{r.function}.{p}" for t, r in RECORDS for p in r.must_fail}
    assert listed <= ids, sorted(listed - ids)


@pytest.mark.parametrize("task, source", [
    ("initializers", initializers.CORRECT), ("initializers", initializers.FLOAT32),
    ("batchnorm", batchnorm.CORRECT), ("diagnostics", diagnostics.CORRECT),
    ("frameworks", frameworks.CORRECT)], ids=["initializers", "initializers-float32",
                                              "batchnorm", "diagnostics", "frameworks"])
def test_correct_variants_keep_full_marks(tmp_path, task, source):
    sub = make_submission(tmp_path / "sub", overrides={task: source})
    for seed in (0, 1):
        report = grade(sub, tasks=(task,), seed=seed)
        failed = {c.id: c.message for c in report.checks if c.status != "passed"}
        assert not failed, failed


def test_the_stand_in_pool_grades_a_selection_of_functions_like_workers():
    """The stand-in has the grader modules a worker preloads, so that a call importing one
    of them for the first time is not read as student code importing the grader."""
    report = grade(REFERENCE, tasks=("initializers",),
                   functions=("xavier_uniform", "variance_scaling"))
    assert {c.id: c.message for c in report.checks if c.status != "passed"} == {}
