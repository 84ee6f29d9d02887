"""Property-based checks: run a property on hypothesis-generated examples.

The examples are seeded from the check's own rng (itself a function of
``--seed`` and the check id): one seed always gives the same examples, two
seeds two different sets. No example database is used and nothing is
printed; given a :class:`~grader.memory.Memory`, the examples on
which the property held are kept in memory and replayed for the next
submission the same process grades (see ``grader.memory``). A failing
property is shrunk to a small example and its
:class:`~grader.check.CheckFailed` is raised; a problem of the student's code
(NotImplementedError, timeout, crash) stops the search at once and is raised
as it is, without shrinking.

The examples depend on the seed, the check and Hypothesis' version only.
Recent Hypothesis releases also draw, now and then, literals they find in
the source of the "local" modules the process has imported, and keep them
in ``.hypothesis/constants/`` under the current folder: the examples would
then change with the tasks selected (``--task``), with whether the grader
is installed in site-packages or run from a checkout, and with a notebook's
own modules, and a folder could plant constants. This module turns that
source off when it is imported (:func:`_without_local_constants`).
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from grader.memory import Memory
from grader.student import StudentFunction, StudentProblem

__all__ = ["for_all", "one_origin"]


def _without_local_constants() -> None:
    """Make Hypothesis draw no constants from the source of imported modules (where its
    version does: the pool is empty, so nothing is read and nothing written)."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # a Hypothesis before local constants: nothing to turn off
        return
    if getattr(providers, "_get_local_constants", None) is None:
        return
    empty = Constants()
    providers._get_local_constants = lambda: empty
    cache = getattr(providers, "CONSTANTS_CACHE", None)  # what earlier searches picked from
    if cache is not None:
        cache.cache.clear()


_without_local_constants()  # once, before this process's first search

# every phase but ``explain``: it varies a shrunk failure to annotate which parts of it
# matter, which only a printed report shows (nothing is printed here); it cost a failing
# property about four times its shrinking
_PHASES = tuple(p for p in Phase if p is not Phase.explain)


def for_all(strategy: st.SearchStrategy, prop: Callable[[object], None],
            rng: np.random.Generator, max_examples: int = 60,
            memory: Memory | None = None, student: StudentFunction | None = None) -> None:
    """Check ``prop(example)`` for examples drawn from ``strategy``, seeded from ``rng``.

    ``memory`` (optional) holds what earlier submissions drew with the same
    seed: replayed first, and kept when this search draws afresh. ``student``
    (optional) is the function ``prop`` calls: on a replay, each example's
    first call is sent to its worker ahead (:func:`_replay`).
    """
    start = int(rng.integers(2**63 - 1))
    key = (start, max_examples, repr(strategy))
    drawn = memory.replay(key) if memory is not None else None
    failure = _replay(drawn, prop, student, memory, key) if drawn is not None else None
    if drawn is not None and failure is None:
        return
    problems: list[StudentProblem] = []
    tried: list = []

    @seed(start)
    @settings(database=None, max_examples=max_examples, deadline=None,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              print_blob=False, report_multiple_bugs=False, derandomize=False,
              phases=_PHASES)
    @given(strategy)
    def search(example):
        if problems:
            return
        if memory is not None:
            tried.append(copy.deepcopy(example))
        try:
            prop(example)
        except StudentProblem as problem:
            problems.append(problem)

    search()
    if problems:
        raise problems[0]
    if failure is not None:  # a function whose answers change from call to call
        raise failure
    if memory is not None:
        memory.keep(key, tuple(tried))


def _replay(drawn: tuple, prop: Callable[[object], None], student: StudentFunction | None,
            memory: Memory, key: tuple) -> Exception | None:
    """:func:`_failure_on`, with the calls the examples make sent to the worker ahead.

    The examples are known before any is tried, and so is each one's first call
    (``StudentFunction.first_call``: the property, run up to its first call and
    stopped there, has seen no reply yet, so the call holds nothing of any
    submission's answers). The worker runs the same calls in the same order
    as one by one, without a round trip between two. A property that makes
    another call first (a second call for one example) stops the worker
    there, and the rest goes one by one; ``memory`` notes that, so the next
    submissions' replays of it go one by one from the start.
    """
    if student is None or memory.one_by_one(key):
        return _failure_on(drawn, prop)
    with student.ahead_of([lambda e=example: prop(copy.deepcopy(e))
                           for example in drawn]) as run:
        failure = _failure_on(drawn, prop)
    if run.missed:
        memory.keep_one_by_one(key)
    return failure


def _failure_on(drawn: tuple, prop: Callable[[object], None]) -> Exception | None:
    """The first failure of ``prop`` on the examples of ``drawn``, tried in order.

    A problem of the student's code is raised as under hypothesis (which stops
    at the same example); any other failure is returned, for the caller's
    search to reach again and shrink.
    """
    for example in drawn:
        try:
            prop(copy.deepcopy(example))
        except StudentProblem:
            raise
        except Exception as failure:  # noqa: BLE001 - searched again by hypothesis
            return failure
    return None


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
