"""Oracles of batchnorm.py: ``torch.nn.functional.batch_norm`` and its autograd, float64.

* ``batchnorm_forward``: ``F.batch_norm`` normalises (batch statistics in
  training, running ones in evaluation) and, with ``unbiased_running_var``
  (PyTorch's convention), updates the running statistics itself. Keras'
  convention (``unbiased_running_var=False``) feeds the *biased* batch
  variance to the same moving average; the oracle applies that rule to the
  batch variance ``torch.var_mean`` gives. SPEC's rules around the call: a
  training batch needs m >= 2 values per channel, and the returned arrays are
  new.
* ``batchnorm_backward``: autograd of ``F.batch_norm`` in training mode at
  ``x``, for the upstream gradient ``dout`` (``beta`` does not matter).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["batchnorm_forward", "batchnorm_backward", "reduce_axes", "values_per_channel",
           "DETERMINISTIC"]

#: the oracles whose answer depends on their arguments alone
DETERMINISTIC = ("batchnorm_forward", "batchnorm_backward")


def reduce_axes(ndim: int) -> tuple[int, ...]:
    """Every axis but the channel axis 1."""
    return (0,) + tuple(range(2, ndim))


def values_per_channel(shape) -> int:
    """m = N * prod(spatial)."""
    return int(shape[0] * math.prod(shape[2:]))


def _inputs(x, C_params: dict):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C) or (N, C, *spatial), got {x.shape}")
    out = {}
    for name, value in C_params.items():
        v = np.asarray(value, dtype=np.float64)
        if v.shape != (x.shape[1],):
            raise ValueError(f"{name} must have shape ({x.shape[1]},), got {v.shape}")
        out[name] = v
    return x, out


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1,
                      eps=1e-5, unbiased_running_var=True):
    import torch
    import torch.nn.functional as F

    x, p = _inputs(x, {"gamma": gamma, "beta": beta, "running_mean": running_mean,
                       "running_var": running_var})
    m = values_per_channel(x.shape)
    if training and m < 2:
        raise ValueError(f"training needs more than one value per channel, got {x.shape}")
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in p.items()}
    tx = torch.tensor(x, dtype=torch.float64)
    rm, rv = t["running_mean"].clone(), t["running_var"].clone()
    out = F.batch_norm(tx, rm, rv, weight=t["gamma"], bias=t["beta"], training=bool(training),
                       momentum=float(momentum), eps=float(eps))
    if training and not unbiased_running_var:
        biased, _ = torch.var_mean(tx, dim=reduce_axes(x.ndim), correction=0)
        rv = (1.0 - momentum) * t["running_var"] + momentum * biased
    return out.numpy().copy(), rm.numpy().copy(), rv.numpy().copy()


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    import torch
    import torch.nn.functional as F

    x, p = _inputs(x, {"gamma": gamma})
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != x.shape:
        raise ValueError(f"dout has shape {dout.shape}, x {x.shape}")
    if values_per_channel(x.shape) < 2:
        raise ValueError(f"the training pass needs more than one value per channel, got "
                         f"{x.shape}")
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tg = torch.tensor(p["gamma"], dtype=torch.float64, requires_grad=True)
    tb = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    out = F.batch_norm(tx, None, None, weight=tg, bias=tb, training=True, eps=float(eps))
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return tx.grad.numpy().copy(), tg.grad.numpy().copy(), tb.grad.numpy().copy()
