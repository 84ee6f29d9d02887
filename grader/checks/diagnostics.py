"""Checks of diagnostics.py (SPEC §3).

Expected values come from the reference (``reference/diagnostics.py``), from
torch autograd and ``torch.nn.utils.clip_grad_norm_`` / ``tf.clip_by_global_norm``
in float64, and from the analytic gradients of ``grader.testfns``. Every
function here is deterministic, so the tolerances only absorb float64
round-off; each check states its tolerance and why a correct implementation,
whatever order it adds things in, stays far inside it.

The seed demonstrations (kind ``experiment``) run 20-layer networks whose
weights the grader draws with the reference initializers: sigmoid with
N(0, 0.01²) weights (vanishing, Q1/Q3), tanh with Xavier-normal weights
(healthy), tanh with N(0, 1) weights (exploding, Q4) and ReLU with He-normal
weights (healthy). The first/last ratios are about 1e-30, 1, 1e7 and 1: each
at least 10 times (in fact ~1e5 times or more) away from the thresholds 1/100 and 100.
A ReLU network with N(0, 1) weights is *not* used for Q4: ReLU is positively
homogeneous, so a common weight scale ``c`` multiplies every layer's gradient
by the same ``c^(2L-1)`` and cancels from the first/last ratio (its verdict is
exactly that of He initialisation).
"""
from __future__ import annotations

import math
import os
from functools import partial

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference.diagnostics as ref
import reference.initializers as ref_init
from grader import testfns
from grader.check import Check, CheckFailed, describe, expect_array, fmt_shape
from grader.properties import for_all
from grader.student import StudentRaised
from grader.wire import Fn

__all__ = ["CHECKS"]

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu")
MLP_RTOL = 1e-6


def _value(student, what: str, *args, **kwargs):
    """Call the student; a raised exception is the student's error."""
    call = student.call(*args, **kwargs)
    if call.raised is not None:
        raise StudentRaised(call.raised, what)
    return call


def _is_float(value) -> bool:
    return isinstance(value, (float, np.floating)) and not isinstance(value, np.ndarray)


# ---------------------------------------------------------------------------
# numerical_gradient
# ---------------------------------------------------------------------------

_NG_HINT = ("grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h) for every element (np.ndindex "
            "visits every index of an array of any shape); restore x[i] after each "
            "perturbation or work on a copy.")


SMOOTH = ("quadratic", "cubic", "poly", "tanh_weighted", "exp_sin", "coupled")


@st.composite
def _smooth_cases(draw, name: str):
    coef = partial(st.floats, allow_nan=False, allow_subnormal=False)
    params, limit = {}, 3.0
    if name == "quadratic":
        params = {"a": draw(coef(-5.0, 5.0)), "b": draw(coef(-5.0, 5.0))}
    elif name == "cubic":
        params = {"c": draw(coef(-20.0, 20.0))}
    elif name == "poly":
        params = {"a1": draw(coef(-5.0, 5.0)), "a2": draw(coef(-5.0, 5.0)),
                  "a3": draw(coef(-10.0, 10.0))}
    elif name == "exp_sin":
        limit = 5.0
    elif name == "coupled":
        params, limit = {"s": draw(coef(-3.0, 3.0))}, 2.0
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    x = draw(hnp.arrays(np.float64, shape, elements=coef(-limit, limit)))
    return name, params, x


def _judge_gradient(value, name, params, x, h, expected, bound, context):
    got = expect_array(value, "numerical_gradient", shape=x.shape)
    err = np.abs(got - expected)
    bad = err > bound
    if np.any(bad):
        i = np.unravel_index(int(np.argmax(err / bound)), x.shape)
        raise CheckFailed(
            f"numerical_gradient({name}{params or ''}, x of shape {fmt_shape(x.shape)}, "
            f"h={h:g}){context}: at index {tuple(int(k) for k in i)} (x = {x[i]:.6g}) "
            f"expected {expected[i]:.12g}, got {got[i]:.12g}; |difference| {err[i]:.3g} > "
            f"tolerance {bound[i]:.3g} (twice a worst-case bound on the centred difference's "
            f"own error: h^2/6 |f'''| truncation plus float64 rounding of f, ~eps |f| / h)",
            _NG_HINT)


def _ng_smooth(student, rng) -> str:
    def prop(case):
        name, params, x = case
        value = student(Fn(name, params), x)
        _judge_gradient(value, name, params, x, 1e-5, testfns.gradient(name, params, x),
                        2.0 * testfns.fd_error_bound(name, params, x, 1e-5),
                        " compared with the analytic gradient")
    for name in SMOOTH:  # every function covered
        for_all(_smooth_cases(name), prop, max_examples=8)
    return ""


