"""Trivial implementations earn nothing: gated properties wait for correct values."""
from __future__ import annotations

import pytest

from grader.check import Check
from grader.contract import TASKS
from grader.grading import load_batteries

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
    gated = [c for c in own if c.gated]
    assert gated and all(c.message.startswith("waits for correct basic values")
                         for c in gated if c.status == "failed")


def test_value_checks_are_never_gated():
    gated = {c.prop for b in load_batteries(TASKS) for c in b.checks if c.gated}
    for prop in ("variance", "values", "formula", "answer", "architecture",
                 "training_values", "torch_parity", "boundaries", "distribution"):
        assert prop not in gated


def test_every_function_with_gated_checks_has_a_gate():
    for b in load_batteries(TASKS):
        for f in b.functions:
            if any(c.gated for c in b.checks if c.function == f):
                assert f in b.gates, (b.task, f)


def test_a_check_of_unknown_kind_fails_when_it_is_built():
    with pytest.raises(ValueError, match="unknown kind"):
        Check("quiz.q1.answer", "vibes", lambda s, r: "")
    with pytest.raises(ValueError, match="not task.function.property"):
        Check("quiz.q9.answer", "unit", lambda s, r: "")
    with pytest.raises(ValueError, match="visibility"):
        Check("quiz.q1.answer", "unit", lambda s, r: "", visibility="secret")
