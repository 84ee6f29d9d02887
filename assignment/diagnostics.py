"""Gradient diagnostics for deep networks -- your task.

Implement the six functions below with NumPy and the standard library only
(no torch, TensorFlow, Keras or JAX: the grader checks this). Each function
body currently raises ``NotImplementedError``; replace it with your code and
keep the signatures unchanged. No function may modify its arguments.

These functions turn the handout's questions on vanishing gradients (Q1),
saturating activations (Q3), exploding gradients (Q4) and initialisation
(Q5) into measurements you can make on a real network.

The model used throughout
-------------------------
A multi-layer perceptron without biases. ``weights`` is a list of ``L``
matrices in PyTorch's layout: ``weights[l-1]`` is ``W_l`` with shape
``(d_l, d_{l-1})`` -- outputs first, inputs second, like
``torch.nn.Linear.weight``. A batch ``x`` has shape ``(N, d_0)``::

    h_0 = x
    z_l = h_{l-1} @ W_l.T          shape (N, d_l)
    h_l = phi(z_l)                 hidden layers l = 1 .. L-1
    output = z_L                   the last layer is NOT activated
    loss = 0.5 * sum(z_L ** 2) / N

Things worth working out on paper before you code
-------------------------------------------------
* The gradient of the loss with respect to ``z_L``, then with respect to
  ``W_L`` (check that its shape is ``(d_L, d_{L-1})``), then how to pass the
  gradient from ``z_l`` back to ``z_{l-1}`` through ``W_l`` and ``phi``.
* Why that backward recursion is a *product* with one factor per layer, and
  what a product of many factors slightly below (or above) 1 does. This is
  the whole story of Q1 and Q4.
* The derivative of each activation, its largest value, and what it is for
  large ``|z|`` (Q3).
* For a layer of width ``n`` with independent zero-mean weights of variance
  ``s``, by which factor does the second moment of the pre-activations grow
  from one layer to the next? Which ``s`` makes the factor 1 (Xavier, He)?

Check your backward pass with :func:`numerical_gradient` and
:func:`relative_error` on a tiny network before trusting it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = [
    "numerical_gradient",
    "relative_error",
    "mlp_gradient_norms",
    "activation_stats",
    "diagnose",
    "clip_by_global_norm",
]


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-5) -> np.ndarray:
    """Estimate the gradient of ``f`` at ``x`` by centred differences.

    For every element ``i`` of ``x``::

        grad[i] = (f(x + h * e_i) - f(x - h * e_i)) / (2 * h)

    where ``e_i`` is 1 at position ``i`` and 0 elsewhere.

    * ``x`` may have any shape (0-d, 1-d, 2-d, ... and empty arrays too);
      ``f`` maps an array of that shape to a real number.
    * Return a float array of the same shape as ``x``.
    * After the call the caller's ``x`` must hold exactly its original
      values. Either work on a float64 copy, or perturb one element in place
      and restore it before moving on.

    Usual mistakes: the one-sided difference ``(f(x + h e_i) - f(x)) / h``
    (error O(h) instead of O(h**2)); forgetting to restore an element, so
    later entries are measured at the wrong point; perturbing an integer
    array (``x + 1e-5`` is truncated back); iterating over rows instead of
    elements (``numpy.ndindex`` visits every index of any shape).

    Relates to: checking the backward pass you write for
    :func:`mlp_gradient_norms`.
    """
    raise NotImplementedError


def relative_error(a, b) -> float:
    """Largest elementwise relative error between ``a`` and ``b``.

    ::

        max over i of |a_i - b_i| / max(1e-8, |a_i| + |b_i|)

    * ``a`` and ``b`` must have exactly the same shape, otherwise raise
      ``ValueError`` (do not let broadcasting compare a ``(3,)`` with a
      ``(3, 1)``).
    * Two empty arrays give ``0.0``.
    * Return a Python ``float``, not a NumPy scalar or array.

    The floor ``1e-8`` stops a division by zero where both entries are 0.
    As a rule of thumb in float64, an analytic gradient that agrees with the
    numerical one to about ``1e-7`` is right; ``1e-4`` or worse points to a
    bug.
    """
    raise NotImplementedError


def mlp_gradient_norms(weights, x, activation: str = "tanh") -> list[float]:
    """Frobenius norm of ``d loss / d W_l`` for every layer, input side first.

    Run the forward pass from the module docstring, backpropagate the loss
    ``0.5 * sum(z_L ** 2) / N`` and return
    ``[||dW_1||_F, ..., ||dW_L||_F]`` as a list of Python floats.

    * ``weights[l-1]`` has shape ``(d_l, d_{l-1})`` (torch layout), ``x`` has
      shape ``(N, d_0)``.
    * ``activation`` is one of ``"linear"``, ``"sigmoid"``, ``"tanh"``,
      ``"relu"``, ``"leaky_relu"`` (negative slope 0.01). It is applied to
      every layer except the last.
    * Raise ``ValueError`` for an unknown activation, an empty ``weights``
      list, an ``x`` (or weight) that is not 2-D, or shapes that do not fit
      together.
    * Use the convention of PyTorch at the ReLU kink: derivative 0 at
      ``z = 0`` (0.01 for leaky_relu).

    Usual mistakes: forgetting the ``1 / N``; transposing the torch layout
    the wrong way (``z = h @ W.T``, not ``h @ W``); activating the last
    layer; evaluating ``phi'`` at ``h`` instead of ``z`` (for relu and
    leaky_relu this happens to work, for tanh it does not -- though
    ``tanh'(z)`` can be written in terms of ``h = tanh(z)``); returning the
    norms output side first; modifying the caller's arrays.

    Relates to Q1/Q4: try a deep tanh or sigmoid network with small weights
    (the first norms are tiny compared with the last) and a linear one with
    large weights (the opposite). Relates to Q3: compare sigmoid with tanh.
    """
    raise NotImplementedError


def activation_stats(weights, x, activation: str = "tanh") -> list[dict]:
    """Statistics of each hidden layer's activations ``h_1 ... h_{L-1}``.

    Same forward pass and same ``ValueError`` rules as
    :func:`mlp_gradient_norms`. Return a list with one dict per hidden layer
    (the output layer is not included, so one weight matrix gives ``[]``).
    Each dict has four Python floats:

    * ``"mean"`` and ``"std"`` over all ``N * d_l`` entries of ``h_l``
      (``std`` with ``ddof=0``);
    * ``"saturated"``: the fraction of entries with ``h < 0.01`` or
      ``h > 0.99`` for sigmoid, with ``|h| > 0.99`` for tanh, and ``0.0``
      for every other activation;
    * ``"dead"``: for relu, the fraction of entries exactly equal to 0;
      ``0.0`` for every other activation.

    Relates to Q3: a saturated sigmoid/tanh unit has a derivative close to
    0, a zero ReLU output has derivative exactly 0 -- either way little or
    no gradient flows through it. Watch how ``std`` evolves with depth for
    different weight scales (Q5).
    """
    raise NotImplementedError


def diagnose(grad_norms, ratio: float = 100.0) -> str:
    """Return ``"vanishing"``, ``"exploding"`` or ``"healthy"``.

    ``grad_norms`` is ordered input side first (as from
    :func:`mlp_gradient_norms`). Let ``first`` be its first entry and
    ``last`` its last one. Apply these rules in this order:

    1. fewer than two norms, any negative norm, or ``ratio <= 1``: raise
       ``ValueError``;
    2. any norm that is not finite (inf or nan): ``"exploding"``;
    3. ``first == 0``: ``"vanishing"``;
    4. ``last == 0``: ``"exploding"``;
    5. ``r = first / last``: ``"vanishing"`` if ``r < 1 / ratio``,
       ``"exploding"`` if ``r > ratio``, ``"healthy"`` otherwise.

    In step 5 keep a relative margin of ``1e-9`` from both boundaries: a
    value of ``r`` that equals a boundary up to rounding (for instance
    ``r = 1 / ratio`` computed two different ways) must give
    ``"healthy"``.

    Usual mistakes: swapping first and last (the *input* side is where a
    vanishing gradient shows); dividing before checking for zeros; putting
    the checks in a different order.

    Relates to Q1 and Q4.
    """
    raise NotImplementedError


def clip_by_global_norm(grads, max_norm: float):
    """Clip a list of gradient arrays by their global L2 norm.

    Semantics of ``torch.nn.utils.clip_grad_norm_``:

    * ``total`` is the L2 norm of all entries of all arrays taken together
      (not the sum of the per-array norms);
    * every array is multiplied by the same factor
      ``min(1, max_norm / (total + 1e-6))``;
    * return ``(clipped, total)``: a list of **new** float arrays and
      ``total`` (the norm before clipping) as a Python float.

    Never scale gradients up, and never modify the arrays passed in.

    Usual mistakes: clipping each array by its own norm (that changes the
    direction of the update, global clipping only shortens it); forgetting
    the ``1e-6``; returning the norm after clipping.

    Relates to Q4: gradient clipping is a standard remedy for exploding
    gradients.
    """
    raise NotImplementedError
