"""A small deep network trained for a few seconds: the seed's Q5 and Q6 as pictures.

The task is synthetic and fixed: 512 points in 16 dimensions, labelled by a
random two-layer teacher network (a learnable, non-linear target). The
student network has ``DEPTH`` ReLU layers of width ``WIDTH`` and is trained
by full-batch gradient descent with torch; only its initial weights (Q5) or
its batch normalisation's forward values (Q6) come from the student's
functions. These experiments are feedback, not points.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = ["DEPTH", "WIDTH", "STEPS", "LOSS_CAP", "task_data", "layer_shapes", "train",
           "capped"]

#: the pictures draw a loss above this at this (a blown-up loss is off any scale)
LOSS_CAP = 3.0


def capped(losses: list[float]) -> list[float]:
    return [min(v, LOSS_CAP) for v in losses]

DEPTH, WIDTH, STEPS, LR = 10, 32, 150, 0.2
_N, _IN, _OUT = 512, 16, 4


def task_data(seed: int = 20260601):
    """(x, y): inputs and the teacher's class labels (fixed by ``seed``)."""
    g = np.random.default_rng(seed)
    x = g.standard_normal((_N, _IN))
    w1 = g.standard_normal((_IN, 24)) / math.sqrt(_IN)
    w2 = g.standard_normal((24, _OUT)) / math.sqrt(24)
    y = np.argmax(np.tanh(x @ w1) @ w2, axis=1)
    return x, y


def layer_shapes() -> list[tuple[int, int]]:
    """The torch-layout (out, in) shape of every linear layer."""
    dims = [_IN] + [WIDTH] * (DEPTH - 1) + [_OUT]
    return [(dims[i + 1], dims[i]) for i in range(DEPTH)]


def train(weights: list[np.ndarray], normalise: Callable | None = None) -> list[float]:
    """The training loss after each of ``STEPS`` steps, from the given initial weights.

    ``normalise(layer, h)``, when given, returns the forward values of a batch
    normalisation of the hidden pre-activations ``h`` (a NumPy array); the
    gradient flows as through ``torch.nn.functional.batch_norm``, so the values
    are the student's and the derivative the framework's. A loss that is not
    finite ends the curve.
    """
    import torch
    import torch.nn.functional as F

    x, y = task_data()
    tx, ty = torch.tensor(x), torch.tensor(y)
    params = [torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
              for w in weights]
    losses = []
    for _ in range(STEPS):
        h = tx
        for i, w in enumerate(params):
            h = h @ w.T
            if i < len(params) - 1:
                if normalise is not None:
                    framework = F.batch_norm(h, None, None, training=True, eps=1e-5)
                    theirs = torch.tensor(np.asarray(normalise(i, h.detach().numpy()),
                                                     dtype=np.float64))
                    h = framework + (theirs - framework).detach()
                h = torch.relu(h)
        loss = F.cross_entropy(h, ty)
        if not torch.isfinite(loss):
            break
        losses.append(float(loss.detach()))
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= LR * p.grad.clamp(-1e3, 1e3)
    return losses
