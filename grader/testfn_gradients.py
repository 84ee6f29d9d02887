"""The analytic gradients of ``grader.testfns``, which grade ``numerical_gradient``.

Kept apart from the functions: a worker loads ``grader.testfns`` to rebuild
what the grader hands the student's code, and must not hold the answers (a
student's function could look them up in ``sys.modules``).
"""
from __future__ import annotations

import numpy as np

from grader.testfns import NAMES, coupling, weights

__all__ = ["gradient", "fd_error_bound"]

_EPS = float(np.finfo(np.float64).eps)


def quadratic_grad(x, a=1.0, b=0.0):
    return 2.0 * a * np.asarray(x, dtype=float) + b


def cubic_grad(x, c=1.0):
    return 3.0 * c * np.asarray(x, dtype=float) ** 2


def tanh_weighted_grad(x, w=None):
    x = np.asarray(x, dtype=float)
    w = weights(x.shape)
    return w * (1.0 - np.tanh(w * x) ** 2)


def exp_sin_grad(x):
    x = np.asarray(x, dtype=float)
    return np.exp(0.3 * x) * (0.3 * np.sin(x) + np.cos(x))


def poly_grad(x, a1=0.0, a2=0.0, a3=1.0):
    x = np.asarray(x, dtype=float)
    return 3.0 * a3 * x**2 + 2.0 * a2 * x + a1


def coupled_grad(x, s=1.0):
    x = np.asarray(x, dtype=float)
    u, w = coupling(x.shape)
    return 0.2 * u * np.exp(0.2 * np.sum(u * x)) + s * w * (1.0 - np.tanh(s * np.sum(w * x)) ** 2)


_GRADIENTS = {"quadratic": quadratic_grad, "cubic": cubic_grad,
              "tanh_weighted": tanh_weighted_grad, "exp_sin": exp_sin_grad, "poly": poly_grad,
              "coupled": coupled_grad}
assert tuple(_GRADIENTS) == NAMES


def gradient(name: str, params: dict, x):
    return _GRADIENTS[name](x, **params)


def fd_error_bound(name: str, params: dict, x, h: float, truncation: bool = True) -> np.ndarray:
    """An upper bound, per element, on |centred difference - exact gradient| in float64.

    Three parts, each a worst case: truncation ``h²/6 · max|∂³f/∂x_i³|`` over
    ``[x_i - h, x_i + h]``; rounding of the two evaluations of ``f``, at most
    ``(n + 8)·eps·S`` each, with ``S`` a bound on the sum of the absolute values of
    the terms ``f`` adds up (naive summation of ``n`` terms, a few ulps per
    elementary function), divided by ``2h``; and the step actually taken,
    ``fl(x_i ± h) - x_i``, which differs from ``±h`` by up to ``eps·(|x_i| + h)``.
    ``truncation=False`` leaves the first part out (for a caller that adds the
    exact truncation error itself, e.g. ``c·h²`` for ``cubic``).
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    ax = np.abs(x) + h
    p = dict(params)
    if name == "quadratic":
        a, b = p.get("a", 1.0), p.get("b", 0.0)
        third = np.zeros_like(x)
        total = np.sum(abs(a) * ax**2 + abs(b) * ax)
    elif name == "cubic":
        c = p.get("c", 1.0)
        third = np.full_like(x, 6.0 * abs(c))
        total = np.sum(abs(c) * ax**3)
    elif name == "poly":
        a1, a2, a3 = p.get("a1", 0.0), p.get("a2", 0.0), p.get("a3", 1.0)
        third = np.full_like(x, 6.0 * abs(a3))
        total = np.sum(abs(a3) * ax**3 + abs(a2) * ax**2 + abs(a1) * ax)
    elif name == "tanh_weighted":
        w = np.abs(weights(x.shape))
        third = 2.0 * w**3  # the third derivative of tanh is at most 2 in size
        total = float(n)
    elif name == "exp_sin":
        third = np.exp(0.3 * ax) * 1.3**3
        total = np.sum(np.exp(0.3 * ax))
    elif name == "coupled":
        u, w = coupling(x.shape)
        s = abs(p.get("s", 1.0))
        inner = 0.2 * np.sum(np.abs(u) * ax)
        third = 0.008 * np.abs(u) ** 3 * np.exp(inner) + 2.0 * (s * np.abs(w)) ** 3
        # rounding of the inner products feeds through exp (factor exp) and tanh (factor 1)
        total = np.exp(inner) * (1.0 + inner) + 1.0 + s * np.sum(np.abs(w) * ax)
    else:
        raise KeyError(name)
    truncation_part = h * h / 6.0 * third if truncation else 0.0
    rounding = (n + 8) * _EPS * float(total) / h
    grad = np.abs(gradient(name, params, x))
    step = grad * _EPS * ax / h
    return truncation_part + rounding + step
