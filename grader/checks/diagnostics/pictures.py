"""Pictures of the diagnostics (feedback, no points): the seed's Q1, Q3 and Q4.

Per-layer activation standard deviation (``activation_stats``) and weight
gradient norm (``mlp_gradient_norms``) through a 20-layer network for
three activations (sigmoid, then tanh, then ReLU) under N(0, 1), N(0, 0.01²), Xavier and He weights,
all from the student's own functions, on a log scale.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np

from grader.check import Check, CheckFailed, Figure, describe
from grader.checks.diagnostics.network import expect_norms
from grader.oracles import initializers as init_oracle

__all__ = ["picture_checks", "profile_networks"]

DEPTH, WIDTH, BATCH = 20, 64, 64
ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITS = ("N(0, 1)", "N(0, 0.01²)", "Xavier", "He")


def _weights(init: str, g: np.random.Generator) -> list[np.ndarray]:
    shape = (WIDTH, WIDTH)
    if init == "N(0, 1)":
        return [g.standard_normal(shape) for _ in range(DEPTH)]
    if init == "N(0, 0.01²)":
        return [g.normal(0.0, 0.01, shape) for _ in range(DEPTH)]
    if init == "Xavier":
        return [init_oracle.xavier_normal(shape, rng=g) for _ in range(DEPTH)]
    return [init_oracle.he_normal(shape, nonlinearity="relu", rng=g) for _ in range(DEPTH)]


def profile_networks(seed: int):
    """(activation, init, weights, x) of the twelve networks of the pictures."""
    g = np.random.default_rng(seed)
    x = g.standard_normal((BATCH, WIDTH))
    return [(a, i, _weights(i, g), x) for a in ACTIVATIONS for i in INITS]


def _stds(value, depth: int) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != depth - 1:
        raise CheckFailed(f"activation_stats of a {depth}-layer network should give "
                          f"{depth - 1} layers; got {describe(value)}")
    return [float(layer["std"]) for layer in value]


def _profile(student, rng, *, what: str) -> Figure:
    panels: dict[str, dict[str, list]] = {}
    for activation, init, weights, x in profile_networks(int(rng.integers(2**31))):
        value = student(weights, x, activation)
        ys = (_stds(value, DEPTH) if what == "std" else expect_norms(value, DEPTH))
        panels.setdefault(activation, {})[init] = [y if y > 0 and math.isfinite(y) else None
                                                   for y in ys]
    if what == "std":
        return Figure(
            "profile", "Q1/Q3: the spread of each layer's activations (std, log scale)",
            "With He weights under ReLU a correct activation_stats shows a flat profile, and "
            "with Xavier weights under tanh a slowly falling one; N(0, 0.01²) weights shrink the "
            "signal tenfold or more per layer under tanh and ReLU, and N(0, 1) weights saturate "
            "tanh (std near 1) and make ReLU explode.",
            {"panels": panels, "xlabel": "hidden layer", "ylabel": "std of h", "log": True})
    return Figure(
        "profile", "Q1/Q4: the gradient norm of each layer's weights (log scale)",
        "A correct mlp_gradient_norms shows roughly equal norms with Xavier weights under "
        "tanh and He weights under ReLU. Under sigmoid they shrink by orders of magnitude "
        "towards the input (layer 1) even with Xavier weights: the vanishing gradient, since "
        "sigmoid's slope is at most 1/4. N(0, 1) weights under tanh make them grow towards the "
        "input (exploding), and N(0, 0.01²) weights leave every layer with a tiny gradient.",
        {"panels": panels, "xlabel": "layer (input side first)", "ylabel": "‖∂loss/∂W‖",
         "log": True})


def picture_checks() -> tuple[Check, ...]:
    return (
        Check("diagnostics.activation_stats.depth_profile", "experiment",
              partial(_profile, what="std"), weight=0.0, requires=("torch",), figure=True,
              timeout_s=60.0),
        Check("diagnostics.mlp_gradient_norms.depth_profile", "experiment",
              partial(_profile, what="grad"), weight=0.0, requires=("torch",), figure=True,
              timeout_s=60.0),
    )
