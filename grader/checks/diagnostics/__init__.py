"""The battery of diagnostics.py.

``gradients`` (``numerical_gradient``, ``relative_error``), ``network``
(``mlp_gradient_norms``, ``activation_stats``), ``verdicts`` (``diagnose`` and
the seed's demonstrations) and ``clipping``. Expected values come from
``grader.oracles.diagnostics`` (torch autograd, ``clip_grad_norm_``, the
label rule), the exact gradients of the functions of ``grader.testfns``
(``grader.testfn_gradients``) and TensorFlow.
"""
from __future__ import annotations

import numpy as np

from grader import gates
from grader.battery import Battery
from grader.checks.diagnostics.clipping import clip_checks
from grader.checks.diagnostics.gradients import gradient_checks, relative_error_checks
from grader.checks.diagnostics.network import network_checks
from grader.checks.diagnostics.pictures import picture_checks
from grader.checks.diagnostics.verdicts import demo_checks, diagnose_checks
from grader.checks.numpy_only import numpy_only_checks
from grader.oracles import diagnostics as oracle
from grader.wire import Fn

__all__ = ["BATTERY", "SMOKE"]


def _smoke() -> dict:
    g = np.random.default_rng(7)
    weights = [g.standard_normal((5, 4)) * 0.5, g.standard_normal((2, 5)) * 0.5]
    return {
        "numerical_gradient": (((Fn("quadratic", {"a": 1.5, "b": 0.5}), g.standard_normal(4)),
                                {}),),
        "relative_error": (((np.array([1.0, -2.0, 3.0]), np.array([1.1, -2.0, 2.5])), {}),),
        "mlp_gradient_norms": (((weights, g.standard_normal((3, 4))), {}),),
        "activation_stats": (((weights, g.standard_normal((3, 4))), {}),),
        "diagnose": ((([1.0, 0.5, 0.2],), {}), (([1e-6, 1.0, 1.0],), {}),
                     (([1e4, 1.0, 1.0],), {})),
        "clip_by_global_norm": ((([np.ones(3), np.ones((2, 2))], 1.0), {}),),
    }


def _numerical_gradient_oracle(f, x, h=1e-5):
    """The smoke call's exact gradient (its function is a quadratic of grader.testfns)."""
    from grader import testfn_gradients

    return testfn_gradients.gradient("quadratic", {"a": 1.5, "b": 0.5}, x)


SMOKE = _smoke()
_ORACLES = {"numerical_gradient": _numerical_gradient_oracle,
            "relative_error": oracle.relative_error,
            "mlp_gradient_norms": oracle.mlp_gradient_norms,
            "activation_stats": oracle.activation_stats, "diagnose": oracle.diagnose,
            "clip_by_global_norm": oracle.clip_by_global_norm}

BATTERY = Battery(
    task="diagnostics",
    checks=(*gradient_checks(), *relative_error_checks(), *network_checks(),
            *diagnose_checks(), *clip_checks(), *demo_checks(),
            *numpy_only_checks("diagnostics", SMOKE), *picture_checks()),
    gates={name: gates.matches_oracle(name, SMOKE[name], _ORACLES[name]) for name in SMOKE},
    smoke=SMOKE,
    helpers="grader.oracles.diagnostics",
)
