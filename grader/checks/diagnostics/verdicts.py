"""Checks of ``diagnose``, and the seed's demonstrations (kind ``experiment``).

``diagnose``'s labels are what no framework computes: the expected label is
the student API's rule evaluated on the norms given
(``grader.oracles.diagnostics.diagnose``); the generated cases keep a relative
margin of at least 3e-9 from both boundaries.

The demonstrations run 20-layer networks whose weights are drawn with
``torch.nn.init`` (through ``grader.oracles.initializers``): sigmoid with
N(0, 0.01²) weights (vanishing, Q1/Q3), tanh with Xavier-normal weights
(healthy), tanh with N(0, 1) weights (exploding, Q4) and ReLU with He-normal
weights (healthy). The first/last ratios are about 1e-30, 1, 1e7 and 1: each
at least 10 times (in fact ~1e5 times or more) away from the thresholds 1/100
and 100. A ReLU network with N(0, 1) weights is *not* used for Q4: ReLU is
positively homogeneous, so a common weight scale ``c`` multiplies every
layer's gradient by the same ``c^(2L-1)`` and cancels from the first/last
ratio (its verdict is exactly that of He initialisation).
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np
from hypothesis import strategies as st

from grader.check import Check, CheckFailed, Diagnosis, describe, grader_draw
from grader.checks.diagnostics.gradients import value_of
from grader.checks.diagnostics.network import MLP_HINT, expect_norms, judge_norms
from grader.oracles import diagnostics as oracle
from grader.oracles import initializers as init_oracle
from grader.properties import for_all

__all__ = ["DEMOS", "DEMO_DEPTH", "DEMO_WIDTH", "DEMO_BATCH", "demo_network",
           "diagnose_checks", "demo_checks"]

_HINT = ("In order: non-finite -> 'exploding'; first == 0 -> 'vanishing'; last == 0 -> "
         "'exploding'; r = first / last (first = input side = grad_norms[0]): "
         "r < 1/ratio -> 'vanishing', r > ratio -> 'exploding', else 'healthy'.")


_LABELS = ("vanishing", "exploding", "healthy")


def _verdict_hint(norms, ratio, got, expected) -> Diagnosis:
    """The hint for ``got`` where ``expected`` was due; a named mistake only where the
    answer is a label that this mistake gives."""
    if isinstance(got, str) and got != expected and got.strip().lower() == expected:
        return Diagnosis(f"Right verdict, wrong spelling: return exactly one of the lowercase "
                         f"strings {', '.join(map(repr, _LABELS))}, here {expected!r}.",
                         "verdict not spelled as a lowercase label")
    if not isinstance(got, str):
        return Diagnosis(f"Return one of the strings {', '.join(map(repr, _LABELS))}. {_HINT}")
    inverted = {"vanishing": "exploding", "exploding": "vanishing"}
    if got == inverted.get(expected) and all(math.isfinite(v) and v > 0 for v in norms):
        return Diagnosis("'vanishing' and 'exploding' are swapped: first = grad_norms[0] is the "
                         "input side; a small first/last means the gradient vanishes before "
                         "it reaches the input.", "vanishing and exploding swapped")
    if (expected == "exploding" and got in ("vanishing", "healthy")
            and not all(math.isfinite(v) for v in norms)):
        return Diagnosis("A norm that is inf or NaN means the gradient exploded: check that "
                         "first.", "non-finite norms not read as exploding")
    return Diagnosis(_HINT)


def _judge_verdict(student, norms, ratio, expected, why: str) -> None:
    kwargs = {} if ratio is None else {"ratio": ratio}
    got = value_of(student, "diagnose", list(norms), **kwargs).value
    if not (isinstance(got, str) and got == expected):
        shown = ", ".join(f"{v:.6g}" for v in norms)
        hint, mistake = _verdict_hint(norms, 100.0 if ratio is None else ratio, got, expected)
        raise CheckFailed(
            f"diagnose([{shown}]{'' if ratio is None else f', ratio={ratio:.10g}'}) should be "
            f"{expected!r} ({why}); got {describe(got)}", hint, mistake=mistake)


@st.composite
def _boundary_cases(draw):
    ratio = 10 ** draw(st.floats(math.log10(1.5), 4.0))
    upper = draw(st.booleans())
    inside = draw(st.booleans())
    # relative distance from the boundary: at least 3e-9 (the API keeps 1e-9 away)
    rel = 10 ** draw(st.floats(math.log10(3e-9), -1.0))
    boundary = ratio if upper else 1.0 / ratio
    r = boundary * (1.0 - rel) if upper == inside else boundary * (1.0 + rel)
    last = 10 ** draw(st.floats(-30.0, 30.0))
    middle = [10 ** draw(st.floats(-40.0, 40.0)) for _ in range(draw(st.integers(0, 6)))]
    norms = [r * last] + middle + [last]
    expected = "healthy" if inside else ("exploding" if upper else "vanishing")
    side = f"{'ratio' if upper else '1/ratio'}"
    why = (f"first/last = {side} * (1 {'-' if r < boundary else '+'} {rel:.3g}), "
           f"{'inside' if inside else 'outside'} the healthy band")
    return norms, ratio, expected, why


def _dg_boundaries(student, rng) -> str:
    def prop(case):
        norms, ratio, expected, why = case
        if oracle.diagnose(norms, ratio) != expected:
            return  # float rounding put the generated case across the boundary
        _judge_verdict(student, norms, ratio, expected, why)
    for_all(_boundary_cases(), prop, rng, max_examples=50, memory=student.memory,
            student=student)
    return ""


@st.composite
def _scaling_cases(draw):
    norms = [10 ** draw(st.floats(-12.0, 12.0)) for _ in range(draw(st.integers(2, 8)))]
    ratio = 10 ** draw(st.floats(math.log10(1.5), 4.0))
    scale = 10 ** draw(st.floats(-200.0, 200.0))
    return norms, ratio, scale


def _dg_scale_invariance(student, rng) -> str:
    def prop(case):
        norms, ratio, scale = case
        r = norms[0] / norms[-1]
        if min(abs(r / ratio - 1), abs(r * ratio - 1)) < 1e-6:
            return  # too close to a boundary for a scaled copy to be judged
        expected = oracle.diagnose(norms, ratio)
        _judge_verdict(student, norms, ratio, expected, f"first/last = {r:.6g}")
        scaled = [v * scale for v in norms]
        _judge_verdict(student, scaled, ratio, expected,
                       f"the same norms times {scale:.3g}: scaling every norm leaves "
                       "first/last and the verdict unchanged")
    for_all(_scaling_cases(), prop, rng, max_examples=40, memory=student.memory,
            student=student)
    return ""


def _dg_special(student, rng) -> str:
    inf, nan = float("inf"), float("nan")
    cases = (
        ([inf, 1.0], None, "exploding", "a norm that is not finite"),
        ([1.0, inf], None, "exploding", "a norm that is not finite"),
        ([1.0, nan, 1.0], None, "exploding", "a norm that is not finite (nan)"),
        ([0.0, inf, 1.0], None, "exploding", "non-finite comes before first == 0"),
        ([0.0, 1.0], None, "vanishing", "first == 0"),
        ([0.0, 0.0], None, "vanishing", "first == 0 comes before last == 0"),
        ([0.0, 5.0, 0.0], None, "vanishing", "first == 0"),
        ([1.0, 0.0], None, "exploding", "last == 0"),
        ([3.0, 1.0, 0.0], None, "exploding", "last == 0"),
        ([1.0, 1.0], None, "healthy", "first/last = 1"),
        ([1.0, 0.5], None, "healthy", "first/last = 2 with the default ratio 100"),
        ([1.0, 1e-3], None, "exploding", "first/last = 1000 > 100 (default ratio)"),
        ([1e-3, 1.0], None, "vanishing", "first/last = 1/1000 < 1/100 (default ratio)"),
        ([1.0, 1e-3], 2000.0, "healthy", "first/last = 1000 < 2000"),
        ([1e-300, 1e300], None, "vanishing", "first/last underflows to 0"),
        ([1e300, 1e-300], None, "exploding", "first/last overflows to inf"),
        ([5.0, 1e-9, 1e9, 4.0], None, "healthy", "only the first and the last norm count"),
    )
    for norms, ratio, expected, why in cases:
        _judge_verdict(student, norms, ratio, expected, why)
    return ""


def _dg_invalid(student, rng) -> str:
    cases = (
        (([],), "no norms"), (([1.0],), "a single norm"),
        (([1.0, -1.0],), "a negative norm"), (([-0.5, 1.0, 2.0],), "a negative norm"),
        (([1.0, 2.0], 1.0), "ratio = 1"), (([1.0, 2.0], 0.5), "ratio < 1"),
        (([1.0, 2.0], -3.0), "a negative ratio"),
    )
    for args, what in cases:
        call = student.call(*args)
        if call.raised is None or not call.raised.is_a("ValueError"):
            got = (f"returned {call.value!r}" if call.raised is None
                   else f"raised {call.raised.type}")
            raise CheckFailed(f"diagnose{tuple(args)!r} ({what}) should raise ValueError; "
                              f"it {got}", "Validate first: at least two norms, none negative, "
                              "ratio > 1.")
    return ""


def diagnose_checks() -> tuple[Check, ...]:
    p = "diagnostics.diagnose."
    return (
        Check(p + "boundaries", "property", _dg_boundaries, weight=1.5),
        Check(p + "scale_invariance", "property", _dg_scale_invariance, weight=1.0, gated=True),
        Check(p + "special_cases", "unit", _dg_special, weight=1.0),
        Check(p + "invalid_inputs", "unit", _dg_invalid, weight=0.5, gated=True),
    )


# ---------------------------------------------------------------------------
# the seed demonstrations
# ---------------------------------------------------------------------------

def _normal(std):
    return lambda shape, g: g.normal(0.0, std, shape)


DEMOS = {
    # name: (activation, weight sampler, expected verdict, what it shows)
    "sigmoid_small_weights_vanish": (
        "sigmoid", _normal(0.01), "vanishing",
        "20-layer sigmoid network with N(0, 0.01^2) weights (Q1/Q3)"),
    "tanh_xavier_healthy": (
        "tanh", lambda shape, g: init_oracle.xavier_normal(shape, rng=g), "healthy",
        "20-layer tanh network with Xavier-normal weights (Q2/Q5)"),
    "tanh_unit_normal_explodes": (
        "tanh", _normal(1.0), "exploding", "20-layer tanh network with N(0, 1) weights (Q4)"),
    "relu_he_healthy": (
        "relu", lambda shape, g: init_oracle.he_normal(shape, nonlinearity="relu", rng=g),
        "healthy", "20-layer ReLU network with He-normal weights (Q7)"),
}
DEMO_DEPTH, DEMO_WIDTH, DEMO_BATCH = 20, 128, 32


def demo_network(name: str, rng: np.random.Generator):
    activation, sampler, expected, label = DEMOS[name]
    g = np.random.default_rng(int(rng.integers(2**31)))
    weights = [sampler((DEMO_WIDTH, DEMO_WIDTH), g) for _ in range(DEMO_DEPTH)]
    x = g.standard_normal((DEMO_BATCH, DEMO_WIDTH))
    return weights, x, activation, expected, label


def _demo_case(name: str, rng: np.random.Generator):
    """A demonstration's network and its correct gradient norms: one draw of the grader's
    (kept whole by a process that grades many, which then never fingerprints the
    network's 2.6 MB of weights to look its norms up)."""
    weights, x, activation, expected, label = demo_network(name, rng)
    return (weights, x, activation, expected, label,
            oracle.mlp_gradient_norms(weights, x, activation))


def _demo_mlp(name: str):
    def run(student, rng) -> str:
        weights, x, activation, expected, label, correct = grader_draw(
            student, rng, ("demo", name), partial(_demo_case, name))
        got = expect_norms(student(weights, x, activation), DEMO_DEPTH)
        verdict = oracle.diagnose(got) if all(v >= 0 for v in got) else "invalid"
        r = got[0] / got[-1] if got[-1] else float("inf")
        if verdict != expected:
            raise CheckFailed(
                f"{label}, width {DEMO_WIDTH}, batch {DEMO_BATCH}: your gradient norms give "
                f"first/last = {r:.3g}, which reads as {verdict!r}; the network is "
                f"{expected!r} (correct ratio {correct[0] / correct[-1]:.3g}, thresholds "
                "1/100 and 100)", MLP_HINT)
        judge_norms(got, correct, label)
        return f"first/last = {r:.3g}: {verdict}"
    return run


def _demo_diagnose(name: str):
    def run(student, rng) -> str:
        _, _, _, expected, label, norms = grader_draw(
            student, rng, ("demo", name), partial(_demo_case, name))
        got = value_of(student, "diagnose", norms).value
        r = norms[0] / norms[-1]
        if not (isinstance(got, str) and got == expected):
            hint, mistake = _verdict_hint(norms, 100.0, got, expected)
            raise CheckFailed(
                f"{label}: the gradient norms (input side first) have first/last = {r:.3g}; "
                f"diagnose should return {expected!r} (ratio 100), got {describe(got)}", hint,
                mistake=mistake)
        return f"first/last = {r:.3g}: {got}"
    return run


def demo_checks() -> tuple[Check, ...]:
    out = [Check(f"diagnostics.mlp_gradient_norms.demo_{name}", "experiment", _demo_mlp(name),
                 weight=0.5, requires=("torch",), gated=True) for name in DEMOS]
    out += [Check(f"diagnostics.diagnose.demo_{name}", "experiment", _demo_diagnose(name),
                  weight=0.5, requires=("torch",), gated=True) for name in DEMOS]
    return tuple(out)
