"""Checks of ``batchnorm_backward``.

Expected values come from ``grader.oracles.batchnorm`` (torch autograd of
``F.batch_norm`` in training mode, float64), from centred finite
differences of the oracle's forward pass (``.finite_differences``), and from
two identities of the exact gradient (``.zero_projections``).
"""
from __future__ import annotations

import numpy as np

from grader.check import Check, CheckFailed, expect_array, expected, fmt_shape
from grader.checks.batchnorm import mistakes
from grader.checks.batchnorm.judging import (backward_cases, backward_value, judge_backward,
                                             per_channel, x_hat)
from grader.oracles import batchnorm as oracle
from grader.properties import for_all
from grader.student import StudentRaised

__all__ = ["backward_checks"]

NDIMS = (2, 3, 4)
FD_STEP = 1e-5
FD_RTOL = 1e-7


def _hint(name, got, case):
    return mistakes.backward_hint(name, got, case)


def _values(student, rng) -> str:
    def prop(case):
        judge_backward(student(**case), case, expected(student, oracle.batchnorm_backward, **case),
                       "batchnorm_backward (compared with torch autograd, float64)", _hint)
    for ndim in NDIMS:
        for_all(backward_cases(ndim), prop, rng, max_examples=17, memory=student.memory,
                student=student)
    return ""


def _fd_gradients(dout, x, gamma, beta, eps):
    """Centred differences of L = sum(dout * out) through the oracle's forward pass."""
    C = x.shape[1]

    def loss(x_, gamma_, beta_):
        out, _, _ = oracle.batchnorm_forward(x_, gamma_, beta_, np.zeros(C), np.ones(C),
                                             training=True, eps=eps)
        return float(np.sum(dout * out))

    def grad(which, arr):
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += FD_STEP
            minus[idx] -= FD_STEP
            args_p = [x, gamma, beta]
            args_m = [x, gamma, beta]
            args_p[which], args_m[which] = plus, minus
            g[idx] = (loss(*args_p) - loss(*args_m)) / (2 * FD_STEP)
        return g

    return grad(0, x), grad(1, gamma), grad(2, beta)


