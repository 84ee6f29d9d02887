"""Functions the grader hands to student code (e.g. to ``numerical_gradient``).

They travel as ``wire.Fn(name, params)`` and are rebuilt in the worker. Their
analytic gradients, which grade the student's, are in
``grader.testfn_gradients``, a module no worker loads.
"""
from __future__ import annotations

import numpy as np

__all__ = ["NAMES", "make", "weights", "coupling"]


def quadratic(x, a=1.0, b=0.0):
    """f(x) = a·Σx² + b·Σx."""
    x = np.asarray(x, dtype=float)
    return float(a * np.sum(x * x) + b * np.sum(x))


def cubic(x, c=1.0):
    """f(x) = c·Σx³ (a one-sided difference is off by O(h) here)."""
    x = np.asarray(x, dtype=float)
    return float(c * np.sum(x**3))


def tanh_weighted(x, w=None):
    """f(x) = Σ tanh(w ⊙ x) with a fixed weight pattern w = 1 + 0.5·cos(k)."""
    x = np.asarray(x, dtype=float)
    w = weights(x.shape)
    return float(np.sum(np.tanh(w * x)))


def exp_sin(x):
    """f(x) = Σ exp(0.3·x)·sin(x): smooth, neither even nor odd."""
    x = np.asarray(x, dtype=float)
    return float(np.sum(np.exp(0.3 * x) * np.sin(x)))


def poly(x, a1=0.0, a2=0.0, a3=1.0):
    """f(x) = Σ (a3·x³ + a2·x² + a1·x)."""
    x = np.asarray(x, dtype=float)
    return float(np.sum(a3 * x**3 + a2 * x**2 + a1 * x))


def coupled(x, s=1.0):
    """f(x) = exp(0.2·⟨u, x⟩) + tanh(s·⟨w, x⟩): not a sum over elements, so every
    partial derivative depends on every element (a perturbation left in place shows)."""
    x = np.asarray(x, dtype=float)
    u, w = coupling(x.shape)
    return float(np.exp(0.2 * np.sum(u * x)) + np.tanh(s * np.sum(w * x)))


def coupling(shape):
    """The fixed vectors u and w of ``coupled``, for an input of this shape."""
    n = max(1, int(np.prod(shape)))
    k = np.arange(n, dtype=float).reshape(shape)
    return np.sin(k + 1.0), (1.0 + 0.5 * np.cos(2.0 * k)) / np.sqrt(n)


def weights(shape):
    """The fixed weight pattern w = 1 + 0.5·cos(k) of ``tanh_weighted``."""
    k = np.arange(int(np.prod(shape)), dtype=float).reshape(shape)
    return 1.0 + 0.5 * np.cos(k)


_FUNCTIONS = {"quadratic": quadratic, "cubic": cubic, "tanh_weighted": tanh_weighted,
              "exp_sin": exp_sin, "poly": poly, "coupled": coupled}
NAMES = tuple(_FUNCTIONS)


def make(name: str, params: dict):
    """The function ``name`` with ``params`` bound, as a plain callable."""
    f = _FUNCTIONS[name]
    return lambda x: f(x, **params)