def _ng_centred(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    params = {"c": 50.0}
    x = g.uniform(0.5, 1.5, (2, 2)) * g.choice([-1.0, 1.0], (2, 2))
    # default h: the exact gradient 3 c x^2 within the bound; a one-sided difference is off by
    # 3 c |x| h >= 7.5e-4, hundreds of times the tolerance (~4e-6)
    value = student(Fn("cubic", params), x)
    _judge_gradient(value, "cubic", params, x, 1e-5, testfns.gradient("cubic", params, x),
                    2.0 * testfns.fd_error_bound("cubic", params, x, 1e-5),
                    " (a cubic of large curvature: a one-sided difference is off by "
                    "3 c |x| h)")
    # h = 1e-3 given explicitly: the centred difference of c x^3 is exactly 3 c x^2 + c h^2
    h = 1e-3
    value = student(Fn("cubic", params), x, h=h)
    _judge_gradient(value, "cubic", params, x, h, 3 * 50.0 * x**2 + 50.0 * h * h,
                    2.0 * testfns.fd_error_bound("cubic", params, x, h, truncation=False),
                    " (the centred difference of c x^3 is exactly 3 c x^2 + c h^2; the step "
                    "h must be the argument h)")
    return ""


def _ng_no_mutation(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for shape in ((5,), (2, 3), (2, 2, 2)):
        x = g.uniform(-1, 1, shape)
        call = _value(student, f"numerical_gradient(coupled, x of shape {fmt_shape(shape)})",
                      Fn("coupled", {"s": 1.0}), x)
        if call.mutated:
            raise CheckFailed(
                f"numerical_gradient changed x (shape {fmt_shape(shape)}): x must be the same "
                "after the call (SPEC)",
                "Restore x[i] = original after the two evaluations, or perturb a copy "
                "(np.array(x, dtype=float, copy=True)).")
    return ""


# ---------------------------------------------------------------------------
# relative_error
# ---------------------------------------------------------------------------

def _rel_formula(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


_RE_HINT = "max over elements of |a - b| / max(1e-8, |a| + |b|), returned as a Python float."


def _judge_relative(student, a, b, expected=None, label: str = "") -> None:
    expected = _rel_formula(a, b) if expected is None else expected
    got = _value(student, "relative_error", a, b).value
    if not _is_float(got):
        raise CheckFailed(f"relative_error should return a float; got {describe(got)}"
                          f"{label}", "Return float(...) of the maximum.")
    # the same few float64 operations in any order: a few ulps; 1e-12 is 1e3 times that
    if not (abs(got - expected) <= 1e-12 * abs(expected) or (got == expected)):
        shown_a = np.array2string(np.asarray(a), precision=6, threshold=8)
        shown_b = np.array2string(np.asarray(b), precision=6, threshold=8)
        raise CheckFailed(
            f"relative_error(a, b) for a = {shown_a}, b = {shown_b}{label}: expected "
            f"{expected!r}, got {got!r} (tolerance 1e-12 relative: the formula is a few "
            "float64 operations)", _RE_HINT)


@st.composite
def _relative_cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    element = st.one_of(
        st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
        st.floats(-1e-8, 1e-8, allow_nan=False, allow_subnormal=False),
        st.just(0.0))
    a = draw(hnp.arrays(np.float64, shape, elements=element))
    mode = draw(st.sampled_from(("independent", "close", "negated")))
    if mode == "independent":
        b = draw(hnp.arrays(np.float64, shape, elements=element))
    elif mode == "close":
        b = a * (1.0 + draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e-3, 1e-3))))
    else:
        b = -a
    return a, b


def _re_formula(student, rng) -> str:
    for_all(_relative_cases(), lambda case: _judge_relative(student, *case), max_examples=40)
    return ""


def _re_special(student, rng) -> str:
    cases = (
        (np.zeros(3), np.zeros(3), 0.0, " (both zero: 0 / 1e-8)"),
        (np.array([1e-9]), np.array([0.0]), 0.1, " (|a| + |b| below 1e-8: divide by 1e-8)"),
        (np.array([0.0, 3.0]), np.array([0.0, 1.0]), 0.5, " (the maximum, not the mean)"),
        (np.array([1.0, -1.0]), np.array([-1.0, 1.0]), 1.0, " (opposite signs: |a| + |b|)"),
        (np.array([[2.0, 0.5]]), np.array([[-1.0, 0.5]]), 1.0, " (2-D, opposite signs)"),
        (np.zeros(0), np.zeros(0), 0.0, " (empty arrays give 0.0)"),
        (np.zeros((2, 0)), np.zeros((2, 0)), 0.0, " (empty arrays give 0.0)"),
    )
    for a, b, expected, label in cases:
        _judge_relative(student, a, b, expected, label)
    return ""


