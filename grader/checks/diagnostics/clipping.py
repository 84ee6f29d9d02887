"""Checks of ``clip_by_global_norm``.

Expected values come from ``torch.nn.utils.clip_grad_norm_`` in float64
(``grader.oracles.diagnostics``) and from ``tf.clip_by_global_norm``. The
generated gradients hold 0 or magnitudes in [1e-100, 10]: their squares
neither underflow nor overflow in float64, so the naive sum of squares and a
scaled norm agree to the tolerance and only the student's maths is graded.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.check import (Check, CheckFailed, Diagnosis, describe, expect_array, expect_float,
                          expected, fmt_shape, values)
from grader.checks.batchnorm.forward import describe_aliasing
from grader.checks.diagnostics.gradients import value_of
from grader.oracles import diagnostics as oracle
from grader.properties import for_all

__all__ = ["clip_checks"]

_HINT = ("total = sqrt(sum of every squared entry of every array); coef = min(1, "
         "max_norm / (total + 1e-6)); return ([coef * g for g in grads], total): one "
         "coefficient for all arrays, never above 1.")
# float64 sums of <= 200 squares and one division: relative error < 1e-13, so 1e-10 is safe;
# dropping the 1e-6 of the formula changes the result by 1e-6 / total >= 1e-8 here
CLIP_RTOL = 1e-10


def _clip_hint(grads, max_norm, got_total, got_clipped, exp_total) -> Diagnosis:
    per_array = [float(np.sqrt(np.sum(g * g))) for g in grads]
    if any(abs(got_total - p) <= 1e-9 * p for p in per_array if p > 0) and len(grads) > 1:
        return Diagnosis("The total norm is over all arrays together, not one of them.",
                         "the norm of one array instead of all")
    if abs(got_total - sum(per_array)) <= 1e-9 * sum(per_array) and len(grads) > 1:
        return Diagnosis("The total is the square root of the sum of all squares, not the sum "
                         "of the arrays' norms.", "the sum of the norms instead of the norm")
    if got_clipped is not None and len(grads) > 1:
        coefs = [float(np.sum(c * g) / np.sum(g * g)) for c, g in zip(got_clipped, grads)
                 if np.sum(g * g) > 0]
        if coefs and max(coefs) - min(coefs) > 1e-9 * max(abs(c) for c in coefs):
            return Diagnosis("One coefficient for every array: each array is scaled by the "
                             "same number.", "each array clipped on its own")
    if got_clipped is not None and exp_total < max_norm:
        return Diagnosis("When the total is below max_norm the gradients stay as they are "
                         "(coef = 1).", "gradients scaled up")
    return Diagnosis(_HINT)


@st.composite
def _clip_cases(draw):
    count = draw(st.integers(1, 4))
    magnitude = st.floats(1e-100, 10.0, allow_nan=False, allow_subnormal=False)
    element = st.one_of(st.just(0.0), magnitude, magnitude.map(lambda v: -v))
    grads = []
    for _ in range(count):
        shape = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 3))))
        grads.append(draw(hnp.arrays(np.float64, shape, elements=element)))
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    if total == 0.0:
        return grads, (draw(st.floats(0.01, 5.0)),)
    # every example is clipped once and left alone once (a mistake of either branch shows
    # on every example that has it); 5% away from total: there min(1, .) switches, and an
    # `if total > max_norm` variant differs from min(1, max_norm / (total + 1e-6)) by at
    # most 1e-6 / max_norm
    return grads, (total * draw(st.floats(0.01, 0.95)), total * draw(st.floats(1.05, 50.0)))


def _judge(value, grads, max_norm, expected, rtol: float, what: str) -> None:
    shapes = ", ".join(fmt_shape(g.shape) for g in grads)
    context = f"{len(grads)} arrays of shapes {shapes}, max_norm={max_norm:.6g}"
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise CheckFailed(f"{what} ({context}) should return (clipped, total_norm); got "
                          f"{describe(value)}", _HINT)
    clipped, total = value
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
        raise CheckFailed(f"{what} ({context}) should return a list of {len(grads)} arrays "
                          f"first; got {describe(clipped)}", _HINT)
    total = expect_float(total, f"{what} ({context}): total_norm")
    exp_clipped, exp_total = expected
    got = [values(c, f"{what}: clipped[{i}]", e.shape) for i, (c, e) in
           enumerate(zip(clipped, exp_clipped))]
    if not abs(total - exp_total) <= rtol * exp_total:
        hint, mistake = _clip_hint(grads, max_norm, total, None, exp_total)
        raise CheckFailed(f"{what} ({context}): the total norm should be {exp_total:.12g} "
                          f"(before clipping), got {total:.12g}", hint,
                          f"tolerance {rtol:.2g} relative", mistake)
    for i, (g, exp) in enumerate(zip(got, exp_clipped)):
        err = np.abs(g - exp)
        bound = rtol * np.abs(exp)
        if not np.all(err <= bound):
            j = np.unravel_index(int(np.argmax(np.nan_to_num(err - bound, nan=np.inf))),
                                 exp.shape)
            hint, mistake = _clip_hint(grads, max_norm, total, got, exp_total)
            raise CheckFailed(
                f"{what} ({context}, total norm {exp_total:.6g}): clipped[{i}] at index "
                f"{tuple(int(k) for k in j)} should be {exp[j]:.12g}, got {g[j]:.12g}", hint,
                f"tolerance {rtol:.2g} relative", mistake)


def _cb_values(student, rng) -> str:
    def prop(case):
        grads, max_norms = case
        for max_norm in max_norms:
            _judge(student(grads, max_norm), grads, max_norm,
                   expected(student, oracle.clip_by_global_norm, grads, max_norm), CLIP_RTOL,
                   "clip_by_global_norm (compared with torch.nn.utils.clip_grad_norm_, float64)")
    for_all(_clip_cases(), prop, rng, max_examples=40, memory=student.memory,
            student=student)
    return ""


def _parity_cases(rng):
    g = np.random.default_rng(int(rng.integers(2**31)))
    cases = []
    for shapes in (((3, 4), (4,)), ((2, 3, 2), (5,), (1, 1)), ((10,),), ((4, 4), (4,), (2, 4))):
        grads = [g.standard_normal(s) * g.uniform(0.5, 5.0) for s in shapes]
        total = float(np.sqrt(sum(np.sum(a * a) for a in grads)))
        for factor in (0.1, 0.5, 2.0):
            cases.append((grads, total * factor))
    return cases


def _cb_tf_parity(student, rng) -> str:
    for grads, max_norm in _parity_cases(rng):
        clipped, total = student.framework("clip_by_global_norm", grads, max_norm)
        expected = ([np.asarray(c, dtype=np.float64) for c in clipped], float(total))
        # TF scales by max_norm / max(total, max_norm), without PyTorch's + 1e-6: the two agree
        # to a relative 1e-6 / total, so the tolerance is that plus float64 round-off
        rtol = 1e-6 / expected[1] + CLIP_RTOL
        _judge(student(grads, max_norm), grads, max_norm, expected, rtol,
               "clip_by_global_norm vs tf.clip_by_global_norm (float64; TF has no +1e-6)")
    return ""


def _cb_no_scale_up(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    grads = [g.standard_normal((3, 3)), g.standard_normal(4)]
    total = float(np.sqrt(sum(np.sum(a * a) for a in grads)))
    for factor in (1.5, 10.0, 1e6):
        max_norm = total * factor
        value = student(grads, max_norm)
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise CheckFailed(f"clip_by_global_norm should return (clipped, total_norm); got "
                              f"{describe(value)}", _HINT)
        for i, (c, a) in enumerate(zip(value[0], grads)):
            c = values(c, f"clip_by_global_norm: clipped[{i}]", a.shape)
            # the coefficient is exactly 1.0 here: allow one rounding at most
            if not np.allclose(c, a, rtol=1e-12, atol=0.0):
                ratio = float(np.max(np.abs(c)) / np.max(np.abs(a)))
                raise CheckFailed(
                    f"clip_by_global_norm with total norm {total:.6g} below max_norm = "
                    f"{max_norm:.6g} must return the gradients unchanged; clipped[{i}] is "
                    f"{ratio:.6g} times the input",
                    "coef = min(1, max_norm / (total + 1e-6)): clipping only ever shrinks.")
    return ""


def _cb_no_mutation(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for scale, max_norm in ((5.0, 1.0), (0.1, 100.0)):  # clipping, and no clipping needed
        grads = [g.standard_normal((3, 3)) * scale, g.standard_normal(4) * scale]
        call = value_of(student, "clip_by_global_norm", grads, max_norm)
        what = f"clip_by_global_norm(grads, max_norm={max_norm:g})"
        if call.mutated:
            raise CheckFailed(f"{what} modified the gradient arrays it was given ("
                              f"{', '.join(call.mutated)}); the inputs must stay untouched",
                              "Return [g * coef for g in grads], not g *= coef.")
        if call.aliased:
            raise CheckFailed(
                f"{what} returned the arrays it was given instead of new ones: "
                + describe_aliasing(call.aliased, ("grads", "max_norm"), ("clipped",)),
                "Return new arrays even when nothing is clipped: [g * coef for g in grads] "
                "(coef = 1.0 makes copies).")
    return ""


def _cb_shape_dtype(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    grads = [g.standard_normal((3, 3)), g.standard_normal(4)]
    value = value_of(student, "clip_by_global_norm", grads, 1.0).value
    what = "clip_by_global_norm of arrays of shapes (3, 3) and (4,)"
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], list)
            and isinstance(value[1], float)):
        raise CheckFailed(f"{what} should return a tuple (a list of arrays, a Python float); "
                          f"got {describe(value)}",
                          "Return `[coef * g for g in grads], float(total)`.")
    for i, (c, a) in enumerate(zip(value[0], grads)):
        expect_array(c, f"{what}: clipped[{i}]", shape=a.shape)
    return ""


def clip_checks() -> tuple[Check, ...]:
    p = "diagnostics.clip_by_global_norm."
    return (
        Check(p + "values", "parity", _cb_values, weight=3.0, requires=("torch",),
              timeout_s=60.0),
        Check(p + "tf_parity", "parity", _cb_tf_parity, weight=1.0, requires=("tensorflow",),
              timeout_s=60.0),
        Check(p + "no_scale_up", "unit", _cb_no_scale_up, weight=1.0, gated=True),
        Check(p + "shape_dtype", "unit", _cb_shape_dtype, weight=0.5, gated=True),
        Check(p + "no_mutation", "unit", _cb_no_mutation, weight=0.5, gated=True),
    )
