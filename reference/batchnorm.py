"""Batch normalisation, forward and backward, with NumPy only.

This module is the reference solution of the ``batchnorm`` task (handout Q6).

1. The transformation
---------------------
Batch normalisation (Ioffe & Szegedy, 2015) standardises every channel of a
layer's input with statistics of the current mini-batch, then lets the network
re-scale and re-shift it with two learned per-channel parameters:

    mu      = mean of x over the batch          (per channel)
    sigma^2 = mean of (x - mu)^2                (per channel, *biased*)
    x_hat   = (x - mu) / sqrt(sigma^2 + eps)
    out     = gamma * x_hat + beta

``x`` has shape ``(N, C)`` (dense layers) or ``(N, C, *spatial)``
(convolutions, channels first as in PyTorch). For a convolution every
position of a feature map is a sample of the same channel, so the statistics
are taken over every axis except the channel axis 1: over
``m = N * prod(spatial)`` values per channel. ``eps`` sits *inside* the
square root, where it keeps the division finite for a channel of zero
variance.

2. Training and evaluation
--------------------------
A prediction must not depend on which other examples share its batch, so at
evaluation time the batch statistics are replaced by running estimates that
training keeps up to date with an exponential moving average:

    running_mean <- (1 - momentum) * running_mean + momentum * mu
    running_var  <- (1 - momentum) * running_var  + momentum * var_batch

PyTorch feeds the *unbiased* batch variance ``sigma^2 * m / (m - 1)`` into
``running_var`` (while normalising with the biased one), because the running
value estimates the population variance. With ``m = 1`` that correction, and
the normalisation itself, are meaningless (``x_hat`` is 0 for every input),
so training mode refuses batches with fewer than two values per channel.

3. PyTorch and Keras
--------------------
=====================  ================================  ==================================
                       PyTorch ``BatchNorm*d``           Keras ``BatchNormalization``
=====================  ================================  ==================================
channel axis           1 (channels first)                -1 (channels last)
momentum               weight of the *new* batch,        weight of the *old* value,
                       default 0.1                       default 0.99
running variance       unbiased batch variance           biased batch variance
eps                    1e-5                              1e-3
=====================  ================================  ==================================

Keras' ``momentum`` is ``1 - `` PyTorch's, so Keras' default 0.99 is a
PyTorch momentum of 0.01 (a slower average than PyTorch's default 0.1). This
module follows PyTorch's conventions; ``unbiased_running_var=False`` together
with ``momentum = 1 - keras_momentum`` and ``eps=1e-3`` reproduces Keras' update
for channels-first data (move a channels-last axis to position 1 first).

4. Batch normalisation and initialisation
-----------------------------------------
Why it makes a network less sensitive to the initial weight scale: if ``W``
is multiplied by any ``c > 0``, the pre-activations ``W x`` and their batch
mean and standard deviation are all multiplied by ``c``, so ``x_hat`` (and the
output) is unchanged, apart from the effect of ``eps``. A layer followed by
batch normalisation therefore hands the next layer unit-variance signals
whatever the scale its weights were drawn at, and activations cannot
explode or vanish through the forward pass. The backward pass scales the
gradient with respect to ``W`` by ``1 / c``: a badly scaled layer still trains,
only with a rescaled effective learning rate.

What it does *not* fix:

* symmetry: weights initialised to a constant still make all units of a layer
  identical, and normalisation keeps them identical;
* layers without normalisation (typically the output layer, or a residual
  branch added after the last normalisation) still need a sensible scale;
* gradients: deep stacks of plain (non-residual) batch-normalised layers can
  still have exploding gradients at initialisation, so the initial scale,
  residual connections and learning-rate warm-up still matter;
* small batches: with few values per channel the statistics are noisy and
  train-time behaviour drifts from eval-time behaviour (running statistics);
* the starting point: like any initialisation it conditions optimisation, it
  does not put the weights near a solution.

Conventions
-----------
Arguments are never modified: the running statistics are returned as new
arrays in both modes. Computation is done in float64.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["batchnorm_forward", "batchnorm_backward"]


def _check_input(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (N, C) or (N, C, *spatial), got {x.shape}")
    return x


def _check_channel_param(p, name: str, C: int) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.shape != (C,):
        raise ValueError(f"{name} must have shape ({C},), got {p.shape}")
    return p


def _reduce_axes(x: np.ndarray) -> tuple[int, ...]:
    """All axes except the channel axis 1: (0, 2, 3, ...)."""
    return (0,) + tuple(range(2, x.ndim))


def _values_per_channel(x: np.ndarray) -> int:
    """m = N * prod(spatial): how many values each channel's statistics average."""
    return x.shape[0] * math.prod(x.shape[2:])


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (C,) vector to (1, C, 1, ..., 1) so that it broadcasts against x."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


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
    """Batch-normalise ``x`` per channel (axis 1); return ``(out, new_running_mean, new_running_var)``.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)
    gamma, beta : ndarray, shape (C,)
        Learned scale and shift.
    running_mean, running_var : ndarray, shape (C,)
        Running statistics before this call; they are read, never modified.
    training : bool
        ``True``: normalise with the batch statistics and update the running
        ones. ``False``: normalise with the running statistics.
    momentum : float
        Weight of the new batch statistic in the running average (PyTorch's
        convention; Keras' momentum is ``1 - momentum``).
    eps : float
        Added to the variance inside the square root.
    unbiased_running_var : bool
        ``True`` (PyTorch): the running variance is fed the unbiased batch
        variance ``sigma^2 * m / (m - 1)``. ``False`` (Keras): the biased one.

    Returns
    -------
    out : ndarray, same shape as x
        ``gamma * (x - mu) / sqrt(var + eps) + beta``, with ``mu`` and ``var``
        the batch mean and *biased* batch variance in training mode, the
        running statistics in evaluation mode.
    new_running_mean, new_running_var : ndarray, shape (C,)
        Training: ``(1 - momentum) * old + momentum * batch_stat``.
        Evaluation: copies of the inputs.

    Raises
    ------
    ValueError
        ``x`` with fewer than two dimensions; a parameter whose shape is not
        ``(C,)``; in training mode, fewer than two values per channel
        (``m = N * prod(spatial) < 2``; PyTorch raises for ``m = 1``).
    """
    x = _check_input(x)
    C = x.shape[1]
    gamma = _check_channel_param(gamma, "gamma", C)
    beta = _check_channel_param(beta, "beta", C)
    running_mean = _check_channel_param(running_mean, "running_mean", C)
    running_var = _check_channel_param(running_var, "running_var", C)

    axes = _reduce_axes(x)
    if training:
        m = _values_per_channel(x)
        if m < 2:
            raise ValueError(
                f"training mode needs more than one value per channel, got input shape {x.shape}"
            )
        mu = x.mean(axis=axes)
        xc = x - _per_channel(mu, x.ndim)
        var = (xc * xc).mean(axis=axes)  # biased: divides by m
        var_for_running = var * (m / (m - 1)) if unbiased_running_var else var
        new_running_mean = (1.0 - momentum) * running_mean + momentum * mu
        new_running_var = (1.0 - momentum) * running_var + momentum * var_for_running
    else:
        mu, var = running_mean, running_var
        xc = x - _per_channel(mu, x.ndim)
        new_running_mean = running_mean.copy()
        new_running_var = running_var.copy()

    inv_std = 1.0 / np.sqrt(var + eps)  # eps inside the square root
    x_hat = xc * _per_channel(inv_std, x.ndim)
    out = _per_channel(gamma, x.ndim) * x_hat + _per_channel(beta, x.ndim)
    return out, new_running_mean, new_running_var


