"""Task 2: batch normalisation, forward and backward, with NumPy only.

Handout Q6 describes batch normalisation in words; here you implement it, with
PyTorch's conventions, and derive its gradient.

Background
----------
For every channel ``c`` the layer standardises its input with the statistics
of the current mini-batch and then applies a learned scale and shift::

    mu      = mean of x[:, c, ...]                      (batch mean)
    sigma^2 = mean of (x[:, c, ...] - mu)^2             (biased batch variance)
    x_hat   = (x - mu) / sqrt(sigma^2 + eps)
    out     = gamma[c] * x_hat + beta[c]

During training it also keeps running averages of the statistics, used in
place of the batch statistics at evaluation time.

Why it matters for initialisation (Q6): multiplying a layer's weights by
``c > 0`` multiplies its outputs, their mean and their standard deviation by
``c``, so the normalised output does not change. The network becomes much less
sensitive to the scale of the initial weights. It does not remove the need to
initialise sensibly: constant weights still leave all units identical, layers
without normalisation still need a good scale, and the weights still start far
from any optimum.

PyTorch vs Keras: channels first (axis 1) vs channels last (axis -1);
``momentum`` is the weight of the new batch in PyTorch (default 0.1) and of
the old running value in Keras (default 0.99), so ``keras = 1 - torch``; the
running variance is updated with the unbiased batch variance in PyTorch and
the biased one in Keras; ``eps`` defaults to 1e-5 in PyTorch and 1e-3 in
Keras.

Rules
-----
* NumPy and the standard library only.
* The grader feeds float64 arrays; ``x`` has shape ``(N, C)`` or
  ``(N, C, *spatial)``, and per-channel vectors have shape ``(C,)``.
* No function modifies its arguments, in particular not ``running_mean`` or
  ``running_var``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["batchnorm_forward", "batchnorm_backward"]


def batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
    unbiased_running_var: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch-normalise ``x`` per channel and return ``(out, new_running_mean, new_running_var)``.

    Shapes
    ------
    ``x``: ``(N, C)`` or ``(N, C, *spatial)``. ``gamma``, ``beta``,
    ``running_mean``, ``running_var``: ``(C,)``. ``out`` has the shape of
    ``x``; the two running statistics have shape ``(C,)``.

    The statistics of channel ``c`` use every value of that channel: all axes
    except axis 1, i.e. ``m = N * prod(spatial)`` values.

    Training (``training=True``)
    ----------------------------
    ::

        out = gamma * (x - mu) / sqrt(var + eps) + beta     # var: biased (divide by m)
        new_running_mean = (1 - momentum) * running_mean + momentum * mu
        new_running_var  = (1 - momentum) * running_var  + momentum * v

    where ``v = var * m / (m - 1)`` (unbiased) if ``unbiased_running_var``
    (PyTorch) and ``v = var`` otherwise (Keras). ``m = 1`` (or fewer) raises
    ``ValueError``: one value per channel has no variance to normalise by.

    Evaluation (``training=False``)
    -------------------------------
    Normalise with ``running_mean`` and ``running_var`` instead of the batch
    statistics and return the running statistics unchanged, as **new**
    arrays (copies).

    Raises ``ValueError`` when ``x`` has fewer than two dimensions, when a
    per-channel argument is not of shape ``(C,)``, and for ``m < 2`` in
    training mode.

    Common mistakes
    ---------------
    * Reducing over axis 0 only for ``(N, C, H, W)`` input: the spatial axes
      belong to the statistics too.
    * Normalising with the unbiased variance (``ddof=1``): normalisation uses
      the biased one; only the running update may use ``m / (m - 1)``.
    * Using ``N`` instead of ``m`` in the correction ``m / (m - 1)``.
    * ``eps`` outside the square root: ``/ (sqrt(var) + eps)`` is a different
      function.
    * Broadcasting ``(C,)`` vectors against the wrong axis: for 4-D input
      they must be reshaped to ``(1, C, 1, 1)``.
    * Updating in place (``running_mean *= 1 - momentum``), which modifies the
      caller's array; or returning the same array objects in eval mode.
    * Using Keras' momentum convention, or updating the running statistics in
      evaluation mode.
    """
    raise NotImplementedError


def batchnorm_backward(
    dout: np.ndarray,
    x: np.ndarray,
    gamma: np.ndarray,
    eps: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(dx, dgamma, dbeta)``: exact gradients of the training-mode forward pass.

    Shapes
    ------
    ``dout`` (the gradient of the loss with respect to ``out``) and ``x``:
    ``(N, C)`` or ``(N, C, *spatial)``, the same shape. ``gamma``: ``(C,)``.
    ``dx`` has the shape of ``x``; ``dgamma`` and ``dbeta`` have shape
    ``(C,)``.

    There is no cache: recompute ``mu``, the biased ``var`` and ``x_hat``
    from ``x`` exactly as the forward pass does. ``beta`` does not affect any
    of the gradients, so it is not an argument.

    Formula (per channel, sums over its ``m`` values)
    -------------------------------------------------
    ::

        dbeta  = sum(dout)
        dgamma = sum(dout * x_hat)
        dx     = gamma / (m * sqrt(var + eps)) * (m * dout - dbeta - x_hat * dgamma)

    Derive ``dx`` yourself before coding it: ``x_i`` influences every
    ``x_hat_j`` directly, through ``mu`` and through ``var``. Write
    ``d x_hat_j / d x_i`` with all three paths, then sum against
    ``gamma * dout_j``.

    Raises ``ValueError`` for ``m < 2`` (as the forward pass), for ``x`` with
    fewer than two dimensions, for ``dout`` of a different shape and for
    ``gamma`` not of shape ``(C,)``.

    Common mistakes
    ---------------
    * Treating ``mu`` and ``var`` as constants: that gives
      ``gamma * dout / sqrt(var + eps)``, the gradient of the evaluation-mode
      layer, not of the training-mode one.
    * ``dgamma = sum(dout * x)`` instead of ``sum(dout * x_hat)``.
    * Summing over axis 0 only for input with spatial axes.
    * Recomputing the variance with ``ddof=1``.

    Sanity checks: in every channel ``dx`` sums to zero and is orthogonal to
    ``x_hat`` (shifting or rescaling a channel's input does not change the
    normalised output), and ``dx`` matches a centred finite difference of
    ``sum(dout * out)``.
    """
    raise NotImplementedError
