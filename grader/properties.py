"""Property-based checks: run a property on hypothesis-generated examples.

The examples are seeded from the check's own rng (itself a function of
``--seed`` and the check id): one seed always gives the same examples, two
seeds two different sets. Nothing is stored (no example database) and
nothing is printed. A failing property is shrunk to a small example and its
:class:`~grader.check.CheckFailed` is raised; a problem of the student's code
(NotImplementedError, timeout, crash) stops the search at once and is raised
as it is, without shrinking.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from hypothesis import HealthCheck, Verbosity, given, seed, settings
from hypothesis import strategies as st

from grader.student import StudentProblem

__all__ = ["for_all", "one_origin"]


def for_all(strategy: st.SearchStrategy, prop: Callable[[object], None],
            rng: np.random.Generator, max_examples: int = 60) -> None:
    """Check ``prop(example)`` for examples drawn from ``strategy``, seeded from ``rng``."""
    problems: list[StudentProblem] = []

    @seed(int(rng.integers(2**63 - 1)))
    @settings(database=None, max_examples=max_examples, deadline=None,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              print_blob=False, report_multiple_bugs=False, derandomize=False)
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


def one_origin(prop: Callable[[object], None]) -> Callable[[object], None]:
    """``prop`` whose failures all raise from one line, so hypothesis reports one bug."""
    from grader.check import CheckFailed

    def wrapped(example) -> None:
        failure = None
        try:
            prop(example)
        except CheckFailed as caught:
            failure = caught
        if failure is not None:
            raise CheckFailed(failure.message, failure.hint, failure.evidence, failure.mistake)
    return wrapped
