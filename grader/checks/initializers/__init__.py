"""The battery of initializers.py.

Four modules: ``design`` (the cases sampled and the law each should follow),
``mistakes`` (the catalogue of known mistakes and the hints naming them),
``random_laws`` (the checks of the five random initializers) and
``fans_gain`` (``compute_fans`` and ``calculate_gain``). Expected values come
from ``grader.oracles.initializers`` (``torch.nn.init`` behind the student
API's rules) and from Keras; the worker hands the same oracles to a function
under test in place of the module's other functions.
"""
from __future__ import annotations

from grader import gates
from grader.battery import Battery
from grader.checks.initializers.design import RANDOM
from grader.checks.initializers.fans_gain import fans_checks, gain_checks
from grader.checks.initializers.pictures import picture_checks
from grader.checks.initializers.random_laws import random_checks
from grader.checks.numpy_only import numpy_only_checks
from grader.oracles import initializers as oracle
from grader.wire import Rng

__all__ = ["BATTERY", "SMOKE"]

#: basic valid calls of every function (the first is the NumPy-only check's call)
SMOKE = {
    "compute_fans": ((((8, 4, 3, 3),), {}), (((3, 3, 4, 8),), {"layout": "keras"})),
    "calculate_gain": ((("tanh",), {}), (("leaky_relu", 0.2), {})),
    "variance_scaling": ((((3, 3, 4, 8),), {"rng": Rng((1,))}),),
    "xavier_uniform": ((((8, 4),), {"rng": Rng((1,))}),),
    "xavier_normal": ((((8, 4),), {"rng": Rng((1,))}),),
    "he_uniform": ((((8, 4),), {"rng": Rng((1,))}),),
    "he_normal": ((((8, 4),), {"rng": Rng((1,))}),),
}

_GATES = {name: gates.matches_oracle(name, SMOKE[name], getattr(oracle, name))
          for name in ("compute_fans", "calculate_gain")}
_GATES.update({name: gates.random_array(name, SMOKE[name]) for name in RANDOM})

BATTERY = Battery(
    task="initializers",
    checks=(*fans_checks(), *gain_checks(), *(c for f in RANDOM for c in random_checks(f)),
            *numpy_only_checks("initializers", SMOKE), *picture_checks()),
    gates=_GATES,
    smoke=SMOKE,
    helpers="grader.oracles.initializers",
)
