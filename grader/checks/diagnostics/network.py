"""Checks of ``mlp_gradient_norms`` and ``activation_stats``: SPEC's network.

Expected values come from ``grader.oracles.diagnostics``: the network built
from torch operations in float64, gradients from autograd, statistics from
torch reductions. The networks are generated (depth 2-12, widths 1-12, every
activation) and their pre-activations kept within |z| <= 6, where every
formula of tanh' and sigmoid' keeps ~11 correct digits.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from grader.check import Check, CheckFailed, describe, expected, number
from grader.checks.diagnostics.gradients import value_of
from grader.oracles import diagnostics as oracle
from grader.properties import for_all

__all__ = ["ACTIVATIONS", "MLP_RTOL", "MLP_HINT", "expect_norms", "judge_norms",
           "network_checks", "mlp_network"]

ACTIVATIONS = oracle.ACTIVATIONS
MLP_RTOL = 1e-6
MLP_HINT = ("delta_L = z_L / N (loss 0.5 * sum(z_L^2) / N, the last layer linear); grad W_l = "
            "delta_l.T @ h_{l-1}; delta_{l-1} = (delta_l @ W_l) * phi'(z_{l-1}) with "
            "sigmoid' = s(1 - s), tanh' = 1 - tanh^2; norms input side first.")


def mlp_network(depth, dims, n, activation, gain, seed):
    g = np.random.default_rng(seed)
    weights = [g.standard_normal((dims[i + 1], dims[i])) * gain / math.sqrt(dims[i])
               for i in range(depth)]
    x = g.standard_normal((n, dims[0]))
    # keep |z| <= 6: there 1 - tanh(z)^2 and sigmoid'(z) keep ~11 correct digits whichever
    # formula computes them (1 - h*h, sech^2, exp(-z)/(1+exp(-z))^2), far inside rtol 1e-6
    if activation in ("sigmoid", "tanh"):
        for _ in range(60):
            zs = oracle.pre_activations(weights, x, activation)[:-1]
            zmax = max((float(np.max(np.abs(z), initial=0.0)) for z in zs), default=0.0)
            if zmax <= 6.0:
                break
            weights = [w * 0.8 for w in weights]
    return weights, x


@st.composite
def _mlp_cases(draw, activation: str):
    depth = draw(st.integers(2, 12))
    dims = [draw(st.integers(1, 12)) for _ in range(depth + 1)]
    n = draw(st.integers(1, 8))
    gain = draw(st.floats(0.5, 2.5))
    seed = draw(st.integers(0, 2**31 - 1))
    weights, x = mlp_network(depth, dims, n, activation, gain, seed)
    return weights, x, activation


def _for_each_activation(prop, rng, examples_each: int, student) -> None:
    """Run ``prop`` on generated networks of every activation (each one is covered)."""
    for activation in ACTIVATIONS:
        for_all(_mlp_cases(activation), prop, rng, max_examples=examples_each,
                memory=student.memory, student=student)


def _context(weights, x, activation) -> str:
    dims = [x.shape[1]] + [w.shape[0] for w in weights]
    return (f"{len(weights)} layers of sizes {'-'.join(str(d) for d in dims)}, batch of "
            f"{x.shape[0]}, activation {activation!r}")


def expect_norms(value, depth: int, what: str = "mlp_gradient_norms") -> list[float]:
    """The norms ``value`` holds (a list, tuple or array of ``depth`` numbers)."""
    items = (list(value) if isinstance(value, (list, tuple))
             or (isinstance(value, np.ndarray) and value.ndim == 1) else None)
    if items is None or len(items) != depth:
        raise CheckFailed(
            f"{what} should return {depth} gradient norms (one per layer); got "
            f"{describe(value)}", "Return [float(np.linalg.norm(g)) for g in grads].")
    numbers = [number(v) for v in items]
    if None in numbers:
        i = numbers.index(None)
        raise CheckFailed(f"{what}: entry {i} should be a number; got {describe(items[i])}",
                          "Convert with float(...).")
    return numbers


def judge_norms(value, expected, context, what="mlp_gradient_norms", rtol=MLP_RTOL):
    got = expect_norms(value, len(expected), what)
    for i, (a, b) in enumerate(zip(got, expected)):
        if not abs(a - b) <= rtol * abs(b):
            rel = abs(a - b) / max(abs(b), 1e-300)
            raise CheckFailed(
                f"{what} ({context}): layer {i + 1} of {len(expected)} should have gradient "
                f"norm {b:.10g}, got {a:.10g}. Expected: "
                f"{', '.join(f'{e:.4g}' for e in expected)}; got: "
                f"{', '.join(f'{e:.4g}' for e in got)}", MLP_HINT,
                f"relative error {rel:.3g} > {rtol:g}; float64 backpropagation in any order "
                "is accurate to ~1e-12 here")


def _mg_values(student, rng) -> str:
    def prop(case):
        weights, x, activation = case
        judge_norms(student(weights, x, activation),
                    expected(student, oracle.mlp_gradient_norms, weights, x, activation),
                    _context(weights, x, activation),
                    what="mlp_gradient_norms (compared with torch autograd, float64)")
    _for_each_activation(prop, rng, examples_each=12, student=student)
    return ""


def _mg_last_layer_linear(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for activation in ACTIVATIONS:
        for depth in (1, 2):
            dims = [4, 5, 3][: depth + 1]
            weights = [g.standard_normal((dims[i + 1], dims[i])) for i in range(depth)]
            x = g.standard_normal((6, 4))
            judge_norms(student(weights, x, activation),
                        expected(student, oracle.mlp_gradient_norms, weights, x, activation),
                        _context(weights, x, activation)
                        + " (the output layer is never activated)")
    return ""


def _mg_batch_mean(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    weights = [g.standard_normal((5, 4)) * 0.5, g.standard_normal((3, 5)) * 0.5]
    x = g.standard_normal((7, 4))
    for activation in ("tanh", "relu"):
        once = expect_norms(student(weights, x, activation), 2)
        twice = expect_norms(student(weights, np.vstack([x, x]), activation), 2)
        for i, (a, b) in enumerate(zip(once, twice)):
            # mathematically equal; float64 agrees to ~1e-15, so 1e-9 is safe
            if not abs(a - b) <= 1e-9 * abs(a):
                raise CheckFailed(
                    f"the loss 0.5 * sum(z_L^2) / N is a mean over the batch, so stacking the "
                    f"batch twice must not change the gradient; mlp_gradient_norms (activation "
                    f"{activation!r}) gives {a:.10g} for layer {i + 1} on 7 samples and "
                    f"{b:.10g} on the same 7 samples twice (ratio {b / a:.6g})",
                    "Divide by N = x.shape[0]: delta_L = z_L / N.", "tolerance 1e-9 relative")
    return ""


def _invalid_mlp(student, function: str) -> None:
    g = np.random.default_rng(5)
    good = [g.standard_normal((5, 4)), g.standard_normal((3, 5))]
    x = g.standard_normal((6, 4))
    cases = [
        ((good, x, "softplus"), "an unknown activation 'softplus'"),
        ((good, x, "gelu"), "an unknown activation 'gelu'"),
        (([good[0], g.standard_normal((3, 4))], x, "tanh"),
         "weights of shapes (5, 4) then (3, 4), which do not chain"),
        ((good, g.standard_normal((6, 3)), "relu"),
         "x of shape (6, 3) for weights[0] of shape (5, 4)"),
    ]
    for args, what in cases:
        call = student.call(*args)
        if call.raised is None or not call.raised.is_a("ValueError"):
            got = "returned normally" if call.raised is None else f"raised {call.raised.type}"
            raise CheckFailed(f"{function} with {what} should raise ValueError; it {got}",
                              "Validate the activation name and every shape before computing.")


def _mlp_invalid(function: str):
    def run(student, rng) -> str:
        _invalid_mlp(student, function)
        return ""
    return run


def _mlp_no_mutation(function: str):
    def run(student, rng) -> str:
        g = np.random.default_rng(int(rng.integers(2**31)))
        weights = [g.standard_normal((5, 4)), g.standard_normal((4, 5)), g.standard_normal((2, 4))]
        x = g.standard_normal((6, 4))
        for activation in ACTIVATIONS:
            call = value_of(student, f"{function}(..., activation={activation!r})",
                            weights, x, activation)
            if call.mutated:
                raise CheckFailed(f"{function} (activation {activation!r}) modified its "
                                  f"input(s) {', '.join(call.mutated)}; no argument may change",
                                  "Compute new arrays; do not write into x or the weights (e.g. "
                                  "z[z < 0] = 0 on a view of an input).")
        return ""
    return run


def _mg_shape_dtype(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    weights = [g.standard_normal((5, 4)), g.standard_normal((3, 5))]
    value = student(weights, g.standard_normal((6, 4)), "tanh")
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, float) for v in value)):
        raise CheckFailed("mlp_gradient_norms of a 2-layer network should return a list of 2 "
                          f"Python floats; got {describe(value)}"
                          + (f" holding {', '.join(type(v).__name__ for v in value)}"
                             if isinstance(value, (list, tuple)) else ""),
                          "Return [float(np.linalg.norm(g)) for g in grads] (a list).")
    return ""


# ---------------------------------------------------------------------------
# activation_stats
# ---------------------------------------------------------------------------

_STATS_KEYS = ("mean", "std", "saturated", "dead")
_STATS_HINT = ("One dict per hidden layer h_1..h_{L-1} (not the linear output): mean and std "
               "(ddof=0) over all entries; saturated = fraction with h < 0.01 or h > 0.99 "
               "(sigmoid) or |h| > 0.99 (tanh), else 0.0; dead = fraction equal to 0 (relu), "
               "else 0.0.")


def _stats_hint(key: str, got: float, exp: dict, layer: int, expected: list) -> str:
    if key == "std" and exp["std"] > 0:
        ratio = got / exp["std"]
        if len(expected) and 1.0 < ratio < 1.5:
            return "std with ddof=0 (divide by the number of entries), not the sample std."
    if layer == len(expected) and key in ("mean", "std"):
        return "Only the hidden layers h_1..h_{L-1}: the linear output is not one of them."
    return _STATS_HINT


def _judge_stats(value, expected, context, what="activation_stats"):
    if not isinstance(value, (list, tuple)) or len(value) != len(expected):
        hint = _STATS_HINT
        if isinstance(value, (list, tuple)) and len(value) == len(expected) + 1:
            hint = ("One entry per hidden layer: L layers have L - 1 hidden layers; leave out "
                    "the linear output.")
        raise CheckFailed(f"{what} ({context}) should return a list of {len(expected)} dicts, "
                          f"one per hidden layer; got {describe(value)}"
                          + (f" of length {len(value)}" if isinstance(value, (list, tuple))
                             else ""), hint)
    for layer, (got, exp) in enumerate(zip(value, expected), start=1):
        if not isinstance(got, dict) or any(k not in got for k in _STATS_KEYS):
            raise CheckFailed(f"{what}: entry {layer} should be a dict with keys "
                              f"{', '.join(_STATS_KEYS)}; got {describe(got)}", _STATS_HINT)
        scale = abs(exp["mean"]) + exp["std"]
        for key in _STATS_KEYS:
            g = number(got[key])
            if g is None:
                raise CheckFailed(f"{what}: hidden layer {layer} '{key}' should be a number; "
                                  f"got {describe(got[key])}", _STATS_HINT)
            e = exp[key]
            # mean/std: float64 sums in any order agree to ~1e-14 of the scale |mean| + std;
            # fractions are counts / size, exact up to one rounding
            tol = (MLP_RTOL * abs(e) + 1e-12 * scale) if key in ("mean", "std") else 1e-12
            if not abs(g - e) <= tol:
                raise CheckFailed(
                    f"{what} ({context}): hidden layer {layer} '{key}' should be {e:.10g}, got "
                    f"{g:.10g}", _stats_hint(key, g, exp, layer, expected),
                    f"tolerance {tol:.3g}: float64 round-off only")


def _as_values(student, rng) -> str:
    def prop(case):
        weights, x, activation = case
        _judge_stats(student(weights, x, activation),
                     expected(student, oracle.activation_stats, weights, x, activation),
                     _context(weights, x, activation))
    _for_each_activation(prop, rng, examples_each=12, student=student)
    return ""


def _as_saturation_dead(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    dims = [8, 16, 16, 16, 4]
    for activation in ACTIVATIONS:
        for gain in (1.0, 6.0):  # gain 6 drives sigmoid/tanh deep into saturation
            weights = [g.standard_normal((dims[i + 1], dims[i])) * gain / math.sqrt(dims[i])
                       for i in range(len(dims) - 1)]
            x = g.standard_normal((10, 8))
            _judge_stats(student(weights, x, activation),
                         expected(student, oracle.activation_stats, weights, x, activation),
                         _context(weights, x, activation) + f", weight gain {gain:g}")
    weights = [g.standard_normal((3, 8))]
    value = student(weights, g.standard_normal((4, 8)), "tanh")
    if not (isinstance(value, (list, tuple)) and len(value) == 0):
        raise CheckFailed("activation_stats of a one-layer network (no hidden layer: its only "
                          f"layer is the linear output) should be []; got {describe(value)}",
                          _STATS_HINT)
    return ""


def _as_shape_dtype(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    weights = [g.standard_normal((5, 4)), g.standard_normal((3, 5))]
    value = student(weights, g.standard_normal((6, 4)), "relu")
    ok = (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)
          and set(value[0]) == set(_STATS_KEYS)
          and all(isinstance(v, float) for v in value[0].values()))
    if not ok:
        raise CheckFailed("activation_stats of a 2-layer network should return a list of one "
                          "dict with exactly the keys mean, std, saturated, dead, each a "
                          f"Python float; got {describe(value)}",
                          "Build {'mean': float(...), 'std': float(...), 'saturated': "
                          "float(...), 'dead': float(...)} per hidden layer.")
    return ""


def network_checks() -> tuple[Check, ...]:
    p, q = "diagnostics.mlp_gradient_norms.", "diagnostics.activation_stats."
    torch = ("torch",)
    return (
        Check(p + "values", "parity", _mg_values, weight=3.5, requires=torch, timeout_s=60.0),
        Check(p + "last_layer_linear", "unit", _mg_last_layer_linear, weight=0.5,
              requires=torch, gated=True),
        Check(p + "batch_mean", "unit", _mg_batch_mean, weight=0.5, gated=True),
        Check(p + "shape_dtype", "unit", _mg_shape_dtype, weight=0.5, gated=True),
        Check(p + "invalid_inputs", "unit", _mlp_invalid("mlp_gradient_norms"), weight=0.5,
              gated=True),
        Check(p + "no_mutation", "unit", _mlp_no_mutation("mlp_gradient_norms"), weight=0.5,
              gated=True),
        Check(q + "values", "parity", _as_values, weight=3.0, requires=torch, timeout_s=60.0),
        Check(q + "saturation_and_dead", "unit", _as_saturation_dead, weight=1.0,
              requires=torch),
        Check(q + "shape_dtype", "unit", _as_shape_dtype, weight=0.5, gated=True),
        Check(q + "invalid_inputs", "unit", _mlp_invalid("activation_stats"), weight=0.5,
              gated=True),
        Check(q + "no_mutation", "unit", _mlp_no_mutation("activation_stats"), weight=0.5,
              gated=True),
    )