def batchnorm_backward(
    dout: np.ndarray,
    x: np.ndarray,
    gamma: np.ndarray,
    eps: float = 1e-5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the training-mode forward pass: return ``(dx, dgamma, dbeta)``.

    ``dout`` is ``dL/d out`` (same shape as ``x``); the batch statistics are
    recomputed from ``x``, so no cache from the forward pass is needed.
    ``beta`` does not enter any of the three gradients.

    Derivation (one channel; sums run over its ``m`` values; ``s =
    sqrt(sigma^2 + eps)``, ``x_hat = (x - mu) / s``, ``g = dout``)
        * ``out = gamma * x_hat + beta`` gives directly

              dbeta  = sum(g)
              dgamma = sum(g * x_hat)
              dx_hat = gamma * g

        * ``x_i`` reaches every ``x_hat_j`` three ways: directly, through
          ``mu`` (``d mu / d x_i = 1/m``) and through ``sigma^2``
          (``d sigma^2 / d x_i = 2 (x_i - mu) / m``; the term from ``mu``
          inside ``sigma^2`` vanishes because ``sum(x_j - mu) = 0``). Hence
          ``d s / d x_i = (x_i - mu) / (m s)`` and

              d x_hat_j / d x_i = (delta_ij - 1/m - x_hat_i x_hat_j / m) / s.

        * Contracting with ``dx_hat``:

              dx_i = (1/s) * (dx_hat_i - mean(dx_hat) - x_hat_i * mean(dx_hat * x_hat))

          and with ``dx_hat = gamma * g`` this is the compact form

              dx = gamma / (m * s) * (m * g - sum(g) - x_hat * sum(g * x_hat))
                 = gamma / (m * s) * (m * g - dbeta - x_hat * dgamma).

    The two subtracted terms remove the components of the gradient that only
    shift or rescale the channel, which the normalisation makes invisible to
    the loss: ``dx`` sums to zero and is orthogonal to ``x_hat`` in every
    channel. Forgetting the paths through ``mu`` and ``sigma^2`` (treating the
    statistics as constants) would leave only ``gamma * g / s``, the gradient
    of the *evaluation*-mode transformation.

    Parameters
    ----------
    dout, x : ndarray, shape (N, C) or (N, C, *spatial), the same for both
    gamma : ndarray, shape (C,)
    eps : float, as in the forward pass

    Returns
    -------
    dx : ndarray, shape of x
    dgamma, dbeta : ndarray, shape (C,)

    Raises
    ------
    ValueError
        ``x`` with fewer than two dimensions, ``dout`` of another shape,
        ``gamma`` not of shape ``(C,)``, or fewer than two values per channel
        (``m < 2``), as in the forward pass.
    """
    x = _check_input(x)
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got {dout.shape}")
    C = x.shape[1]
    gamma = _check_channel_param(gamma, "gamma", C)
    axes = _reduce_axes(x)
    m = _values_per_channel(x)
    if m < 2:
        raise ValueError(f"need more than one value per channel, got input shape {x.shape}")

    # recompute the forward statistics exactly as batchnorm_forward does
    mu = x.mean(axis=axes)
    xc = x - _per_channel(mu, x.ndim)
    var = (xc * xc).mean(axis=axes)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xc * _per_channel(inv_std, x.ndim)

    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    scale = _per_channel(gamma * inv_std / m, x.ndim)
    dx = scale * (m * dout - _per_channel(dbeta, x.ndim) - x_hat * _per_channel(dgamma, x.ndim))
    return dx, dgamma, dbeta
