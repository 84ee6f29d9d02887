"""Property-based checks: run a property on hypothesis-generated examples.

Examples are derandomised (no database, a fixed seed), so a grade never
changes between runs. A failing property is shrunk to a small example and its
:class:`~grader.check.CheckFailed` is raised; a problem of the student's code
(NotImplementedError, timeout, crash) stops the search at once and is raised
as it is, without shrinking.
"""
from __future__ import annotations

from typing import Callable

from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import strategies as st

from grader.student import StudentProblem

__all__ = ["for_all"]


def for_all(strategy: st.SearchStrategy, prop: Callable[[object], None],
            max_examples: int = 60) -> None:
    """Check ``prop(example)`` for examples drawn from ``strategy``."""
    problems: list[StudentProblem] = []

    @settings(derandomize=True, database=None, max_examples=max_examples, deadline=None,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              print_blob=False, report_multiple_bugs=False)
    @given(strategy)
    def search(example):
        if problems:
            return
        try:
            prop(example)
        except StudentProblem as problem:
            problems.append(problem)

    search()
    if problems:
        raise problems[0]
