"""How a batch-norm value is judged: the inputs generated, the tolerances, the verdict.

Tolerances. Every comparison is ``|got - expected| <= rtol * (|expected| +
scale)``, where ``scale`` is the size of the terms the value is computed from
(for ``out``: ``|gamma| * max|x_hat| + |beta|`` of its channel; for a running
mean ``|old| + max|x|``; for a running variance ``|old| + mean(x^2) m/(m-1)``;
for ``dx``: ``|gamma| / s * max|dout| * (1 + max|x_hat|^2)`` of its channel). The inputs
keep ``|x| <= 11`` and every channel's variance above 1e-3, so even the
cancellation-prone ``E[x^2] - E[x]^2`` loses at most ``~1e5`` ulps
(relative ``~3e-11``); ``rtol = 1e-7`` is more than 1000 times that, while
every bug these checks target changes a value by ``1e-6`` (``eps`` moved
outside the root on a channel of variance 1e2) to ``O(1)`` relative.

``eps`` is always positive: what a function does with ``eps <= 0`` is not
graded (PyTorch refuses it).

Values are compared wherever they can be compared: a ``(1, C)`` running mean
holds ``C`` values (``grader.check.values``); the exact shapes and dtypes are
the ``shape_dtype`` checks' alone.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.check import CheckFailed, describe, fmt_shape, values
from grader.oracles.batchnorm import reduce_axes, values_per_channel

__all__ = ["RTOL", "EPSILONS", "per_channel", "x_hat", "forward_cases", "backward_cases",
           "describe_case", "forward_value", "backward_value", "judge_forward",
           "judge_backward", "close", "spread"]

RTOL = 1e-7  # float64 round-off here stays below ~3e-11 relative (module docstring)
EPSILONS = (1e-5, 1e-3, 0.1)
_SAFE = ("float64 round-off stays below 1e-10 relative here, so the tolerance "
         f"{RTOL:g} only fails a real error")


def per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return np.asarray(v).reshape((1, -1) + (1,) * (ndim - 2))


def x_hat(x: np.ndarray, mu: np.ndarray, var: np.ndarray, eps: float) -> np.ndarray:
    return (x - per_channel(mu, x.ndim)) / np.sqrt(per_channel(var, x.ndim) + eps)


def close(got: np.ndarray, expected: np.ndarray, scale, rtol: float, what: str,
          context: str, hint: str = "") -> None:
    """Raise CheckFailed unless ``|got - expected| <= rtol (|expected| + scale)``."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    err = np.abs(got - expected)
    bound = rtol * (np.abs(expected) + np.broadcast_to(scale, expected.shape))
    bad = ~(err <= bound)  # NaN counts as off
    if np.any(bad):
        score = np.where(bad, np.nan_to_num(err / np.maximum(bound, 1e-300), nan=np.inf), 0.0)
        worst = np.unravel_index(int(np.argmax(score)), expected.shape)
        where = f" at index {tuple(int(i) for i in worst)}" if expected.ndim else ""
        raise CheckFailed(
            f"{what}{where}: expected {expected[worst]:.10g}, got {float(got[worst]):.10g} "
            f"({int(bad.sum())} of {bad.size} values off; {context})", hint,
            f"|difference| {err[worst]:.3g} > tolerance {bound[worst]:.3g}; {_SAFE}")


def _triple(value, names: tuple[str, str, str], what: str):
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        got = describe(value) + (f" of length {len(value)}"
                                 if isinstance(value, (tuple, list)) else "")
        raise CheckFailed(f"{what} should return three arrays ({', '.join(names)}); got {got}",
                          "Return a tuple: `return " + ", ".join(names) + "`.")
    return value


def forward_value(value, shape, what: str):
    """(out, new_running_mean, new_running_var) as float64 arrays, wherever comparable."""
    C = shape[1]
    out, rm, rv = _triple(value, ("out", "new_running_mean", "new_running_var"), what)
    return (values(out, f"{what}: out", shape), values(rm, f"{what}: new_running_mean", (C,)),
            values(rv, f"{what}: new_running_var", (C,)))


def backward_value(value, shape, what: str):
    C = shape[1]
    dx, dgamma, dbeta = _triple(value, ("dx", "dgamma", "dbeta"), what)
    return (values(dx, f"{what}: dx", shape), values(dgamma, f"{what}: dgamma", (C,)),
            values(dbeta, f"{what}: dbeta", (C,)))


def spread(x: np.ndarray) -> np.ndarray:
    """Add a ramp to every channel whose variance is below 1e-3 (then it is above 0.3)."""
    x = np.array(x, dtype=np.float64)
    moved = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])  # (m, C) view of a copy
    m = moved.shape[0]
    ramp = np.linspace(-1.0, 1.0, m)
    for c in range(x.shape[1]):
        if moved[:, c].var() < 1e-3:
            moved[:, c] += ramp
    return np.moveaxis(moved.reshape(np.moveaxis(x, 1, -1).shape), -1, 1).copy()


