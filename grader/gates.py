"""Gates: properties that a trivial implementation could satisfy earn points
only once the function gives a correct result on a basic input.

``return np.zeros(shape)`` is reproducible and has mean 0; ``raise
ValueError`` raises on every invalid input; a function that returns a
constant never mutates its arguments and never imports torch. Such checks
(:data:`GATED_PROPERTIES`) are *gated*: before the first of them runs, the
runner calls the function's gate once, and if the gate fails they fail too,
saying why. The value checks themselves are never gated, so partial credit
stays where the maths is partly right.

A gate is a plain function ``gate(student, rng) -> None`` that raises
:class:`~grader.check.CheckFailed` (or lets a student problem propagate):

* deterministic NumPy functions: the result on the basic inputs equals the
  reference's (relative 1e-6, absolute 1e-12: far above float64 round-off of
  these few operations, far below any real bug);
* random initializers: an array of the requested shape, floating, finite and
  not constant;
* framework models: the architecture check of ``grader.checks.frameworks``.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from grader.check import CheckFailed, describe, expect_array
from grader.wire import Fn, Rng

__all__ = ["GATED_PROPERTIES", "is_gated", "gate_for", "smoke_inputs", "first_difference"]

GATED_PROPERTIES = frozenset({
    "numpy_only", "no_mutation", "invalid_input", "invalid_inputs", "single_value_raises",
    "reproducible", "deterministic", "shape_dtype", "mean", "zero_bias", "no_warning",
    "scale_invariance", "batch_mean", "no_scale_up", "last_layer_linear",
})

_RANDOM = ("variance_scaling", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal")
_RTOL, _ATOL = 1e-6, 1e-12


def is_gated(check) -> bool:
    return check.prop in GATED_PROPERTIES or check.prop.startswith("demo_")


def smoke_inputs() -> dict[str, list[tuple[tuple, dict]]]:
    """Basic valid inputs of every NumPy-only function (the first is the smoke call)."""
    g = np.random.default_rng(7)
    x = g.standard_normal((6, 3)) * 2.0 + 1.0
    weights = [g.standard_normal((5, 4)) * 0.5, g.standard_normal((2, 5)) * 0.5]
    return {
        "compute_fans": [(((8, 4, 3, 3),), {}), (((3, 3, 4, 8),), {"layout": "keras"})],
        "calculate_gain": [(("tanh",), {}), (("leaky_relu", 0.2), {})],
        "variance_scaling": [(((3, 3, 4, 8),), {"rng": Rng((1,))})],
        "xavier_uniform": [(((8, 4),), {"rng": Rng((1,))})],
        "xavier_normal": [(((8, 4),), {"rng": Rng((1,))})],
        "he_uniform": [(((8, 4),), {"rng": Rng((1,))})],
        "he_normal": [(((8, 4),), {"rng": Rng((1,))})],
        "batchnorm_forward": [((x, np.full(3, 1.5), np.full(3, 0.5), np.zeros(3), np.ones(3)),
                               {})],
        "batchnorm_backward": [((g.standard_normal((6, 3)), x, np.full(3, 1.5)), {})],
        "numerical_gradient": [((Fn("quadratic", {"a": 1.5, "b": 0.5}), g.standard_normal(4)),
                                {})],
        "relative_error": [((np.array([1.0, -2.0, 3.0]), np.array([1.1, -2.0, 2.5])), {})],
        "mlp_gradient_norms": [((weights, g.standard_normal((3, 4))), {})],
        "activation_stats": [((weights, g.standard_normal((3, 4))), {})],
        "diagnose": [(([1.0, 0.5, 0.2],), {}), (([1e-6, 1.0, 1.0],), {}),
                     (([1e4, 1.0, 1.0],), {})],
        "clip_by_global_norm": [(([np.ones(3), np.ones((2, 2))], 1.0), {})],
    }


def _materialize(value):
    from grader import testfns

    if isinstance(value, Rng):
        return np.random.default_rng(list(value.seed))
    if isinstance(value, Fn):
        return testfns.make(value.name, value.params)
    if isinstance(value, (list, tuple)):
        return type(value)(_materialize(v) for v in value)
    if isinstance(value, dict):
        return {k: _materialize(v) for k, v in value.items()}
    return value


def first_difference(got, expected, path: str = "result") -> str | None:
    """Where ``got`` differs from ``expected`` (nested), or None when they agree."""
    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        if not isinstance(got, np.ndarray) or not isinstance(expected, np.ndarray):
            return f"{path} is {describe(got)}, expected {describe(expected)}"
        if got.shape != expected.shape:
            return f"{path} has shape {got.shape}, expected {expected.shape}"
        if got.dtype.kind not in "fiub" or not np.allclose(got, expected, rtol=_RTOL,
                                                             atol=_ATOL, equal_nan=True):
            return f"{path} differs from the correct values"
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"{path} is {describe(got)}, expected a sequence of {len(expected)}"
        for i, (a, b) in enumerate(zip(got, expected)):
            diff = first_difference(a, b, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{path} is {describe(got)}, expected a dict with keys {sorted(expected)}"
        for k in expected:
            diff = first_difference(got[k], expected[k], f"{path}[{k!r}]")
            if diff:
                return diff
        return None
    if isinstance(expected, str):
        return None if got == expected else f"{path} is {describe(got)}, expected a str"
    if isinstance(expected, (int, float, np.number)):
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number)):
            return f"{path} is {describe(got)}, expected a number"
        g, e = float(got), float(expected)
        if math.isnan(e) and math.isnan(g):
            return None
        if not abs(g - e) <= _ATOL + _RTOL * abs(e):
            return f"{path} is {g!r}, which is not correct"
        return None
    return None if got == expected else f"{path} is {describe(got)}"


def _numpy_gate(task: str, function: str) -> Callable:
    def gate(student, rng) -> None:
        import importlib

        from grader.student import StudentRaised

        reference = getattr(importlib.import_module(f"reference.{task}"), function)
        for args, kwargs in smoke_inputs()[function]:
            call = student.call(*args, **kwargs)
            if call.raised is not None:
                raise StudentRaised(call.raised, f"{function} on a basic valid input")
            if function in _RANDOM:
                shape = args[0]
                out = expect_array(call.value, f"{function}({shape})", shape=shape)
                if out.size > 1 and np.all(out == out.flat[0]):
                    raise CheckFailed(f"{function}({shape}) returned a constant array")
                continue
            expected = reference(*_materialize(args), **_materialize(kwargs))
            diff = first_difference(call.value, expected)
            if diff:
                raise CheckFailed(f"{function} on a basic valid input: {diff}")
    return gate


def gate_for(task: str, function: str) -> Callable | None:
    """The gate of one student function, or None (the quiz has none)."""
    if task in ("initializers", "batchnorm", "diagnostics"):
        return _numpy_gate(task, function)
    if task == "frameworks":
        from grader.checks.frameworks import ARCHITECTURE

        return ARCHITECTURE[function]
    return None