# ---------------------------------------------------------------------------
# the MLP: cases shared by mlp_gradient_norms and activation_stats
# ---------------------------------------------------------------------------

def _pre_activations(weights, x, activation):
    h, zs = x, []
    for i, w in enumerate(weights):
        z = h @ w.T
        zs.append(z)
        if i < len(weights) - 1:
            h = ref._act(z, activation)
    return zs


def _mlp_network(depth, dims, n, activation, gain, seed):
    g = np.random.default_rng(seed)
    weights = [g.standard_normal((dims[i + 1], dims[i])) * gain / math.sqrt(dims[i])
               for i in range(depth)]
    x = g.standard_normal((n, dims[0]))
    # keep |z| <= 6: there 1 - tanh(z)^2 and sigmoid'(z) keep ~11 correct digits whichever
    # formula computes them (1 - h*h, sech^2, exp(-z)/(1+exp(-z))^2), far inside rtol 1e-6
    if activation in ("sigmoid", "tanh"):
        for _ in range(60):
            zmax = max(float(np.max(np.abs(z), initial=0.0))
                       for z in _pre_activations(weights, x, activation)[:-1] or [np.zeros(1)])
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
    weights, x = _mlp_network(depth, dims, n, activation, gain, seed)
    return weights, x, activation


def _for_each_activation(prop, examples_each: int) -> None:
    """Run ``prop`` on generated networks of every activation (each one is covered)."""
    for activation in ACTIVATIONS:
        for_all(_mlp_cases(activation), prop, max_examples=examples_each)


def _mlp_context(weights, x, activation) -> str:
    dims = [x.shape[1]] + [w.shape[0] for w in weights]
    return (f"{len(weights)} layers of sizes {'-'.join(str(d) for d in dims)}, batch of "
            f"{x.shape[0]}, activation {activation!r}")


def _expect_norms(value, depth: int) -> list[float]:
    if not isinstance(value, list) or len(value) != depth:
        raise CheckFailed(
            f"mlp_gradient_norms should return a list of {depth} floats (one per layer); got "
            f"{describe(value)}", "Return [float(np.linalg.norm(g)) for g in grads].")
    for i, v in enumerate(value):
        if not _is_float(v):
            raise CheckFailed(f"mlp_gradient_norms: entry {i} should be a float; got "
                              f"{describe(v)}", "Convert with float(...).")
    return [float(v) for v in value]


_MLP_HINT = ("delta_L = z_L / N (loss 0.5 * sum(z_L^2) / N, the last layer linear); grad W_l = "
             "delta_l.T @ h_{l-1}; delta_{l-1} = (delta_l @ W_l) * phi'(z_{l-1}) with "
             "sigmoid' = s(1 - s), tanh' = 1 - tanh^2; norms input side first.")


def _judge_norms(value, expected, context, what="mlp_gradient_norms", rtol=MLP_RTOL):
    got = _expect_norms(value, len(expected))
    for i, (a, b) in enumerate(zip(got, expected)):
        if not abs(a - b) <= rtol * abs(b):
            rel = abs(a - b) / max(abs(b), 1e-300)
            raise CheckFailed(
                f"{what} ({context}): layer {i + 1} of {len(expected)} should have gradient "
                f"norm {b:.10g}, got {a:.10g} (relative error {rel:.3g}"
                f" > {rtol:g}; float64 backpropagation in any order is accurate to ~1e-12 "
                f"here). All expected: {', '.join(f'{e:.4g}' for e in expected)}; got: "
                f"{', '.join(f'{e:.4g}' for e in got)}", _MLP_HINT)


def _mg_matches_reference(student, rng) -> str:
    def prop(case):
        weights, x, activation = case
        _judge_norms(student(weights, x, activation),
                     ref.mlp_gradient_norms(weights, x, activation),
                     _mlp_context(weights, x, activation))
    _for_each_activation(prop, examples_each=10)
    return ""


def _torch_act(z, activation):
    import torch
    import torch.nn.functional as F

    return {"linear": lambda t: t, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "relu": torch.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.01)}[activation](z)


