"""Functions the grader hands to student code (e.g. to ``numerical_gradient``).

They travel as ``wire.Fn(name, params)`` and are rebuilt in the worker; each
has a known analytic gradient, ``<name>_grad``, used by the grader.
"""
from __future__ import annotations

import numpy as np

__all__ = ["NAMES", "make", "gradient"]


def quadratic(x, a=1.0, b=0.0):
    """f(x) = a·Σx² + b·Σx."""
    x = np.asarray(x, dtype=float)
    return float(a * np.sum(x * x) + b * np.sum(x))


def quadratic_grad(x, a=1.0, b=0.0):
    return 2.0 * a * np.asarray(x, dtype=float) + b


def cubic(x, c=1.0):
    """f(x) = c·Σx³ (a one-sided difference is off by O(h) here)."""
    x = np.asarray(x, dtype=float)
    return float(c * np.sum(x**3))


def cubic_grad(x, c=1.0):
    return 3.0 * c * np.asarray(x, dtype=float) ** 2


def tanh_weighted(x, w=None):
    """f(x) = Σ tanh(w ⊙ x) with a fixed weight pattern w = 1 + 0.5·cos(k)."""
    x = np.asarray(x, dtype=float)
    w = _weights(x.shape)
    return float(np.sum(np.tanh(w * x)))


def tanh_weighted_grad(x, w=None):
    x = np.asarray(x, dtype=float)
    w = _weights(x.shape)
    return w * (1.0 - np.tanh(w * x) ** 2)


def exp_sin(x):
    """f(x) = Σ exp(0.3·x)·sin(x): smooth, neither even nor odd."""
    x = np.asarray(x, dtype=float)
    return float(np.sum(np.exp(0.3 * x) * np.sin(x)))


def exp_sin_grad(x):
    x = np.asarray(x, dtype=float)
    return np.exp(0.3 * x) * (0.3 * np.sin(x) + np.cos(x))


def _weights(shape):
    k = np.arange(int(np.prod(shape)), dtype=float).reshape(shape)
    return 1.0 + 0.5 * np.cos(k)


_FUNCTIONS = {
    "quadratic": (quadratic, quadratic_grad),
    "cubic": (cubic, cubic_grad),
    "tanh_weighted": (tanh_weighted, tanh_weighted_grad),
    "exp_sin": (exp_sin, exp_sin_grad),
}
NAMES = tuple(_FUNCTIONS)


def make(name: str, params: dict):
    """The function ``name`` with ``params`` bound, as a plain callable."""
    f, _ = _FUNCTIONS[name]
    return lambda x: f(x, **params)


def gradient(name: str, params: dict, x):
    _, g = _FUNCTIONS[name]
    return g(x, **params)