def _finite_differences(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((6, 3), (4, 2, 3), (2, 3, 2, 2)):
        C = shape[1]
        x = (per_channel(g.uniform(-2, 2, C), len(shape))
             + per_channel(g.uniform(0.7, 1.5, C), len(shape)) * g.standard_normal(shape))
        dout, gamma, beta = g.standard_normal(shape), g.uniform(0.5, 2, C), g.standard_normal(C)
        eps = 1e-5
        numeric = expected(student, _fd_gradients, dout, x, gamma, beta, eps)
        got = backward_value(student(dout, x, gamma, eps=eps), shape, "batchnorm_backward")
        case = {"dout": dout, "x": x, "gamma": gamma, "eps": eps}
        for name, a, b in zip(("dx", "dgamma", "dbeta"), got, numeric):
            err = float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
            if not err < FD_RTOL:
                hint, mistake = _hint(name, got, case)
                raise CheckFailed(
                    f"batchnorm_backward on x of shape {fmt_shape(shape)}, eps={eps:g}: {name} "
                    f"is not the gradient of the training-mode forward pass; it differs from "
                    f"centred finite differences by {err:.3g} relative to its size", hint,
                    f"max|got - numeric| / max|numeric| = {err:.3g} > {FD_RTOL:g}; with h = "
                    f"{FD_STEP:g} and channel standard deviations near 1 the finite difference "
                    "is accurate to ~1e-9 here (truncation ~1e-10, rounding ~1e-16 |loss| / h)",
                    mistake)
    return ""


_EPS_PROJ = 1e-10


def _zero_projections(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((5, 3), (3, 3, 4), (2, 3, 2, 3)):
        C, axes = shape[1], oracle.reduce_axes(len(shape))
        x = g.standard_normal(shape) * per_channel(g.uniform(0.1, 10, C), len(shape))
        dout, gamma = g.standard_normal(shape), g.uniform(0.5, 2, C)
        got = backward_value(student(dout, x, gamma, eps=_EPS_PROJ), shape,
                             "batchnorm_backward")
        dx = got[0]
        mu = x.mean(axis=axes)
        var = ((x - per_channel(mu, x.ndim)) ** 2).mean(axis=axes)
        xh = x_hat(x, mu, var, _EPS_PROJ)
        s = np.sqrt(var + _EPS_PROJ)
        m = oracle.values_per_channel(shape)
        # round-off: every dx term is at most |gamma|/s * |dout| * (1 + x_hat^2), m of them
        term = np.abs(gamma) / s * np.abs(dout).max(axis=axes) * \
            (1 + np.abs(xh).max(axis=axes) ** 2) * m
        # sum(dx) = 0 exactly; sum(dx x_hat) = gamma/s * sum(dout x_hat) * eps / (var + eps)
        eps_term = np.abs(gamma) / s * np.abs(dout * xh).sum(axis=axes) * _EPS_PROJ / (
            var + _EPS_PROJ)
        for name, weight, allowance in (("sum(dx)", np.ones_like(x), 0.0),
                                        ("sum(dx * x_hat)", xh, eps_term)):
            total = (dx * weight).sum(axis=axes)
            bound = 1e-10 * term * np.abs(weight).max(axis=axes) + allowance
            if not np.all(np.abs(total) <= bound):
                c = int(np.argmax(np.nan_to_num(np.abs(total) / bound, nan=np.inf)))
                raise CheckFailed(
                    f"the normalisation ignores shifts and rescalings of a channel, so {name} "
                    f"must be 0 in every channel (up to the tiny eps={_EPS_PROJ:g}); "
                    f"batchnorm_backward on x of shape {fmt_shape(shape)} gives "
                    f"{total[c]:.3g} in channel {c}",
                    "sum(dx) != 0: the term through the batch mean (- sum(dout)) is missing; "
                    "sum(dx * x_hat) != 0: the term through the variance "
                    "(- x_hat * sum(dout * x_hat)) is missing.",
                    f"tolerance {bound[c]:.3g}: 1e-10 * m * the largest term of dx (float64 "
                    "round-off) plus the exact effect of eps")
    return ""


def _no_mutation(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((4, 3), (2, 3, 2, 2)):
        call = student.call(g.standard_normal(shape), g.standard_normal(shape),
                            g.uniform(0.5, 2, 3), eps=1e-5)
        what = f"batchnorm_backward (x of shape {fmt_shape(shape)})"
        if call.raised is not None:
            raise StudentRaised(call.raised, what)
        names = {"input[0][0]": "dout", "input[0][1]": "x", "input[0][2]": "gamma"}
        if call.mutated:
            raise CheckFailed(
                f"{what} modified its argument(s) "
                f"{', '.join(names.get(p, p) for p in call.mutated)}; no argument may change",
                "Work on new arrays (x - mu, dout * x_hat, ...), not in place.")
        if call.aliased:
            raise CheckFailed(f"{what} returned one of its arguments instead of a new array "
                              f"({', '.join(call.aliased)})", "Return new arrays.")
    return ""


def _shape_dtype(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((4, 3), (3, 3, 2, 2)):
        what = f"batchnorm_backward (x of shape {fmt_shape(shape)})"
        value = student(g.standard_normal(shape), g.standard_normal(shape), g.uniform(0.5, 2, 3))
        if not isinstance(value, tuple) or len(value) != 3:
            raise CheckFailed(f"{what} should return a tuple (dx, dgamma, dbeta); got a "
                              f"{type(value).__name__}", "Return `dx, dgamma, dbeta`.")
        for name, v, want in zip(("dx", "dgamma", "dbeta"), value, (shape, (3,), (3,))):
            expect_array(v, f"{what}: {name}", shape=want)
    return ""


def _single_value(student, rng) -> str:
    for shape in ((1, 3), (1, 3, 1, 1)):
        x = np.arange(1.0, 4.0).reshape(shape)
        call = student.call(np.ones(shape), x, np.ones(3))
        if call.raised is None or not call.raised.is_a("ValueError"):
            got = "returned normally" if call.raised is None else f"raised {call.raised.type}"
            raise CheckFailed(
                f"batchnorm_backward on x of shape {fmt_shape(shape)} (m = 1 value per "
                f"channel) should raise ValueError, as the forward pass does; it {got}",
                "Check m = N * prod(spatial) < 2 and raise ValueError.")
    return ""


def backward_checks() -> tuple[Check, ...]:
    p = "batchnorm.batchnorm_backward."
    torch = ("torch",)
    return (
        Check(p + "values", "parity", _values, weight=3.0, requires=torch, timeout_s=60.0),
        Check(p + "finite_differences", "unit", _finite_differences, weight=1.5,
              requires=torch),
        Check(p + "zero_projections", "unit", _zero_projections, weight=1.0),
        Check(p + "shape_dtype", "unit", _shape_dtype, weight=0.5, gated=True),
        Check(p + "no_mutation", "unit", _no_mutation, weight=0.5, gated=True),
        Check(p + "single_value_raises", "unit", _single_value, weight=0.5, gated=True),
    )