def _torch_forward(weights, x, activation, grad: bool):
    import torch

    ws = [torch.tensor(w, dtype=torch.float64, requires_grad=grad) for w in weights]
    h, hidden = torch.tensor(x, dtype=torch.float64), []
    for i, w in enumerate(ws):
        z = h @ w.T
        if i < len(ws) - 1:
            h = _torch_act(z, activation)
            hidden.append(h)
    return ws, hidden, z


def _torch_norms(weights, x, activation) -> list[float]:
    ws, _, z = _torch_forward(weights, x, activation, grad=True)
    loss = 0.5 * (z**2).sum() / x.shape[0]
    loss.backward()
    return [float(w.grad.norm()) for w in ws]


def _mg_torch_parity(student, rng) -> str:
    def prop(case):
        weights, x, activation = case
        _judge_norms(student(weights, x, activation), _torch_norms(weights, x, activation),
                     _mlp_context(weights, x, activation),
                     what="mlp_gradient_norms vs torch autograd (float64)")
    _for_each_activation(prop, examples_each=5)
    return ""


def _mg_last_layer_linear(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    for activation in ACTIVATIONS:
        for depth in (1, 2):
            dims = [4, 5, 3][: depth + 1]
            weights = [g.standard_normal((dims[i + 1], dims[i])) for i in range(depth)]
            x = g.standard_normal((6, 4))
            _judge_norms(student(weights, x, activation),
                         ref.mlp_gradient_norms(weights, x, activation),
                         _mlp_context(weights, x, activation)
                         + " (the output layer is never activated)")
    return ""


def _mg_batch_mean(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    weights = [g.standard_normal((5, 4)) * 0.5, g.standard_normal((3, 5)) * 0.5]
    x = g.standard_normal((7, 4))
    for activation in ("tanh", "relu"):
        once = _expect_norms(student(weights, x, activation), 2)
        twice = _expect_norms(student(weights, np.vstack([x, x]), activation), 2)
        for i, (a, b) in enumerate(zip(once, twice)):
            # mathematically equal; float64 agrees to ~1e-15, so 1e-9 is safe
            if not abs(a - b) <= 1e-9 * abs(a):
                raise CheckFailed(
                    f"the loss 0.5 * sum(z_L^2) / N is a mean over the batch, so stacking the "
                    f"batch twice must not change the gradient; mlp_gradient_norms (activation "
                    f"{activation!r}) gives {a:.10g} for layer {i + 1} on 7 samples and "
                    f"{b:.10g} on the same 7 samples twice (ratio {b / a:.6g}; tolerance 1e-9)",
                    "Divide by N = x.shape[0]: delta_L = z_L / N.")
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
            call = _value(student, f"{function}(..., activation={activation!r})",
                          weights, x, activation)
            if call.mutated:
                raise CheckFailed(f"{function} (activation {activation!r}) modified its "
                                  f"input(s) {', '.join(call.mutated)}; SPEC: no argument is "
                                  "mutated", "Compute new arrays; do not write into x or the "
                                  "weights (e.g. z[z < 0] = 0 on a view of an input).")
        return ""
    return run


# ---------------------------------------------------------------------------
# the seed demonstrations
# ---------------------------------------------------------------------------

DEMOS = {
    # name: (activation, weight sampler, expected verdict, what it shows)
    "sigmoid_small_weights_vanish": (
        "sigmoid", lambda shape, g: g.normal(0.0, 0.01, shape), "vanishing",
        "20-layer sigmoid network with N(0, 0.01^2) weights (Q1/Q3)"),
    "tanh_xavier_healthy": (
        "tanh", lambda shape, g: ref_init.xavier_normal(shape, rng=g), "healthy",
        "20-layer tanh network with Xavier-normal weights (Q2/Q5)"),
    "tanh_unit_normal_explodes": (
        "tanh", lambda shape, g: g.normal(0.0, 1.0, shape), "exploding",
        "20-layer tanh network with N(0, 1) weights (Q4)"),
    "relu_he_healthy": (
        "relu", lambda shape, g: ref_init.he_normal(shape, nonlinearity="relu", rng=g),
        "healthy", "20-layer ReLU network with He-normal weights (Q7)"),
}
DEMO_DEPTH, DEMO_WIDTH, DEMO_BATCH = 20, 128, 32


def _demo_network(name: str, rng: np.random.Generator):
    activation, sampler, expected, label = DEMOS[name]
    g = np.random.default_rng(int(rng.integers(2**31)))
    weights = [sampler((DEMO_WIDTH, DEMO_WIDTH), g) for _ in range(DEMO_DEPTH)]
    x = g.standard_normal((DEMO_BATCH, DEMO_WIDTH))
    return weights, x, activation, expected, label


def _demo_mlp(name: str):
    def run(student, rng) -> str:
        weights, x, activation, expected, label = _demo_network(name, rng)
        reference = ref.mlp_gradient_norms(weights, x, activation)
        got = _expect_norms(student(weights, x, activation), DEMO_DEPTH)
        verdict = ref.diagnose(got)
        r = got[0] / got[-1] if got[-1] else float("inf")
        if verdict != expected:
            raise CheckFailed(
                f"{label}, width {DEMO_WIDTH}, batch {DEMO_BATCH}: your gradient norms give "
                f"first/last = {r:.3g}, which diagnose() calls {verdict!r}; the network is "
                f"{expected!r} (reference ratio {reference[0] / reference[-1]:.3g}, thresholds "
                "1/100 and 100)", _MLP_HINT)
        _judge_norms(got, reference, label)
        return f"first/last = {r:.3g}: {verdict}"
    return run


def _demo_diagnose(name: str):
    def run(student, rng) -> str:
        weights, x, activation, expected, label = _demo_network(name, rng)
        norms = ref.mlp_gradient_norms(weights, x, activation)
        got = _value(student, "diagnose", norms).value
        r = norms[0] / norms[-1]
        if got != expected:
            raise CheckFailed(
                f"{label}: the gradient norms (input side first) have first/last = {r:.3g}; "
                f"diagnose should return {expected!r} (ratio 100), got {describe(got)}",
                _DIAGNOSE_HINT)
        return f"first/last = {r:.3g}: {got}"
    return run


# ---------------------------------------------------------------------------
# activation_stats
# ---------------------------------------------------------------------------

_STATS_KEYS = ("mean", "std", "saturated", "dead")
_STATS_HINT = ("One dict per hidden layer h_1..h_{L-1} (not the linear output): mean and std "
               "(ddof=0) over all entries; saturated = fraction with h < 0.01 or h > 0.99 "
               "(sigmoid) or |h| > 0.99 (tanh), else 0.0; dead = fraction equal to 0 (relu), "
               "else 0.0.")


def _judge_stats(value, expected, context, what="activation_stats"):
    if not isinstance(value, list) or len(value) != len(expected):
        raise CheckFailed(f"{what} ({context}) should return a list of {len(expected)} dicts, "
                          f"one per hidden layer; got {describe(value)}"
                          + (f" of length {len(value)}" if isinstance(value, list) else ""),
                          _STATS_HINT)
    for layer, (got, exp) in enumerate(zip(value, expected), start=1):
        if not isinstance(got, dict) or any(k not in got for k in _STATS_KEYS):
            raise CheckFailed(f"{what}: entry {layer} should be a dict with keys "
                              f"{', '.join(_STATS_KEYS)}; got {describe(got)}", _STATS_HINT)
        scale = abs(exp["mean"]) + exp["std"]
        for key in _STATS_KEYS:
            g = got[key]
            if not isinstance(g, (int, float, np.integer, np.floating)) or isinstance(g, bool):
                raise CheckFailed(f"{what}: hidden layer {layer} '{key}' should be a float; "
                                  f"got {describe(g)}", _STATS_HINT)
            e = exp[key]
            # mean/std: float64 sums in any order agree to ~1e-14 of the scale |mean| + std;
            # fractions are counts / size, exact up to one rounding
            tol = (MLP_RTOL * abs(e) + 1e-12 * scale) if key in ("mean", "std") else 1e-12
            if not abs(float(g) - e) <= tol:
                raise CheckFailed(
                    f"{what} ({context}): hidden layer {layer} '{key}' should be {e:.10g}, got "
                    f"{float(g):.10g} (tolerance {tol:.3g}: float64 round-off only)",
                    _STATS_HINT)


def _as_stats(mean, std, saturated, dead):
    return {"mean": mean, "std": std, "saturated": saturated, "dead": dead}


def _torch_stats(weights, x, activation):
    import torch

    with torch.no_grad():
        _, hidden, _ = _torch_forward(weights, x, activation, grad=False)
    out = []
    for h in hidden:
        if activation == "sigmoid":
            sat = float(((h < 0.01) | (h > 0.99)).double().mean())
        elif activation == "tanh":
            sat = float((h.abs() > 0.99).double().mean())
        else:
            sat = 0.0
        dead = float((h == 0).double().mean()) if activation == "relu" else 0.0
        out.append(_as_stats(float(h.mean()), float(h.std(unbiased=False)), sat, dead))
    return out


def _as_matches_reference(student, rng) -> str:
    def prop(case):
        weights, x, activation = case
        _judge_stats(student(weights, x, activation),
                     ref.activation_stats(weights, x, activation),
                     _mlp_context(weights, x, activation))
    _for_each_activation(prop, examples_each=10)
    return ""


def _as_torch_parity(student, rng) -> str:
    def prop(case):
        weights, x, activation = case
        _judge_stats(student(weights, x, activation), _torch_stats(weights, x, activation),
                     _mlp_context(weights, x, activation),
                     what="activation_stats vs torch (float64)")
    _for_each_activation(prop, examples_each=4)
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
                         ref.activation_stats(weights, x, activation),
                         _mlp_context(weights, x, activation) + f", weight gain {gain:g}")
    weights = [g.standard_normal((3, 8))]
    value = student(weights, g.standard_normal((4, 8)), "tanh")
    if value != []:
        raise CheckFailed("activation_stats of a one-layer network (no hidden layer: its only "
                          f"layer is the linear output) should be []; got {describe(value)}",
                          _STATS_HINT)
    return ""


# ---------------------------------------------------------------------------
# diagnose
# ---------------------------------------------------------------------------

_DIAGNOSE_HINT = ("In order: non-finite -> 'exploding'; first == 0 -> 'vanishing'; last == 0 -> "
                  "'exploding'; r = first / last (first = input side = grad_norms[0]): "
                  "r < 1/ratio -> 'vanishing', r > ratio -> 'exploding', else 'healthy'.")


def _judge_verdict(student, norms, ratio, expected, why: str) -> None:
    kwargs = {} if ratio is None else {"ratio": ratio}
    got = _value(student, "diagnose", list(norms), **kwargs).value
    if got != expected:
        shown = ", ".join(f"{v:.6g}" for v in norms)
        raise CheckFailed(
            f"diagnose([{shown}]{'' if ratio is None else f', ratio={ratio:.10g}'}) should be "
            f"{expected!r} ({why}); got {describe(got)}", _DIAGNOSE_HINT)


@st.composite
def _boundary_cases(draw):
    ratio = 10 ** draw(st.floats(math.log10(1.5), 4.0))
    upper = draw(st.booleans())
    inside = draw(st.booleans())
    # relative distance from the boundary: at least 3e-9 (SPEC: checks keep 1e-9 away)
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
        assert ref.diagnose(norms, ratio) == expected  # the case itself is right
        _judge_verdict(student, norms, ratio, expected, why)
    for_all(_boundary_cases(), prop, max_examples=50)
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
        expected = ref.diagnose(norms, ratio)
        _judge_verdict(student, norms, ratio, expected, "first/last = "
                       f"{r:.6g}")
        scaled = [v * scale for v in norms]
        _judge_verdict(student, scaled, ratio, expected,
                       f"the same norms times {scale:.3g}: scaling every norm leaves "
                       "first/last and the verdict unchanged")
    for_all(_scaling_cases(), prop, max_examples=40)
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


# ---------------------------------------------------------------------------
# clip_by_global_norm
# ---------------------------------------------------------------------------

_CLIP_HINT = ("total = sqrt(sum of every squared entry of every array); coef = min(1, "
              "max_norm / (total + 1e-6)); return ([coef * g for g in grads], total): one "
              "coefficient for all arrays, never above 1.")


@st.composite
def _clip_cases(draw):
    count = draw(st.integers(1, 4))
    grads = []
    for _ in range(count):
        shape = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 3))))
        grads.append(draw(hnp.arrays(np.float64, shape, elements=st.floats(
            -10.0, 10.0, allow_nan=False, allow_subnormal=False))))
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    if total == 0.0:
        return grads, draw(st.floats(0.0, 5.0))
    # stay 5% away from total: there min(1, .) switches, and an `if total > max_norm` variant
    # differs from min(1, max_norm / (total + 1e-6)) by at most 1e-6 / max_norm
    factor = draw(st.one_of(st.floats(0.01, 0.95), st.floats(1.05, 50.0)))
    return grads, total * factor