_VALUES = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def forward_cases(draw, ndim: int, training=None, unbiased=None):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, 4))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(ndim - 2))
    is_training = draw(st.booleans()) if training is None else training
    if is_training and n * math.prod(spatial) < 2:
        n = 2
    shape = (n, c) + spatial
    x = spread(draw(hnp.arrays(np.float64, shape, elements=_VALUES)))

    def vec(lo, hi):
        return draw(hnp.arrays(np.float64, (c,), elements=st.floats(
            lo, hi, allow_nan=False, allow_subnormal=False)))

    return {
        "x": x, "gamma": vec(-3.0, 3.0), "beta": vec(-3.0, 3.0),
        "running_mean": vec(-5.0, 5.0), "running_var": vec(1e-3, 10.0),
        "training": is_training,
        "momentum": draw(st.floats(0.0, 1.0, allow_subnormal=False)),
        "eps": draw(st.sampled_from(EPSILONS)),
        "unbiased_running_var": draw(st.booleans()) if unbiased is None else unbiased,
    }


@st.composite
def backward_cases(draw, ndim: int):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, 4))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(ndim - 2))
    if n * math.prod(spatial) < 2:
        n = 2
    shape = (n, c) + spatial
    x = spread(draw(hnp.arrays(np.float64, shape, elements=_VALUES)))
    dout = draw(hnp.arrays(np.float64, shape, elements=st.floats(
        -5.0, 5.0, allow_nan=False, allow_subnormal=False)))
    gamma = draw(hnp.arrays(np.float64, (c,), elements=st.floats(
        -3.0, 3.0, allow_nan=False, allow_subnormal=False)))
    return {"dout": dout, "x": x, "gamma": gamma, "eps": draw(st.sampled_from(EPSILONS))}


def describe_case(case: dict) -> str:
    if "dout" in case:
        return f"x of shape {fmt_shape(case['x'].shape)}, eps={case['eps']:g}"
    return (f"x of shape {fmt_shape(case['x'].shape)}, training={case['training']}, "
            f"momentum={case['momentum']:.6g}, eps={case['eps']:g}, "
            f"unbiased_running_var={case['unbiased_running_var']}")


def _forward_scales(case: dict):
    """The ``scale`` of out, new_running_mean and new_running_var (module docstring)."""
    x = case["x"]
    axes = reduce_axes(x.ndim)
    if case["training"]:
        mu = x.mean(axis=axes)
        var = ((x - per_channel(mu, x.ndim)) ** 2).mean(axis=axes)
    else:
        mu, var = case["running_mean"], case["running_var"]
    xh = x_hat(x, mu, var, case["eps"])
    out_scale = per_channel(np.abs(case["gamma"]) * np.abs(xh).max(axis=axes)
                            + np.abs(case["beta"]), x.ndim)
    m = values_per_channel(x.shape)
    mean_scale = np.abs(case["running_mean"]) + np.abs(x).max(axis=axes)
    var_scale = np.abs(case["running_var"]) + (x * x).mean(axis=axes) * m / max(m - 1, 1)
    return out_scale, mean_scale, var_scale


def _judge(names, triple, case: dict, expected, scales, what: str, hint, rtol: float) -> None:
    """Each output against its expected value; the first that is off fails, with its hint."""
    context = describe_case(case)
    for name, g, e, s in zip(names, triple, expected, scales):
        try:
            close(g, e, s, rtol, f"{what}: {name}", context)
        except CheckFailed as failure:
            diagnosis = hint(name, triple, case)
            raise CheckFailed(failure.message, diagnosis.hint, failure.evidence,
                              diagnosis.mistake) from None


def judge_forward(got, case: dict, expected, what: str, hint, rtol: float = RTOL) -> None:
    """``got`` (the forward triple) against ``expected``; ``hint(name, got_triple)``."""
    triple = forward_value(got, case["x"].shape, what)
    _judge(("out", "new_running_mean", "new_running_var"), triple, case, expected,
           _forward_scales(case), what, hint, rtol)


def _backward_scales(case: dict):
    x, dout, gamma, eps = case["x"], case["dout"], case["gamma"], case["eps"]
    axes = reduce_axes(x.ndim)
    mu = x.mean(axis=axes)
    var = ((x - per_channel(mu, x.ndim)) ** 2).mean(axis=axes)
    xh = x_hat(x, mu, var, eps)
    s = np.sqrt(var + eps)
    dx_scale = (np.abs(gamma) / s * np.abs(dout).max(axis=axes)
                * (1.0 + np.abs(xh).max(axis=axes) ** 2))
    return (per_channel(dx_scale, x.ndim), np.abs(dout * xh).sum(axis=axes),
            np.abs(dout).sum(axis=axes))


def judge_backward(got, case: dict, expected, what: str, hint, rtol: float = RTOL) -> None:
    triple = backward_value(got, case["x"].shape, what)
    _judge(("dx", "dgamma", "dbeta"), triple, case, expected, _backward_scales(case), what,
           hint, rtol)
