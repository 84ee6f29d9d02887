"""Gradient diagnostics for deep networks, written with NumPy only.

This module is the reference solution for ``diagnostics.py``. It is meant to be
read: every function explains the mathematics it implements. It covers the
handout's questions on vanishing gradients (Q1), saturating activations (Q3),
exploding gradients (Q4) and the role of initialisation (Q5).

The model used throughout
-------------------------
A plain multi-layer perceptron without biases, with ``L`` weight matrices in
PyTorch's layout: ``weights[l-1]`` is ``W_l`` of shape ``(d_l, d_{l-1})``
(outputs first, inputs second, like ``torch.nn.Linear.weight``). A batch ``x``
has shape ``(N, d_0)``::

    h_0 = x
    z_l = h_{l-1} @ W_l.T                 shape (N, d_l)
    h_l = phi(z_l)                        for l = 1 .. L-1 (hidden layers)
    output = z_L                          the last layer stays linear
    loss = 0.5 * sum(z_L ** 2) / N

Backpropagation
---------------
Write ``delta_l = d loss / d z_l`` (shape ``(N, d_l)``). Then::

    delta_L = z_L / N
    d loss / d W_l = delta_l.T @ h_{l-1}              shape (d_l, d_{l-1})
    delta_{l-1} = (delta_l @ W_l) * phi'(z_{l-1})     elementwise product

Unrolling the recursion, the signal that reaches layer ``l`` is ``delta_L``
multiplied by one Jacobian per layer above it, ``W_k`` followed by
``diag(phi'(z_{k-1}))``. A product of ``L - l`` factors behaves like a power:
if a typical factor shrinks vectors (small weights, or a saturated activation
whose derivative is near zero) the gradient of the input-side layers
*vanishes* geometrically with depth (Q1); if it stretches them (weights that
are too large) the gradient *explodes* (Q4). The output-side layers are
barely affected, so the symptom is a large ratio between the gradient norms of
the first and of the last layer, which is exactly what :func:`diagnose` looks
at.

For a layer of width ``n`` with independent zero-mean weights of variance
``s`` and inputs of second moment ``q``, each pre-activation has second moment
``n * s * q``. With a linear activation the factor ``n * s`` is applied once
per layer, so after 50 layers of width 100 with ``s = 0.02`` the variance has
grown by ``(100 * 0.02) ** 50 = 2 ** 50``. Initialisation schemes choose ``s``
so that this factor is 1: Xavier/Glorot uses ``s = 2 / (fan_in + fan_out)``
(a compromise between the forward pass, which wants ``1 / fan_in``, and the
backward pass, which wants ``1 / fan_out``); He uses ``s = 2 / fan_in``
because a ReLU zeroes half of its inputs and so halves the second moment.

Saturation and dead units (Q3)
------------------------------
``sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z)) <= 1/4`` (the maximum is at
``z = 0``) and ``tanh'(z) = 1 - tanh(z) ** 2 <= 1``; both tend to 0 as
``|z|`` grows, so a unit whose pre-activation is large in magnitude passes
almost no gradient back ("saturated"). Even unsaturated, a sigmoid divides the
gradient by at least 4 per layer. ReLU does not saturate for positive inputs
(derivative 1) but has derivative 0 for negative ones; a unit that is negative
for every input is "dead" and its incoming weights never change.
:func:`activation_stats` measures both effects.

Remedies for exploding gradients (Q4) include a better initialisation,
normalisation layers and gradient clipping, implemented here by
:func:`clip_by_global_norm`.

Every function converts its inputs to new ``float64`` arrays, so no argument
is ever modified.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "numerical_gradient",
    "relative_error",
    "mlp_gradient_norms",
    "activation_stats",
    "diagnose",
    "clip_by_global_norm",
]

_ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu")
_LEAKY_SLOPE = 0.01


# ---------------------------------------------------------------------------
# Gradient checking
# ---------------------------------------------------------------------------


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-5) -> np.ndarray:
    """Estimate the gradient of a scalar function by centred differences.

    For every element ``i`` of ``x`` (any shape, including 0-d and empty)::

        grad[i] = (f(x + h * e_i) - f(x - h * e_i)) / (2 * h)

    where ``e_i`` is the array that is 1 at position ``i`` and 0 elsewhere.
    The centred difference has error ``O(h**2)`` (the one-sided
    ``(f(x + h e_i) - f(x)) / h`` only ``O(h)``); making ``h`` much smaller
    than about ``1e-5`` does not help in float64 because the rounding error
    of the subtraction grows like ``eps / h``.

    Use it to check an analytic gradient (for example the backward pass of
    :func:`mlp_gradient_norms`) together with :func:`relative_error`.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a real number.
    x : array_like
        The point at which to differentiate. It is copied to a float64
        array and perturbed in that copy only, so the caller's ``x`` is
        unchanged (an integer ``x`` would otherwise truncate ``x + h``).
    h : float
        The step.

    Returns
    -------
    numpy.ndarray
        A float64 array of the same shape as ``x``.
    """
    point = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        original = point[index]
        point[index] = original + h
        f_plus = float(f(point))
        point[index] = original - h
        f_minus = float(f(point))
        point[index] = original  # restore before moving to the next element
        grad[index] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a, b) -> float:
    """Largest elementwise relative error between two arrays of one shape.

    ::

        max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|)

    The floor ``1e-8`` keeps the ratio finite where both entries are zero.
    Typical readings when comparing an analytic gradient with
    :func:`numerical_gradient` in float64: below ``1e-7`` the gradient is
    right; around ``1e-4`` or above something is wrong (or a kink such as
    ``relu`` at 0 was crossed by the finite difference).

    Shapes must match exactly (broadcasting would silently compare the wrong
    entries), otherwise ``ValueError``. Two empty arrays give ``0.0``.
    Returns a Python float.
    """
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"shapes differ: {a_arr.shape} and {b_arr.shape}")
    if a_arr.size == 0:
        return 0.0
    numerator = np.abs(a_arr - b_arr)
    denominator = np.maximum(1e-8, np.abs(a_arr) + np.abs(b_arr))
    return float(np.max(numerator / denominator))


# ---------------------------------------------------------------------------
# The MLP: a shared forward pass
# ---------------------------------------------------------------------------


def _act(z: np.ndarray, activation: str) -> np.ndarray:
    """phi(z) for one of the supported activations."""
    if activation == "linear":
        return z.copy()
    if activation == "sigmoid":
        # exp(-|z|) never overflows; both branches equal 1 / (1 + exp(-z)).
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.maximum(z, 0.0)
    # leaky_relu
    return np.where(z > 0, z, _LEAKY_SLOPE * z)


def _act_derivative(z: np.ndarray, h: np.ndarray, activation: str) -> np.ndarray:
    """phi'(z), using the activation h = phi(z) where that is cheaper.

    The derivative is evaluated at the pre-activation ``z``; for sigmoid and
    tanh it is conveniently expressed through ``h`` (as autograd libraries
    do). At the ReLU kink ``z = 0`` the derivative is taken as 0 (leaky:
    0.01), which is PyTorch's convention.
    """
    if activation == "linear":
        return np.ones_like(z)
    if activation == "sigmoid":
        return h * (1.0 - h)  # at most 1/4, reached at z = 0
    if activation == "tanh":
        return 1.0 - h * h  # at most 1, reached at z = 0
    if activation == "relu":
        return (z > 0).astype(np.float64)
    # leaky_relu
    return np.where(z > 0, 1.0, _LEAKY_SLOPE)


def _forward(weights: Sequence, x, activation: str):
    """Validate the inputs and run the forward pass.

    Returns ``(ws, hs, zs)``: float64 copies of the weights, the layer
    inputs ``hs = [h_0, ..., h_{L-1}]`` and the pre-activations
    ``zs = [z_1, ..., z_L]``. Raises ``ValueError`` for an unknown
    activation, an empty weight list, a weight or ``x`` that is not 2-D, an
    empty batch, or shapes that do not chain.
    """
    if not isinstance(activation, str) or activation not in _ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; expected one of {', '.join(_ACTIVATIONS)}"
        )
    ws = [np.array(w, dtype=np.float64, copy=True) for w in weights]
    if not ws:
        raise ValueError("weights must hold at least one matrix")
    h = np.array(x, dtype=np.float64, copy=True)
    if h.ndim != 2:
        raise ValueError(f"x must be 2-D (N, d_0), got shape {h.shape}")
    if h.shape[0] == 0:
        raise ValueError("x must hold at least one sample (the loss divides by N)")
    width = h.shape[1]
    for index, w in enumerate(ws):
        if w.ndim != 2:
            raise ValueError(f"weights[{index}] must be 2-D (d_out, d_in), got shape {w.shape}")
        if w.shape[1] != width:
            raise ValueError(
                f"weights[{index}] has shape {w.shape}; its input size must be {width}"
            )
        width = w.shape[0]

    hs = [h]
    zs = []
    for index, w in enumerate(ws):
        z = hs[-1] @ w.T
        zs.append(z)
        if index < len(ws) - 1:  # hidden layer: apply the activation
            hs.append(_act(z, activation))
    return ws, hs, zs


def mlp_gradient_norms(weights, x, activation: str = "tanh") -> list[float]:
    """Frobenius norm of the loss gradient for every weight matrix.

    Runs the forward pass described in the module docstring (hidden layers
    activated, the last one linear, ``loss = 0.5 * sum(z_L**2) / N``), then
    backpropagates::

        delta = z_L / N
        for l = L, ..., 1:
            grad_W_l = delta.T @ h_{l-1}                  # (d_l, d_{l-1})
            if l > 1:
                delta = (delta @ W_l) * phi'(z_{l-1})

    and returns ``[||grad_W_1||_F, ..., ||grad_W_L||_F]``, input side first,
    as Python floats.

    Reading the result: with too-small weights or saturating activations the
    first entries are orders of magnitude below the last (vanishing, Q1,
    Q3); with too-large weights they are orders of magnitude above
    (exploding, Q4). Feed the list to :func:`diagnose`.

    Parameters
    ----------
    weights : sequence of array_like
        ``weights[l-1]`` is ``W_l`` with torch layout ``(d_l, d_{l-1})``.
    x : array_like
        Shape ``(N, d_0)``, ``N >= 1``.
    activation : str
        ``"linear"``, ``"sigmoid"``, ``"tanh"``, ``"relu"`` or
        ``"leaky_relu"`` (negative slope 0.01).

    Raises
    ------
    ValueError
        Unknown activation, empty ``weights``, non-2-D ``x`` or weight,
        empty batch, or shapes that do not chain.
    """
    ws, hs, zs = _forward(weights, x, activation)
    n_samples = hs[0].shape[0]
    norms = [0.0] * len(ws)
    delta = zs[-1] / n_samples
    for layer in range(len(ws) - 1, -1, -1):
        grad_w = delta.T @ hs[layer]
        norms[layer] = float(np.linalg.norm(grad_w))
        if layer > 0:
            delta = (delta @ ws[layer]) * _act_derivative(zs[layer - 1], hs[layer], activation)
    return norms


def activation_stats(weights, x, activation: str = "tanh") -> list[dict]:
    """Summary statistics of every hidden layer's activations.

    Same forward pass and the same ``ValueError`` rules as
    :func:`mlp_gradient_norms`. Returns one dict per hidden layer
    ``h_1 ... h_{L-1}`` (so an empty list for a single-layer model), each
    with Python floats:

    ``mean``, ``std``
        over all ``N * d_l`` entries; ``std`` is the population standard
        deviation (``ddof=0``). A std that shrinks layer after layer means
        the signal is dying out; one that grows means it is blowing up.
    ``saturated``
        fraction of entries in the flat tails where the derivative is almost
        0: ``h < 0.01 or h > 0.99`` for sigmoid, ``|h| > 0.99`` for tanh,
        ``0.0`` for the other activations.
    ``dead``
        for relu, fraction of entries exactly 0 (units that pass no
        gradient for that sample); ``0.0`` for the other activations.

    A hidden layer of width 0 has no entries; its four values are NaN.
    """
    _, hs, _ = _forward(weights, x, activation)
    stats = []
    for h in hs[1:]:
        if h.size == 0:
            nan = float("nan")
            stats.append({"mean": nan, "std": nan, "saturated": nan, "dead": nan})
            continue
        if activation == "sigmoid":
            saturated = float(np.mean((h < 0.01) | (h > 0.99)))
        elif activation == "tanh":
            saturated = float(np.mean(np.abs(h) > 0.99))
        else:
            saturated = 0.0
        dead = float(np.mean(h == 0.0)) if activation == "relu" else 0.0
        stats.append(
            {
                "mean": float(np.mean(h)),
                "std": float(np.std(h)),
                "saturated": saturated,
                "dead": dead,
            }
        )
    return stats


# ---------------------------------------------------------------------------
# Diagnosis and a remedy
# ---------------------------------------------------------------------------

_MARGIN = 1e-9


def diagnose(grad_norms, ratio: float = 100.0) -> str:
    """Classify per-layer gradient norms as vanishing, exploding or healthy.

    ``grad_norms`` is ordered input side first, as returned by
    :func:`mlp_gradient_norms`; ``first`` is its first entry, ``last`` its
    last. The decision list, applied in this order:

    1. fewer than two norms, a negative norm, or ``ratio <= 1``:
       ``ValueError`` (a norm cannot be negative, so ``-inf`` is invalid);
    2. any norm not finite (``inf`` or ``nan``): ``"exploding"``;
    3. ``first == 0``: ``"vanishing"`` (nothing reaches the input layer);
    4. ``last == 0``: ``"exploding"`` (infinitely larger at the input);
    5. with ``r = first / last``: ``"vanishing"`` if ``r < 1 / ratio``,
       ``"exploding"`` if ``r > ratio``, otherwise ``"healthy"``.

    The comparisons in step 5 keep a relative margin of ``1e-9``: ``r``
    must be below ``(1 / ratio) * (1 - 1e-9)`` or above
    ``ratio * (1 + 1e-9)``, so a ratio that sits on a boundary up to
    rounding is ``"healthy"``.

    Why the ratio of the two ends: backpropagation multiplies the output
    gradient by one Jacobian per layer on its way to the input, so a
    systematic shrink or growth per layer shows up as a first/last ratio
    that is exponential in depth, while the absolute scale also depends on
    the loss and the data.
    """
    norms = [float(g) for g in grad_norms]
    ratio = float(ratio)
    if len(norms) < 2:
        raise ValueError("need the gradient norms of at least two layers")
    if any(g < 0 for g in norms):
        raise ValueError("gradient norms cannot be negative")
    if not ratio > 1.0:
        raise ValueError(f"ratio must be > 1, got {ratio}")
    if not all(math.isfinite(g) for g in norms):
        return "exploding"
    first, last = norms[0], norms[-1]
    if first == 0.0:
        return "vanishing"
    if last == 0.0:
        return "exploding"
    r = first / last  # may overflow to inf or underflow to 0: both classify correctly
    if r < (1.0 / ratio) * (1.0 - _MARGIN):
        return "vanishing"
    if r > ratio * (1.0 + _MARGIN):
        return "exploding"
    return "healthy"


def clip_by_global_norm(grads, max_norm: float):
    """Rescale a list of gradients so that their joint L2 norm is at most ``max_norm``.

    This is ``torch.nn.utils.clip_grad_norm_`` (without its in-place update)::

        total = sqrt(sum over arrays g of sum(g ** 2))
        coef = min(1, max_norm / (total + 1e-6))
        clipped = [coef * g for g in grads]

    and returns ``(clipped, total)``: a list of new float64 arrays and the
    norm *before* clipping as a Python float. The arrays passed in are not
    modified, and the gradients are never scaled up (``coef <= 1``).

    Clipping the *global* norm keeps the direction of the full update and
    only shortens it, which is why it is the usual guard against exploding
    gradients (Q4): one huge step can no longer throw the weights far away.
    Clipping each array separately would change the direction. Clipping
    treats the symptom; a good initialisation (Q5) treats the cause.

    An empty list gives ``([], 0.0)``. If ``total`` is not finite the
    result follows PyTorch: ``coef`` is 0 (for ``inf``) or NaN (for NaN).
    A negative or NaN ``max_norm`` raises ``ValueError``.
    """
    max_norm = float(max_norm)
    if not max_norm >= 0:  # also rejects NaN
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    arrays = [np.array(g, dtype=np.float64, copy=True) for g in grads]
    if not arrays:
        return [], 0.0
    # Norm of the per-array norms, as PyTorch computes it.
    total = float(np.linalg.norm([np.linalg.norm(g.ravel()) for g in arrays]))
    with np.errstate(invalid="ignore", over="ignore"):
        coef = min(1.0, max_norm / (total + 1e-6)) if not math.isnan(total) else float("nan")
        clipped = [g * coef for g in arrays]
    return clipped, total
