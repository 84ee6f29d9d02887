"""Instructor-only checks: an example of the battery API for ``--extra-checks``.

``grader check --extra-checks examples/hidden_checks`` and ``grader export
gradescope --extra-checks examples/hidden_checks`` load every ``.py`` file of
this folder; each defines ``BATTERY`` (or ``BATTERIES``), a
``grader.battery.Battery`` holding checks only. A check is a plain function
``run(student, rng) -> str`` that grades one student function: it calls
``student(...)`` (which runs the student's code in its worker), raises
``grader.check.CheckFailed(message, hint)`` when the property does not hold,
and returns a short message (or ``""``) when it does. Its id is
``task.function.property``; its points are a share of the function's (by
``weight``), so a correct solution scores the same with or without hidden
checks. ``visibility`` says what Gradescope shows students: ``visible``,
``hidden``, ``after_due_date`` or ``after_published``. These files are never
part of the student release.
"""
from __future__ import annotations

import math

import numpy as np

from grader import stats
from grader.battery import Battery
from grader.check import Check, CheckFailed, values
from grader.wire import Rng


def _wide_he_normal(student, rng) -> str:
    """he_normal on a wide convolution: the variance ratio within the usual 10 % band."""
    shape = (96, 512, 3, 3)  # fan_in 4608
    target = 2.0 / (512 * 9)
    seed = int(rng.integers(2**31))
    w = values(student(shape, nonlinearity="relu", rng=Rng((seed,))),
               f"he_normal({shape}, nonlinearity='relu')", shape, ordered=False)
    verdict = stats.variance_ratio(w, target, "normal")
    if not verdict.passed:
        ratio = math.exp(verdict.statistic) if math.isfinite(verdict.statistic) else 0.0
        raise CheckFailed(f"he_normal{shape} should have variance 2/fan_in = {target:.3g}; "
                          f"yours is {ratio:.3g}× that", "fan_in = in * prod(kernel).",
                          verdict.sentence)
    return verdict.sentence


def _many_arrays(student, rng) -> str:
    """clip_by_global_norm over twenty arrays: one coefficient for all of them."""
    g = np.random.default_rng(int(rng.integers(2**31)))
    grads = [g.standard_normal(int(g.integers(1, 6))) for _ in range(20)]
    total = math.sqrt(sum(float(np.sum(a * a)) for a in grads))
    clipped, got_total = student(grads, total / 4)
    ratios = [float(np.sum(c * a) / np.sum(a * a)) for c, a in zip(clipped, grads)]
    if max(ratios) - min(ratios) > 1e-9 or abs(got_total - total) > 1e-9 * total:
        raise CheckFailed("clip_by_global_norm of twenty arrays should scale them all by one "
                          f"coefficient and return their joint norm {total:.6g}",
                          "One coefficient min(1, max_norm / (total + 1e-6)) for every array.")
    return ""


BATTERIES = (
    Battery("initializers", (Check("initializers.he_normal.wide_convolution", "statistical",
                                   _wide_he_normal, weight=0.5,
                                   visibility="after_due_date"),)),
    Battery("diagnostics", (Check("diagnostics.clip_by_global_norm.many_arrays", "unit",
                                  _many_arrays, weight=0.5, visibility="hidden"),)),
)
