"""A picture of batch normalisation (feedback, no points): the seed's Q6.

The 10-layer ReLU network of ``grader.training``, initialised badly (N(0, 0.01²)
weights), trained as it is and with a batch normalisation before every
hidden activation whose forward values come from the student's
``batchnorm_forward`` (the gradient flows as through the framework's).
"""
from __future__ import annotations

import numpy as np

from grader import training
from grader.check import Check, Figure, values

__all__ = ["picture_checks"]


def _training_curve(student, rng) -> Figure:
    g = np.random.default_rng(int(rng.integers(2**31)))
    weights = [g.normal(0.0, 0.01, s) for s in training.layer_shapes()]

    def normalise(layer: int, h: np.ndarray) -> np.ndarray:
        c = h.shape[1]
        out = student(h, np.ones(c), np.zeros(c), np.zeros(c), np.ones(c), training=True)
        return values(out[0] if isinstance(out, (tuple, list)) else out,
                      "batchnorm_forward (out)", h.shape)

    curves = {"plain": training.capped(training.train(weights)),
              "with your batchnorm_forward": training.capped(training.train(weights, normalise))}
    return Figure(
        "curves", "Q6: the same badly initialised network, with and without batch norm",
        "From N(0, 0.01²) weights the plain network stalls (flat loss at ln 4 ≈ 1.39); with a "
        "correct batch normalisation before every activation it trains, because each layer "
        "is handed unit-variance signals whatever the scale of its weights.",
        {"series": curves, "xlabel": "training step", "ylabel": "training loss (capped at 3)",
         "log": False})


def picture_checks() -> tuple[Check, ...]:
    return (Check("batchnorm.batchnorm_forward.training_curve", "experiment", _training_curve,
                  weight=0.0, requires=("torch",), figure=True, timeout_s=60.0),)
