"""The battery of batchnorm.py.

``judging`` (inputs, tolerances, verdicts), ``mistakes`` (the known mistakes,
computed with torch, and their hints), ``forward`` and ``backward`` (the
checks). Expected values come from ``grader.oracles.batchnorm``
(``F.batch_norm`` and its autograd in float64) and from Keras; the worker
hands the same oracles to a function under test in place of the other one.
"""
from __future__ import annotations

import numpy as np

from grader import gates
from grader.battery import Battery
from grader.checks.batchnorm.backward import backward_checks
from grader.checks.batchnorm.forward import forward_checks
from grader.checks.batchnorm.pictures import picture_checks
from grader.checks.numpy_only import numpy_only_checks
from grader.oracles import batchnorm as oracle

__all__ = ["BATTERY", "SMOKE"]


def _smoke() -> dict:
    g = np.random.default_rng(7)
    x = g.standard_normal((6, 3)) * 2.0 + 1.0
    return {
        "batchnorm_forward": (((x, np.full(3, 1.5), np.full(3, 0.5), np.zeros(3), np.ones(3)),
                               {}),),
        "batchnorm_backward": (((g.standard_normal((6, 3)), x, np.full(3, 1.5)), {}),),
    }


SMOKE = _smoke()

BATTERY = Battery(
    task="batchnorm",
    checks=(*forward_checks(), *backward_checks(), *numpy_only_checks("batchnorm", SMOKE),
            *picture_checks()),
    gates={name: gates.matches_oracle(name, calls, getattr(oracle, name))
           for name, calls in SMOKE.items()},
    smoke=SMOKE,
    helpers="grader.oracles.batchnorm",
)