def _judge_clip(value, grads, max_norm, expected, rtol: float, what: str, hint: str = _CLIP_HINT):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise CheckFailed(f"{what} should return (clipped, total_norm); got {describe(value)}",
                          _CLIP_HINT)
    clipped, total = value
    shapes = ", ".join(fmt_shape(g.shape) for g in grads)
    context = f"{len(grads)} arrays of shapes {shapes}, max_norm={max_norm:.6g}"
    if not isinstance(clipped, list) or len(clipped) != len(grads):
        raise CheckFailed(f"{what} ({context}) should return a list of {len(grads)} arrays "
                          f"first; got {describe(clipped)}", _CLIP_HINT)
    if not _is_float(total):
        raise CheckFailed(f"{what} ({context}) should return the total norm as a float; got "
                          f"{describe(total)}", "Return float(total).")
    exp_clipped, exp_total = expected
    if not abs(total - exp_total) <= rtol * exp_total:
        raise CheckFailed(f"{what} ({context}): total norm should be {exp_total:.12g} (before "
                          f"clipping), got {total:.12g} (tolerance {rtol:g} relative)", hint)
    for i, (got, exp) in enumerate(zip(clipped, exp_clipped)):
        got = expect_array(got, f"{what}: clipped[{i}]", shape=exp.shape)
        err = np.abs(got - exp)
        bound = rtol * np.abs(exp)
        if np.any(err > bound):
            j = np.unravel_index(int(np.argmax(err - bound)), exp.shape)
            raise CheckFailed(
                f"{what} ({context}, total norm {exp_total:.6g}): clipped[{i}] at index "
                f"{tuple(int(k) for k in j)} should be {exp[j]:.12g}, got {got[j]:.12g} "
                f"(tolerance {rtol:g} relative)", hint)


