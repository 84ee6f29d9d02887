"""Checks of ``numerical_gradient`` and ``relative_error``.

``numerical_gradient`` is compared with the exact gradients of the functions
of ``grader.testfns`` (``grader.testfn_gradients``) within twice a
worst-case bound on the centred difference's own error; ``relative_error`` with ``grader.oracles.diagnostics`` (the
formula evaluated with torch) within 1e-12 relative.
"""
from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.testfn_gradients import fd_error_bound, gradient
from grader.check import (Check, CheckFailed, Diagnosis, describe, expect_array, expect_float,
                          fmt_shape, values)
from grader.oracles import diagnostics as oracle
from grader.properties import for_all
from grader.student import StudentRaised
from grader.wire import Fn

__all__ = ["gradient_checks", "relative_error_checks"]

_NG_HINT = ("grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h) for every element (np.ndindex "
            "visits every index of an array of any shape); restore x[i] after each "
            "perturbation or work on a copy.")
SMOOTH = ("quadratic", "cubic", "poly", "tanh_weighted", "exp_sin", "coupled")


def value_of(student, what: str, *args, **kwargs):
    """Call the student; a raised exception is the student's error."""
    call = student.call(*args, **kwargs)
    if call.raised is not None:
        raise StudentRaised(call.raised, what)
    return call


@st.composite
def _smooth_cases(draw, name: str):
    coef = partial(st.floats, allow_nan=False, allow_subnormal=False)
    params, limit = {}, 3.0
    if name == "quadratic":
        params = {"a": draw(coef(-5.0, 5.0)), "b": draw(coef(-5.0, 5.0))}
    elif name == "cubic":
        params = {"c": draw(coef(-20.0, 20.0))}
    elif name == "poly":
        params = {"a1": draw(coef(-5.0, 5.0)), "a2": draw(coef(-5.0, 5.0)),
                  "a3": draw(coef(-10.0, 10.0))}
    elif name == "exp_sin":
        limit = 5.0
    elif name == "coupled":
        params, limit = {"s": draw(coef(-3.0, 3.0))}, 2.0
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    x = draw(hnp.arrays(np.float64, shape, elements=coef(-limit, limit)))
    return name, params, x


def _judge_gradient(value, name, params, x, h, expected, bound, context):
    call = (f"numerical_gradient({name}{params or ''}, x of shape {fmt_shape(x.shape)}, "
            f"h={h:g})")
    got = values(value, call, x.shape)
    err = np.abs(got - expected)
    bad = ~(err <= bound)
    if np.any(bad):
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = np.nan_to_num(err / bound, nan=np.inf)
        i = np.unravel_index(int(np.argmax(excess)), x.shape)
        raise CheckFailed(
            f"{call}{context}: at index {tuple(int(k) for k in i)} (x = {x[i]:.6g}) expected "
            f"{expected[i]:.12g}, got {got[i]:.12g}", _NG_HINT,
            f"|difference| {err[i]:.3g} > tolerance {bound[i]:.3g}: twice a worst-case bound "
            "on the centred difference's own error (h^2/6 |f'''| truncation plus float64 "
            "rounding of f, ~eps |f| / h)")


def _ng_smooth(student, rng) -> str:
    def prop(case):
        name, params, x = case
        value = student(Fn(name, params), x)
        _judge_gradient(value, name, params, x, 1e-5, gradient(name, params, x),
                        2.0 * fd_error_bound(name, params, x, 1e-5),
                        " compared with the exact gradient")
    for name in SMOOTH:  # every function covered
        for_all(_smooth_cases(name), prop, rng, max_examples=8, memory=student.memory,
                student=student)
    return ""


