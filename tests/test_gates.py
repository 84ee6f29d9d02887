"""Trivial implementations earn nothing: gated properties wait for correct values."""
from __future__ import annotations

import pytest

from grader.checks import all_checks
from grader.gates import GATED_PROPERTIES, is_gated

TRIVIAL = {
    "zeros_initializer": ("initializers", "import numpy as _np\n"
                          "def xavier_uniform(shape, gain=1.0, layout='torch', rng=None):\n"
                          "    if any(isinstance(d, (bool, float)) or d < 0 for d in shape):\n"
                          "        raise ValueError('bad shape')\n"
                          "    return _np.zeros(tuple(shape))\n", "xavier_uniform"),
    "always_value_error": ("initializers", "def compute_fans(shape, layout='torch'):\n"
                           "    raise ValueError('no')\n", "compute_fans"),
    "constant_verdict": ("diagnostics", "def diagnose(grad_norms, ratio=100.0):\n"
                         "    if len(grad_norms) < 2 or ratio <= 1 or min(grad_norms) < 0:\n"
                         "        raise ValueError('bad input')\n"
                         "    return 'healthy'\n", "diagnose"),
    "identity_clip": ("diagnostics", "def clip_by_global_norm(grads, max_norm):\n"
                      "    return [g.copy() for g in grads], 1.0\n", "clip_by_global_norm"),
    "constant_norms": ("diagnostics", "def mlp_gradient_norms(weights, x, activation='tanh'):\n"
                       "    if activation not in ('linear', 'sigmoid', 'tanh', 'relu', "
                       "'leaky_relu'):\n        raise ValueError(activation)\n"
                       "    return [1.0] * len(weights)\n", "mlp_gradient_norms"),
}


@pytest.mark.parametrize("name", sorted(TRIVIAL))
def test_trivial_implementation_scores_zero(broken, name):
    task, source, function = TRIVIAL[name]
    report = broken(task, source)
    own = [c for c in report.checks if c.function == function]
    assert own and sum(c.score for c in own) == 0, \
        [(c.id, c.status) for c in own if c.score]
    others = [c for c in report.checks if c.function != function and c.status != "passed"]
    assert not others, [(c.id, c.message[:100]) for c in others]
    gated = [c for c in own if c.id.split(".")[2] in GATED_PROPERTIES]
    assert gated and all(c.message for c in gated)


def test_value_checks_are_never_gated():
    gated = {c.prop for c in all_checks() if is_gated(c)}
    for prop in ("variance", "matches_reference", "formula", "answer", "architecture",
                 "training_matches_reference", "torch_parity", "boundaries"):
        assert prop not in gated