# float64 sums of <= 200 squares and one division: relative error < 1e-13, so 1e-10 is safe;
# dropping the 1e-6 of SPEC changes the result by 1e-6 / total >= 1e-8 here
CLIP_RTOL = 1e-10


def _cb_matches_reference(student, rng) -> str:
    def prop(case):
        grads, max_norm = case
        _judge_clip(student(grads, max_norm), grads, max_norm,
                    ref.clip_by_global_norm(grads, max_norm), CLIP_RTOL, "clip_by_global_norm")
    for_all(_clip_cases(), prop, max_examples=40)
    return ""


def _clip_parity_cases(rng):
    g = np.random.default_rng(int(rng.integers(2**31)))
    cases = []
    for shapes in (((3, 4), (4,)), ((2, 3, 2), (5,), (1, 1)), ((10,),), ((4, 4), (4,), (2, 4))):
        grads = [g.standard_normal(s) * g.uniform(0.5, 5.0) for s in shapes]
        total = float(np.sqrt(sum(np.sum(a * a) for a in grads)))
        for factor in (0.1, 0.5, 2.0):
            cases.append((grads, total * factor))
    return cases


def _torch_clip(grads, max_norm):
    import torch

    params = []
    for a in grads:
        p = torch.zeros(a.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(a, dtype=torch.float64)
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy().copy() for p in params], float(total)