def _ng_centred(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    params = {"c": 50.0}
    x = g.uniform(0.5, 1.5, (2, 2)) * g.choice([-1.0, 1.0], (2, 2))
    # default h: the exact gradient 3 c x^2 within the bound; a one-sided difference is off by
    # 3 c |x| h >= 7.5e-4, hundreds of times the tolerance (~4e-6)
    value = student(Fn("cubic", params), x)
    _judge_gradient(value, "cubic", params, x, 1e-5, gradient("cubic", params, x),
                    2.0 * fd_error_bound("cubic", params, x, 1e-5),
                    " (a cubic of large curvature: a one-sided difference is off by "
                    "3 c |x| h)")
    # h = 1e-3 given explicitly: the centred difference of c x^3 is exactly 3 c x^2 + c h^2
    h = 1e-3
    value = student(Fn("cubic", params), x, h=h)
    _judge_gradient(value, "cubic", params, x, h, 3 * 50.0 * x**2 + 50.0 * h * h,
                    2.0 * fd_error_bound("cubic", params, x, h, truncation=False),
                    " (the centred difference of c x^3 is exactly 3 c x^2 + c h^2; the step "
                    "h must be the argument h)")
    return ""


def _ng_no_mutation(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((5,), (2, 3), (2, 2, 2)):
        x = g.uniform(-1, 1, shape)
        call = value_of(student, f"numerical_gradient(coupled, x of shape {fmt_shape(shape)})",
                        Fn("coupled", {"s": 1.0}), x)
        if call.mutated:
            raise CheckFailed(
                f"numerical_gradient changed x (shape {fmt_shape(shape)}): x must be the same "
                "after the call",
                "Restore x[i] = original after the two evaluations, or perturb a copy "
                "(np.array(x, dtype=float, copy=True)).")
    return ""


def _ng_shape_dtype(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((4,), (2, 3), (2, 1, 2)):
        x = g.uniform(-1, 1, shape)
        expect_array(student(Fn("quadratic", {"a": 1.0, "b": 0.5}), x),
                     f"numerical_gradient(quadratic, x of shape {fmt_shape(shape)})",
                     shape=shape)
    return ""


def gradient_checks() -> tuple[Check, ...]:
    p = "diagnostics.numerical_gradient."
    return (
        Check(p + "smooth_functions", "property", _ng_smooth, weight=2.0),
        Check(p + "centred", "unit", _ng_centred, weight=1.5),
        Check(p + "shape_dtype", "unit", _ng_shape_dtype, weight=0.5, gated=True),
        Check(p + "no_mutation", "unit", _ng_no_mutation, weight=0.5, gated=True),
    )


# ---------------------------------------------------------------------------
# relative_error
# ---------------------------------------------------------------------------

_RE_HINT = "max over elements of |a - b| / max(1e-8, |a| + |b|), returned as a Python float."


def _re_hint(a, b, got: float) -> Diagnosis:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size:
        den = np.abs(a) + np.abs(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(a - b) / np.maximum(1e-8, den)
            unguarded = np.where(den > 0, np.abs(a - b) / np.where(den > 0, den, 1.0), np.nan)
        if np.isclose(got, float(np.mean(rel)), rtol=1e-9):
            return Diagnosis("The maximum over the elements, not the mean.",
                             "the mean instead of the maximum")
        worst = float(np.max(unguarded[~np.isnan(unguarded)], initial=0.0))
        if not np.isfinite(got) or (np.any(den == 0) and np.isclose(got, worst, rtol=1e-9)):
            return Diagnosis("Guard the denominator: divide by max(1e-8, |a| + |b|).",
                             "no guard on the denominator")
        if np.isclose(got, float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a)))), rtol=1e-9):
            return Diagnosis("The denominator is |a| + |b|, not |a|.", "|a| as the denominator")
    return Diagnosis(_RE_HINT)


def _judge_relative(student, a, b, expected=None, label: str = "") -> None:
    expected = oracle.relative_error(a, b) if expected is None else expected
    got = expect_float(value_of(student, "relative_error", a, b).value,
                       f"relative_error(a, b){label}")
    # the same few float64 operations in any order: a few ulps; 1e-12 is 1e3 times that
    if not (abs(got - expected) <= 1e-12 * abs(expected) or got == expected):
        shown_a = np.array2string(np.asarray(a), precision=6, threshold=8)
        shown_b = np.array2string(np.asarray(b), precision=6, threshold=8)
        hint, mistake = _re_hint(a, b, got)
        raise CheckFailed(
            f"relative_error(a, b) for a = {shown_a}, b = {shown_b}{label}: expected "
            f"{expected!r}, got {got!r}", hint,
            "tolerance 1e-12 relative: the formula is a few float64 operations", mistake)


@st.composite
def _relative_cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    element = st.one_of(
        st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
        st.floats(-1e-8, 1e-8, allow_nan=False, allow_subnormal=False),
        st.just(0.0))
    a = draw(hnp.arrays(np.float64, shape, elements=element))
    mode = draw(st.sampled_from(("independent", "close", "negated")))
    if mode == "independent":
        b = draw(hnp.arrays(np.float64, shape, elements=element))
    elif mode == "close":
        b = a * (1.0 + draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e-3, 1e-3))))
    else:
        b = -a
    return a, b


def _re_formula(student, rng) -> str:
    for_all(_relative_cases(), lambda case: _judge_relative(student, *case), rng,
            max_examples=40, memory=student.memory, student=student)
    return ""


def _re_special(student, rng) -> str:
    cases = (
        (np.zeros(3), np.zeros(3), 0.0, " (both zero: 0 / 1e-8)"),
        (np.array([1e-9]), np.array([0.0]), 0.1, " (|a| + |b| below 1e-8: divide by 1e-8)"),
        (np.array([0.0, 3.0]), np.array([0.0, 1.0]), 0.5, " (the maximum, not the mean)"),
        (np.array([1.0, -1.0]), np.array([-1.0, 1.0]), 1.0, " (opposite signs: |a| + |b|)"),
        (np.array([[2.0, 0.5]]), np.array([[-1.0, 0.5]]), 1.0, " (2-D, opposite signs)"),
        (np.zeros(0), np.zeros(0), 0.0, " (empty arrays give 0.0)"),
        (np.zeros((2, 0)), np.zeros((2, 0)), 0.0, " (empty arrays give 0.0)"),
    )
    for a, b, expected, label in cases:
        _judge_relative(student, a, b, expected, label)
    return ""


def _re_shape_dtype(student, rng) -> str:
    for a, b in ((np.array([1.0, 2.0]), np.array([1.5, 2.0])), (np.zeros((2, 0)),
                                                                np.zeros((2, 0)))):
        value = value_of(student, "relative_error", a, b).value
        if not isinstance(value, float):
            raise CheckFailed(f"relative_error on arrays of shape {fmt_shape(a.shape)} should "
                              f"return a Python float; got {describe(value)}",
                              "Return float(...) of the maximum (an empty max needs 0.0).")
    return ""


def relative_error_checks() -> tuple[Check, ...]:
    p = "diagnostics.relative_error."
    return (
        Check(p + "formula", "property", _re_formula, weight=2.0, requires=("torch",)),
        Check(p + "special_cases", "unit", _re_special, weight=1.5),
        Check(p + "shape_dtype", "unit", _re_shape_dtype, weight=0.5, gated=True),
    )
