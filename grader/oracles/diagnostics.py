"""Oracles of diagnostics.py: torch autograd and ``clip_grad_norm_`` in float64.

* ``mlp_gradient_norms`` and ``activation_stats``: SPEC's network
  (``z_l = h_{l-1} W_l^T``, the last layer linear, loss ``0.5 sum(z_L^2) / N``)
  built from torch operations; the gradients come from autograd, the
  statistics from torch reductions. SPEC's ``ValueError`` rules are applied
  first.
* ``clip_by_global_norm``: ``torch.nn.utils.clip_grad_norm_`` on copies.
* ``relative_error``: SPEC's formula written with torch reductions.
* ``diagnose``: no framework labels gradient norms; SPEC's rule is a closed
  form on the norms given.

``numerical_gradient`` has no oracle: the checks compare it with the exact
gradients of ``grader.testfns`` (``grader.testfn_gradients``), and no other SPEC
function calls it.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["ACTIVATIONS", "relative_error", "mlp_gradient_norms", "activation_stats",
           "hidden_layers", "pre_activations", "diagnose", "clip_by_global_norm",
           "DETERMINISTIC"]

#: the oracles whose answer depends on their arguments alone
DETERMINISTIC = ("relative_error", "mlp_gradient_norms", "activation_stats", "diagnose",
                 "clip_by_global_norm")

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu")


def _activation(name: str):
    import torch
    import torch.nn.functional as F

    return {"linear": lambda t: t, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "relu": torch.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.01)}[name]


def _network(weights, x, activation: str):
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}")
    x = np.asarray(x, dtype=np.float64)
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    if x.ndim != 2 or not ws:
        raise ValueError("x must be (N, d_0) and there must be at least one layer")
    width = x.shape[1]
    for i, w in enumerate(ws):
        if w.ndim != 2 or w.shape[1] != width:
            raise ValueError(f"weights[{i}] has shape {w.shape}; expected (d, {width})")
        width = w.shape[0]
    return ws, x


def hidden_layers(weights, x, activation: str, grad: bool = False):
    """(torch weights, hidden activations h_1..h_{L-1}, output z_L)."""
    import torch

    ws, x = _network(weights, x, activation)
    act = _activation(activation)
    tw = [torch.tensor(w, dtype=torch.float64, requires_grad=grad) for w in ws]
    h, hidden = torch.tensor(x, dtype=torch.float64), []
    for i, w in enumerate(tw):
        z = h @ w.T
        if i < len(tw) - 1:
            h = act(z)
            hidden.append(h)
    return tw, hidden, z


def mlp_gradient_norms(weights, x, activation="tanh"):
    tw, _, z = hidden_layers(weights, x, activation, grad=True)
    loss = 0.5 * (z * z).sum() / z.shape[0]
    loss.backward()
    return [float(w.grad.norm()) for w in tw]


def activation_stats(weights, x, activation="tanh"):
    import torch

    with torch.no_grad():
        _, hidden, _ = hidden_layers(weights, x, activation)
    out = []
    for h in hidden:
        if activation == "sigmoid":
            saturated = float(((h < 0.01) | (h > 0.99)).double().mean())
        elif activation == "tanh":
            saturated = float((h.abs() > 0.99).double().mean())
        else:
            saturated = 0.0
        dead = float((h == 0).double().mean()) if activation == "relu" else 0.0
        out.append({"mean": float(h.mean()), "std": float(h.std(correction=0)),
                    "saturated": saturated, "dead": dead})
    return out


def relative_error(a, b):
    import torch

    a, b = torch.as_tensor(np.asarray(a, dtype=np.float64)), torch.as_tensor(
        np.asarray(b, dtype=np.float64))
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    if a.numel() == 0:
        return 0.0
    return float(((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max())


def diagnose(grad_norms, ratio=100.0):
    norms = [float(v) for v in grad_norms]
    if len(norms) < 2 or any(v < 0 for v in norms if not math.isnan(v)):
        raise ValueError("diagnose needs two or more non-negative norms")
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or not ratio > 1:
        raise ValueError(f"ratio must be > 1, got {ratio!r}")
    if not all(math.isfinite(v) for v in norms):
        return "exploding"
    first, last = norms[0], norms[-1]
    if first == 0:
        return "vanishing"
    if last == 0:
        return "exploding"
    r = first / last
    return "vanishing" if r < 1 / ratio else "exploding" if r > ratio else "healthy"


def clip_by_global_norm(grads, max_norm):
    import torch

    params = []
    for g in grads:
        p = torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(np.asarray(g, dtype=np.float64))
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, float(max_norm))
    return [p.grad.numpy().copy() for p in params], float(total)


def pre_activations(weights, x, activation: str) -> list[np.ndarray]:
    """z_1 .. z_L of SPEC's network (torch, float64)."""
    import torch

    ws, x = _network(weights, x, activation)
    act = _activation(activation)
    h, zs = torch.tensor(x, dtype=torch.float64), []
    with torch.no_grad():
        for i, w in enumerate(ws):
            z = h @ torch.tensor(w, dtype=torch.float64).T
            zs.append(z.numpy().copy())
            if i < len(ws) - 1:
                h = act(z)
    return zs