def _cb_torch_parity(student, rng) -> str:
    for grads, max_norm in _clip_parity_cases(rng):
        _judge_clip(student(grads, max_norm), grads, max_norm, _torch_clip(grads, max_norm),
                    CLIP_RTOL, "clip_by_global_norm vs torch.nn.utils.clip_grad_norm_ (float64)")
    return ""


def _cb_tf_parity(student, rng) -> str:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    for grads, max_norm in _clip_parity_cases(rng):
        clipped, total = tf.clip_by_global_norm([tf.constant(a) for a in grads], max_norm)
        expected = ([np.asarray(c, dtype=np.float64) for c in clipped], float(total))
        # TF scales by max_norm / max(total, max_norm), without PyTorch's + 1e-6: the two agree
        # to a relative 1e-6 / total, so the tolerance is that plus float64 round-off
        rtol = 1e-6 / expected[1] + CLIP_RTOL
        _judge_clip(student(grads, max_norm), grads, max_norm, expected, rtol,
                    f"clip_by_global_norm vs tf.clip_by_global_norm (float64; tolerance "
                    f"{rtol:.2g} = 1e-6/total for TF's missing +1e-6, plus round-off)")
    return ""


def _cb_no_scale_up(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    grads = [g.standard_normal((3, 3)), g.standard_normal(4)]
    total = float(np.sqrt(sum(np.sum(a * a) for a in grads)))
    for factor in (1.5, 10.0, 1e6):
        max_norm = total * factor
        clipped, got_total = student(grads, max_norm)
        for i, (c, a) in enumerate(zip(clipped, grads)):
            c = expect_array(c, f"clip_by_global_norm: clipped[{i}]", shape=a.shape)
            # the coefficient is exactly 1.0 here: allow one rounding at most
            if not np.allclose(c, a, rtol=1e-12, atol=0.0):
                ratio = float(np.max(np.abs(c)) / np.max(np.abs(a)))
                raise CheckFailed(
                    f"clip_by_global_norm with total norm {total:.6g} below max_norm = "
                    f"{max_norm:.6g} must return the gradients unchanged; clipped[{i}] is "
                    f"{ratio:.6g} times the input",
                    "coef = min(1, max_norm / (total + 1e-6)): clipping only ever shrinks.")
    return ""


def _cb_no_mutation(student, rng) -> str:
    g = np.random.default_rng(int(rng.integers(2**31)))
    grads = [g.standard_normal((3, 3)) * 5, g.standard_normal(4) * 5]
    call = _value(student, "clip_by_global_norm", grads, 1.0)
    if call.mutated:
        raise CheckFailed("clip_by_global_norm modified the gradient arrays it was given ("
                          f"{', '.join(call.mutated)}); SPEC: inputs untouched, return new "
                          "arrays", "Return [g * coef for g in grads], not g *= coef.")
    return ""


# ---------------------------------------------------------------------------

def _demo_checks() -> tuple[Check, ...]:
    out = []
    for name in DEMOS:
        out.append(Check(f"diagnostics.mlp_gradient_norms.demo_{name}", "experiment",
                         _demo_mlp(name), weight=0.5))
    for name in DEMOS:
        out.append(Check(f"diagnostics.diagnose.demo_{name}", "experiment",
                         _demo_diagnose(name), weight=0.5))
    return tuple(out)


CHECKS: tuple[Check, ...] = (
    Check("diagnostics.numerical_gradient.smooth_functions", "property", _ng_smooth, weight=2.0),
    Check("diagnostics.numerical_gradient.centred", "unit", _ng_centred, weight=1.5),
    Check("diagnostics.numerical_gradient.no_mutation", "unit", _ng_no_mutation, weight=0.5),
    Check("diagnostics.relative_error.formula", "property", _re_formula, weight=2.0),
    Check("diagnostics.relative_error.special_cases", "unit", _re_special, weight=1.5),
    Check("diagnostics.mlp_gradient_norms.matches_reference", "unit", _mg_matches_reference,
          weight=2.0),
    Check("diagnostics.mlp_gradient_norms.torch_parity", "parity", _mg_torch_parity,
          weight=1.5, requires=("torch",), timeout_s=60.0),
    Check("diagnostics.mlp_gradient_norms.last_layer_linear", "unit", _mg_last_layer_linear,
          weight=0.5),
    Check("diagnostics.mlp_gradient_norms.batch_mean", "unit", _mg_batch_mean, weight=0.5),
    Check("diagnostics.mlp_gradient_norms.invalid_inputs", "unit",
          _mlp_invalid("mlp_gradient_norms"), weight=0.5),
    Check("diagnostics.mlp_gradient_norms.no_mutation", "unit",
          _mlp_no_mutation("mlp_gradient_norms"), weight=0.5),
    Check("diagnostics.activation_stats.matches_reference", "unit", _as_matches_reference,
          weight=2.0),
    Check("diagnostics.activation_stats.torch_parity", "parity", _as_torch_parity, weight=1.0,
          requires=("torch",), timeout_s=60.0),
    Check("diagnostics.activation_stats.saturation_and_dead", "unit", _as_saturation_dead,
          weight=1.0),
    Check("diagnostics.activation_stats.invalid_inputs", "unit",
          _mlp_invalid("activation_stats"), weight=0.5),
    Check("diagnostics.activation_stats.no_mutation", "unit",
          _mlp_no_mutation("activation_stats"), weight=0.5),
    Check("diagnostics.diagnose.boundaries", "property", _dg_boundaries, weight=1.5),
    Check("diagnostics.diagnose.scale_invariance", "property", _dg_scale_invariance,
          weight=1.0),
    Check("diagnostics.diagnose.special_cases", "unit", _dg_special, weight=1.0),
    Check("diagnostics.diagnose.invalid_inputs", "unit", _dg_invalid, weight=0.5),
    Check("diagnostics.clip_by_global_norm.matches_reference", "unit", _cb_matches_reference,
          weight=2.0),
    Check("diagnostics.clip_by_global_norm.torch_parity", "parity", _cb_torch_parity,
          weight=1.0, requires=("torch",), timeout_s=60.0),
    Check("diagnostics.clip_by_global_norm.tf_parity", "parity", _cb_tf_parity, weight=1.0,
          requires=("tensorflow",), timeout_s=60.0),
    Check("diagnostics.clip_by_global_norm.no_scale_up", "unit", _cb_no_scale_up, weight=1.0),
    Check("diagnostics.clip_by_global_norm.no_mutation", "unit", _cb_no_mutation, weight=0.5),
) + _demo_checks()
