"""Checks of initializers.py (SPEC §1); the ``numpy_only`` checks live in numpy_only.py.

``compute_fans`` and ``calculate_gain`` are exact: they are compared with the
reference on fixed and hypothesis-generated inputs (``.torch_layout``,
``.keras_layout``, ``.values``), with ``torch.nn.init`` and Keras where those
are installed (``.torch_parity``, ``.keras_parity``), and must raise
``ValueError`` on invalid input (``.invalid_input``).

The five random initialisers are sampled through the student's function with
a seeded ``rng`` on non-square shapes whose fans differ by 4x or 8x, dense and
convolutional, in both layouts (:data:`CASES`; every case has >= 32,768
values per call), and tested with the named tests of :mod:`grader.stats`:

==================  ==========================================================
property            test and false-failure bound of the whole check
==================  ==========================================================
``.variance``       |ln(mean(w²)/σ0²)| <= 0.10 on every case; < 1e-36 at the
                    case sizes (exact chi-square / Bernstein). Detects any
                    variance factor outside about [0.87, 1.16].
``.distribution``   one-sample KS against the exact target CDF at the target
                    scale, DKW threshold, alpha = 1e-9 split over the cases;
                    n >= 32,768 (65,536 for variance_scaling, which must tell
                    the uniform from the truncated normal, D = 0.043).
``.support``        max|w| within [0.998 a, a] (uniform), [0.99, 1]·2σ'
                    (truncated normal), (3σ, 9σ) (normal); < 1e-13.
``.mean``           self-normalised sign test on all cases pooled, |z| <= 6.44,
                    2e-9 (Hoeffding; exact for every symmetric law). Detects a
                    shift of about 0.02 σ.
``.independence``   >= 99 % distinct values, no axis with all slices equal,
                    lag-1 sign test along every axis (2e-9 split over the
                    axes: |z| <= 6.8-6.9), and different seeds give different
                    arrays.
``.reproducible``   the same seed gives the identical array (catches code that
                    ignores ``rng`` and uses ``np.random``); deterministic.
``.shape_dtype``    hypothesis: exact shape, floating dtype, finite, within the
                    bounds for bounded laws, empty arrays for zero dimensions.
``.invalid_input``  ValueError for invalid shapes, layouts, modes,
                    distributions, scales and slopes.
``.*_parity``       two-sample KS against torch.nn.init (xavier_*, he_*) or
                    keras.initializers.VarianceScaling (variance_scaling),
                    equal sizes, two-sample DKW bound (Wei & Dudley 2012),
                    alpha = 1e-9 split over the cases.
==================  ==========================================================

Every statistical check fails a correct implementation with probability at
most 2e-9 and says so in its message. The expected law of every case comes
from the reference's ``compute_fans`` and ``calculate_gain``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import partial

import numpy as np
from hypothesis import strategies as st

import reference.initializers as ref
from grader import stats
from grader.check import Check, CheckFailed, describe, expect_array, fmt_shape
from grader.properties import for_all
from grader.wire import Rng

__all__ = ["CHECKS", "CASES", "PARITY_CASES", "Case", "Target", "target", "DEFAULTS",
           "KS_SAMPLES"]

RANDOM = ("variance_scaling", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal")
#: the false-failure budget of every statistical check
CHECK_ALPHA = 2e-9
#: the KS checks spend 1e-9 of it (split over their cases)
KS_ALPHA = 1e-9
#: KS sample size per case: variance_scaling must tell uniform from truncated normal
KS_SAMPLES = {"variance_scaling": 65536}
MIN_SAMPLES = 16384

NONLINEARITIES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                  "leaky_relu", "selu")

DEFAULTS = {
    "variance_scaling": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
                         "layout": "keras"},
    "xavier_uniform": {"gain": 1.0, "layout": "torch"},
    "xavier_normal": {"gain": 1.0, "layout": "torch"},
    "he_uniform": {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu", "layout": "torch"},
    "he_normal": {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu", "layout": "torch"},
}

_FAMILY_OF = {"truncated_normal": "truncated_normal", "untruncated_normal": "normal",
              "uniform": "uniform"}
_FAMILY_TEXT = {"normal": "normal", "uniform": "uniform",
                "truncated_normal": "truncated normal (redrawn beyond 2σ')"}


# --------------------------------------------------------------------------
# what each call should produce
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    family: str  # a stats.FAMILIES member
    var: float  # target variance σ0²
    formula: str  # how var follows from the arguments, with the numbers

    @property
    def std(self) -> float:
        return math.sqrt(self.var)


def _receptive(shape, layout) -> int:
    dims = tuple(int(d) for d in shape)
    kernel = dims[2:] if layout == "torch" else dims[:-2]
    return math.prod(kernel) if len(dims) >= 2 else 1


def target(function: str, shape, kwargs: dict) -> Target:
    """The law SPEC asks of ``function(shape, **kwargs)`` (via the reference's helpers)."""
    kw = {**DEFAULTS[function], **kwargs}
    fan_in, fan_out = ref.compute_fans(tuple(int(d) for d in shape), kw["layout"])
    if function == "variance_scaling":
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[kw["mode"]]
        var = float(kw["scale"]) / max(1.0, n)
        return Target(_FAMILY_OF[kw["distribution"]], var,
                      f"scale/max(1, {kw['mode']}) = {float(kw['scale']):g}/{n:g}")
    if function.startswith("xavier"):
        g = float(kw["gain"])
        var = g * g * 2.0 / max(1, fan_in + fan_out)
        return Target("uniform" if function.endswith("uniform") else "normal", var,
                      f"gain²·2/(fan_in+fan_out) = {g:.4g}²·2/({fan_in}+{fan_out})")
    g = ref.calculate_gain(kw["nonlinearity"], kw["a"])
    fan = fan_in if kw["mode"] == "fan_in" else fan_out
    return Target("uniform" if function.endswith("uniform") else "normal", g * g / max(1, fan),
                  f"gain²/{kw['mode']} = {g:.4g}²/{fan} (gain = calculate_gain"
                  f"({kw['nonlinearity']!r}, {kw['a']:g}))")


@dataclass(frozen=True)
class Case:
    """One call pattern: ``function(shape, **kwargs, rng=...)``."""

    function: str
    shape: tuple[int, ...]
    kwargs: tuple[tuple[str, object], ...] = ()

    @property
    def kw(self) -> dict:
        return dict(self.kwargs)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def target(self) -> Target:
        return target(self.function, self.shape, self.kw)

    def label(self) -> str:
        args = [fmt_shape(self.shape)]
        for k, v in self.kwargs:
            args.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}")
        return f"{self.function}({', '.join(args)})"


T_DENSE, T_CONV = (512, 64), (128, 32, 3, 3)  # torch: fans (64, 512) and (288, 1152)
K_DENSE, K_CONV = (64, 512), (3, 3, 32, 128)  # keras: the same fans


def _cases(function: str, *specs) -> tuple[Case, ...]:
    return tuple(Case(function, shape, tuple(kw.items())) for shape, kw in specs)


def _xavier_cases(f):
    return _cases(f, (T_DENSE, {}), (T_CONV, {"gain": 5 / 3, "layout": "torch"}),
                  (K_DENSE, {"layout": "keras"}),
                  (K_CONV, {"gain": math.sqrt(2), "layout": "keras"}))


def _he_cases(f):
    return _cases(f, (T_DENSE, {}),
                  (T_CONV, {"mode": "fan_out", "nonlinearity": "relu", "layout": "torch"}),
                  (K_DENSE, {"a": math.sqrt(5), "layout": "keras"}),
                  (K_CONV, {"mode": "fan_out", "nonlinearity": "tanh", "layout": "keras"}))


#: the sampled cases of every statistical check
CASES: dict[str, tuple[Case, ...]] = {
    "variance_scaling": _cases(
        "variance_scaling",
        (K_DENSE, {}),
        (K_CONV, {"scale": 2.0, "mode": "fan_avg"}),
        (K_DENSE, {"scale": 0.5, "mode": "fan_out", "distribution": "untruncated_normal"}),
        (K_CONV, {"scale": 2.0, "distribution": "uniform"}),
        (T_CONV, {"scale": 3.0, "mode": "fan_out", "distribution": "uniform", "layout": "torch"}),
        (T_DENSE, {"mode": "fan_avg", "distribution": "truncated_normal", "layout": "torch"}),
    ),
    "xavier_uniform": _xavier_cases("xavier_uniform"),
    "xavier_normal": _xavier_cases("xavier_normal"),
    "he_uniform": _he_cases("he_uniform"),
    "he_normal": _he_cases("he_normal"),
}

#: cases compared with a framework (torch layout for torch, Keras layout for Keras)
PARITY_CASES: dict[str, tuple[Case, ...]] = {
    "variance_scaling": _cases(
        "variance_scaling", (K_DENSE, {}),
        (K_CONV, {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform"}),
        (K_DENSE, {"scale": 0.5, "mode": "fan_out", "distribution": "untruncated_normal"})),
    "xavier_uniform": _cases("xavier_uniform", (T_DENSE, {}), (T_CONV, {"gain": 5 / 3})),
    "xavier_normal": _cases("xavier_normal", (T_DENSE, {}), (T_CONV, {"gain": 5 / 3})),
    "he_uniform": _cases("he_uniform", (T_DENSE, {}),
                         (T_CONV, {"mode": "fan_out", "nonlinearity": "relu"}),
                         (T_DENSE, {"a": math.sqrt(5)})),
    "he_normal": _cases("he_normal", (T_DENSE, {}),
                        (T_CONV, {"mode": "fan_out", "nonlinearity": "relu"}),
                        (T_DENSE, {"a": 0.2, "nonlinearity": "leaky_relu"})),
}


# --------------------------------------------------------------------------
# known mistakes, by the variance they give
# --------------------------------------------------------------------------
def _alt_fans(shape, layout):
    """(description, (fan_in, fan_out)) of the usual ways to get the fans wrong."""
    fi, fo = ref.compute_fans(shape, layout)
    rf = _receptive(shape, layout)
    out = [("fan_in and fan_out swapped", (fo, fi))]
    if rf > 1:
        out.append(("the receptive field (kernel size) left out of the fans", (fi // rf, fo // rf)))
    other = "keras" if layout == "torch" else "torch"
    try:
        out.append((f"the shape read in the {other} layout instead of the {layout} one",
                    ref.compute_fans(shape, other)))
    except ValueError:
        pass
    return out


def _mistakes(case: Case) -> list[tuple[float, str]]:
    """(variance ratio it gives, name) for the known mistakes that change this case."""
    f, kw, t = case.function, {**DEFAULTS[case.function], **case.kw}, case.target
    shape, layout = case.shape, kw["layout"]
    fi, fo = ref.compute_fans(shape, layout)
    var = t.var
    out: list[tuple[float, str]] = []
    if t.family == "uniform":
        out.append((1 / 3, "the uniform bound set to σ instead of √3·σ (U(−a, a) has "
                           "variance a²/3)"))
    out.append((var, "the variance used as the standard deviation"))
    out.append((1 / math.sqrt(var), "the standard deviation square-rooted twice"))
    if f.startswith("xavier"):
        g = float(kw["gain"])
        base = 2.0 / (fi + fo)
        out += [(1 / (g * g), "gain ignored"),
                (g * g, "gain squared (gain multiplies the standard deviation)"),
                (1 / (fi * base), "Xavier with fan_in only (gain²/fan_in)"),
                (1 / (fo * base), "Xavier with fan_out only (gain²/fan_out)"),
                (0.5, "1/(fan_in+fan_out): the factor 2 of Glorot's 2/(fan_in+fan_out) missing"),
                (2 / fi / base, "He's 2/fan_in used instead of Xavier's 2/(fan_in+fan_out)")]
        for name, (a, b) in _alt_fans(shape, layout):
            out.append((2.0 / max(1, a + b) / base, name))
    elif f.startswith("he"):
        g = ref.calculate_gain(kw["nonlinearity"], kw["a"])
        fan = fi if kw["mode"] == "fan_in" else fo
        other = fo if kw["mode"] == "fan_in" else fi
        out += [(1 / (g * g), "gain ignored (std = 1/√fan)"),
                (g * g, "gain squared (gain multiplies the standard deviation)"),
                (2.0 * fan / (fi + fo), "Xavier's gain²·2/(fan_in+fan_out) used instead of "
                                        "He's gain²/fan"),
                (2.0 * fan / (fi + fo) / (g * g), "Xavier's 2/(fan_in+fan_out) used instead of "
                                                  "He's gain²/fan")]
        if kw["mode"] == "fan_out":
            out.append((fan / other, "mode ignored (fan_in used for mode='fan_out')"))
        if kw["nonlinearity"] == "leaky_relu" and kw["a"] != 0:
            out.append((2.0 / (g * g), "the negative slope a ignored (gain √2 used)"))
        if kw["nonlinearity"] != "leaky_relu" and kw["nonlinearity"] != "relu":
            out.append((2.0 / (g * g), f"the ReLU gain √2 used for {kw['nonlinearity']!r}"))
        for name, (a, b) in _alt_fans(shape, layout):
            alt = a if kw["mode"] == "fan_in" else b
            out.append((fan / max(1, alt), name))
    else:
        s = float(kw["scale"])
        n = {"fan_in": fi, "fan_out": fo, "fan_avg": (fi + fo) / 2}[kw["mode"]]
        if t.family == "truncated_normal":
            out += [(stats.TRUNCATED_STD**2, "the truncated normal not rescaled by 1/0.8796 "
                                             "(its variance is then 0.774·σ0²)"),
                    (1.18972, "values beyond 2σ' clipped instead of redrawn"),
                    (1.25796, "truncation at 3σ' instead of 2σ'")]
        if s != 1:
            out += [(1 / s, "scale ignored"), (s, "scale squared (scale multiplies the variance)")]
        if kw["mode"] == "fan_avg":
            out.append((0.5, "fan_avg taken as fan_in + fan_out (the /2 missing)"))
        if kw["mode"] != "fan_in":
            out.append((n / fi, f"mode ignored (fan_in used for mode={kw['mode']!r})"))
        for name, (a, b) in _alt_fans(shape, layout):
            alt = {"fan_in": a, "fan_out": b, "fan_avg": (a + b) / 2}[kw["mode"]]
            out.append((n / max(1.0, alt), name))
    band = stats.VARIANCE_BAND
    return [(r, name) for r, name in out if r > 0 and abs(math.log(r)) > band]


def _matching_mistakes(case: Case, ratio: float) -> list[str]:
    return list(dict.fromkeys(name for r, name in _mistakes(case)
                              if abs(math.log(ratio / r)) <= stats.VARIANCE_BAND))


def _variance_hint(case: Case, ratio: float) -> str:
    if not ratio > 0:
        return "All weights are zero: sample them from rng."
    names = _matching_mistakes(case, ratio)
    if names:
        return f"A ratio of {ratio:.3g} here is what this mistake gives: " + "; or ".join(
            names) + "."
    return ("Compare your variance formula with the docstring: Var(W) = " + case.target.formula
            + ".")


def _variance_hints(found: list[tuple[Case, float]]) -> str:
    """The mistakes that explain every failing case, else the first case's hint."""
    common = None
    for case, ratio in found:
        names = set(_matching_mistakes(case, ratio)) if ratio > 0 else set()
        common = names if common is None else common & names
    if common:
        ordered = [n for n in _matching_mistakes(*found[0]) if n in common]
        return ("The variance ratios of every failing shape match this mistake: "
                + "; or ".join(ordered) + ".")
    return _variance_hint(*found[0])


# --------------------------------------------------------------------------
# drawing samples through the student's function
# --------------------------------------------------------------------------
def _seed(rng) -> int:
    return int(rng.integers(2**31))


def _call(student, case: Case, seed: int) -> np.ndarray:
    value = student(case.shape, **case.kw, rng=Rng((seed,)))
    return expect_array(value, case.label(), shape=case.shape)


def _rtol(arrays) -> float:
    """Round-off allowed at the edges: 1e-12, or 8 ulp of a narrower float."""
    eps = max(float(np.finfo(a.dtype).eps) for a in arrays)
    return max(1e-12, 8.0 * eps)


def _draw(student, case: Case, rng, n_min: int = MIN_SAMPLES) -> tuple[np.ndarray, float]:
    """>= n_min values of ``case`` (float64, flattened) in as few calls as possible."""
    calls = max(1, math.ceil(n_min / case.size))
    arrays = [_call(student, case, _seed(rng)) for _ in range(calls)]
    flat = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])
    return flat, _rtol(arrays)


def _one_origin(prop):
    """``prop`` whose failures all raise from one line, so hypothesis reports one bug."""
    def wrapped(example) -> None:
        failure = None
        try:
            prop(example)
        except CheckFailed as caught:
            failure = caught
        if failure is not None:
            raise CheckFailed(failure.message, failure.hint)
    return wrapped


def _summary(failures: list[str], limit: int = 3) -> str:
    more = f" (and {len(failures) - limit} more)" if len(failures) > limit else ""
    return "; ".join(failures[:limit]) + more


# --------------------------------------------------------------------------
# statistical checks
# --------------------------------------------------------------------------
def _variance(function: str, student, rng) -> str:
    failures, found, ratios, bound = [], [], [], 0.0
    for case in CASES[function]:
        t = case.target
        w, _ = _draw(student, case, rng)
        v = stats.variance_ratio(w, t.var, t.family)
        bound += v.bound
        ratios.append(math.exp(v.statistic) if math.isfinite(v.statistic) else 0.0)
        if not v.passed:
            failures.append(f"{case.label()}: target σ0² = {t.formula} = {t.var:.4g}, "
                            f"got mean(w²) = {ratios[-1] * t.var:.4g}: {v.sentence}")
            found.append((case, ratios[-1]))
    if failures:
        raise CheckFailed(f"{function} should draw weights of variance σ0² (SPEC §1). "
                          + _summary(failures), _variance_hints(found))
    return (f"variance ratios {min(ratios):.3f}–{max(ratios):.3f} on {len(ratios)} shapes "
            f"(expected 1 ± 10 %; false-failure {stats.fmt_p(bound)})")


def _family_hint(z: np.ndarray, family: str, alpha: float) -> str:
    rms = math.sqrt(float(np.mean(z * z))) or 1.0
    top = float(np.max(np.abs(z)))
    if top == 0:
        return "All weights are zero: sample them from rng."
    piled = float(np.mean(np.abs(z) >= top * (1 - 1e-12)))
    if piled > 0.005:
        return (f"{100 * piled:.1f} % of your values sit exactly at ±max|w|: values beyond the "
                f"edge are clipped; they must be drawn again instead.")
    looks = [f for f in stats.FAMILIES if f != family
             and stats.ks_one_sample(z / rms, f, alpha).passed]
    if looks:
        return (f"Your values look {_FAMILY_TEXT[looks[0]]}, not {_FAMILY_TEXT[family]}: "
                f"check which rng method you call.")
    if stats.ks_one_sample(z / rms, family, alpha).passed:
        return (f"The shape of the distribution is right but the scale is not (variance × "
                f"{rms * rms:.3g}); see the .variance check.")
    if family == "truncated_normal":
        return ("Draw N(0, σ'²) with σ' = σ0/0.87962566103423978 and redraw every value "
                "beyond 2σ' until none is left (do not clip).")
    return ""


def _distribution(function: str, student, rng) -> str:
    cases = CASES[function]
    alpha = KS_ALPHA / len(cases)
    n_min = KS_SAMPLES.get(function, MIN_SAMPLES)
    failures, hints, ds = [], [], []
    for case in cases:
        t = case.target
        w, _ = _draw(student, case, rng, n_min)
        z = w / t.std
        v = stats.ks_one_sample(z, t.family, alpha)
        ds.append(v.statistic)
        if not v.passed:
            failures.append(f"{case.label()} should follow a {_FAMILY_TEXT[t.family]} law "
                            f"with σ0² = {t.var:.4g}; {v.sentence}")
            hints.append(_family_hint(z, t.family, alpha))
    if failures:
        raise CheckFailed(f"{function} draws from the wrong distribution. " + _summary(failures),
                          next((h for h in hints if h), ""))
    return (f"KS distances ≤ {max(ds):.4f} on {len(ds)} shapes (threshold from the DKW "
            f"inequality, false-failure α = {KS_ALPHA:.0e})")


def _support_hint(w: np.ndarray, t: Target, v: stats.Verdict) -> str:
    rms = math.sqrt(float(np.mean(w * w)))
    spread = float(np.max(np.abs(w))) / rms if rms > 0 else 0.0
    # max|w| / rms of the target law (uniform: √3; truncated normal: 2/c·c = about 2.27)
    shape_edge = {"uniform": math.sqrt(3.0), "truncated_normal": 2.0 / stats.TRUNCATED_STD}
    edge = shape_edge.get(t.family)
    right_shape = (spread > stats.NORMAL_LOW if edge is None
                   else abs(spread / edge - 1.0) <= 0.02)
    if right_shape:
        return (f"The edge sits where your spread puts it, but the spread is off (variance × "
                f"{rms * rms / t.var:.3g}); see the .variance check.")
    if t.family == "uniform":
        return f"Draw U(−a, a) with a = √3·σ0, where σ0² = {t.formula}."
    if t.family == "truncated_normal":
        return ("Keras' truncated normal has nominal std σ' = σ0/0.8796 and no value beyond "
                "2σ': redraw those (do not clip), and keep the 1/0.8796 factor.")
    if v.statistic <= stats.NORMAL_LOW:
        return ("This normal must not be truncated (that is Keras' truncated_normal, not this "
                "function).")
    return "Values far beyond a normal's range: draw from a normal."


def _support(function: str, student, rng) -> str:
    failures, hints, bound = [], [], 0.0
    for case in CASES[function]:
        t = case.target
        w, rtol = _draw(student, case, rng)
        v = stats.support(w, t.std, t.family, rtol)
        bound += v.bound
        if not v.passed:
            failures.append(f"{case.label()}: {v.sentence}")
            hints.append(_support_hint(w, t, v))
    if failures:
        raise CheckFailed(f"{function} has values outside (or not reaching) the range of its "
                          "distribution. " + _summary(failures), hints[0])
    return (f"the largest |w| is where it should be on every shape (false-failure "
            f"{stats.fmt_p(bound)})")


def _mean(function: str, student, rng) -> str:
    parts = []
    for case in CASES[function]:
        w, _ = _draw(student, case, rng)
        parts.append(w / case.target.std)
    v = stats.symmetric_mean(np.concatenate(parts), CHECK_ALPHA)
    if not v.passed:
        raise CheckFailed(f"{function} should draw weights centred on 0 (all its "
                          f"{len(parts)} shapes pooled, each divided by its σ0): {v.sentence}",
                          "Weights must be symmetric around 0: U(−a, a) or N(0, σ²), "
                          "with nothing added.")
    return v.sentence


def _axes(shape) -> list[int]:
    return [k for k, d in enumerate(shape) if d >= 2]


def _independence(function: str, student, rng) -> str:
    cases = CASES[function]
    n_stats = sum(len(_axes(c.shape)) for c in cases)
    unique_budget = sum(stats.unique_false_failure(c.size) for c in cases)
    alpha = (CHECK_ALPHA - unique_budget) / n_stats
    failures, hints = [], []
    for case in cases:
        w = np.asarray(_call(student, case, _seed(rng)), dtype=np.float64)
        u = stats.unique_fraction(w)
        if not u.passed:
            failures.append(f"{case.label()}: {u.sentence}")
            hints.append("Draw every entry independently from rng (no tiling, no clipping "
                         "onto the bounds, no rounding).")
        for k in _axes(case.shape):
            if np.all(w == w.take([0], axis=k)):
                failures.append(f"{case.label()}: every slice along axis {k} is the same")
                hints.append("Draw the whole shape at once (rng.uniform(..., size=shape)) "
                             "instead of repeating one row.")
                continue
            v = stats.lag1_correlation(w, k, alpha)
            if not v.passed:
                failures.append(f"{case.label()}: {v.sentence}")
                hints.append("Neighbouring weights must be independent draws.")
    seed_a, seed_b = _seed(rng), _seed(rng)
    while seed_b == seed_a:
        seed_b = _seed(rng)
    a = _call(student, cases[0], seed_a)
    b = _call(student, cases[0], seed_b)
    if np.array_equal(a, b):
        failures.append(f"{cases[0].label()} gave the same array for rng seeds {seed_a} and "
                        f"{seed_b}")
        hints.append("Draw from the rng argument; do not create a generator with a fixed seed.")
    if failures:
        raise CheckFailed(f"{function} should draw independent weights from rng (SPEC §1). "
                          + _summary(failures), " ".join(dict.fromkeys(hints)))
    thr = stats.sign_threshold(alpha)
    return (f"distinct values, independent neighbours along every axis (lag-1 sign test, "
            f"|z| ≤ {thr:.2f}), different seeds differ (false-failure ≤ {CHECK_ALPHA:.0e})")


def _reproducible(function: str, student, rng) -> str:
    cases = CASES[function]
    for case in (cases[0], cases[2]):
        seed = _seed(rng)
        a = _call(student, case, seed)
        b = _call(student, case, seed)
        if not np.array_equal(a, b):
            diff = int(np.count_nonzero(a != b))
            raise CheckFailed(
                f"{case.label()} called twice with rng = numpy.random.default_rng([{seed}]) "
                f"gave different arrays ({diff} of {a.size} values differ): it must draw only "
                f"from rng (SPEC §1)",
                "Use rng.uniform / rng.standard_normal / rng.normal; np.random.uniform, "
                "np.random.randn or a new default_rng() draw from another generator.")
    return "the same seed gives the same array"


# --------------------------------------------------------------------------
# property checks of the random functions
# --------------------------------------------------------------------------
def _edge(t: Target) -> float | None:
    if t.family == "uniform":
        return math.sqrt(3.0) * t.std
    if t.family == "truncated_normal":
        return 2.0 * t.std / stats.TRUNCATED_STD
    return None


@st.composite
def _valid_call(draw, function: str):
    layout = draw(st.sampled_from([None, "torch", "keras"]))
    effective = layout or DEFAULTS[function]["layout"]
    dims = draw(st.lists(st.integers(0, 5), min_size=2 if effective == "torch" else 1,
                         max_size=4))
    if draw(st.booleans()):
        dims = [np.int64(d) for d in dims]
    shape = tuple(dims) if draw(st.booleans()) else list(dims)
    kw = {} if layout is None else {"layout": layout}
    maybe = partial(_maybe, draw)
    if function.startswith("xavier"):
        maybe(kw, "gain", st.floats(0.1, 3.0))
    elif function.startswith("he"):
        maybe(kw, "a", st.floats(-3.0, 3.0))
        maybe(kw, "mode", st.sampled_from(["fan_in", "fan_out"]))
        maybe(kw, "nonlinearity", st.sampled_from(NONLINEARITIES))
    else:
        maybe(kw, "scale", st.floats(0.01, 10.0))
        maybe(kw, "mode", st.sampled_from(["fan_in", "fan_out", "fan_avg"]))
        maybe(kw, "distribution", st.sampled_from(list(_FAMILY_OF)))
    return shape, kw, draw(st.integers(0, 2**31 - 1))


def _maybe(draw, kw: dict, name: str, strategy) -> None:
    if draw(st.booleans()):
        kw[name] = draw(strategy)


#: valid calls every random function must answer: empty arrays, 0-D and 1-D Keras shapes,
#: lists and NumPy integers
_FIXED_VALID = [((0, 4), "torch"), ((4, 0, 3), "torch"), ((0, 0), "torch"), ((0,), "keras"),
                ((3, 3, 0, 8), "keras"), ((5,), "keras"), ((), "keras"),
                ([6, np.int32(4)], "torch"), ((np.int64(4), 6), "keras")]


def _check_valid(function: str, student, shape, kw: dict, seed: int | None) -> None:
    dims = tuple(int(d) for d in shape)
    call = f"{function}({shape!r}{''.join(f', {k}={v!r}' for k, v in kw.items())})"
    if seed is None:
        value = student(shape, **kw)
    else:
        value = student(shape, **kw, rng=Rng((seed,)))
    if dims == () and isinstance(value, (float, np.floating)):
        value = np.asarray(value)
    arr = expect_array(value, call, shape=dims)
    t = target(function, dims, kw)
    edge = _edge(t)
    if edge is not None and arr.size:
        top = float(np.max(np.abs(arr)))
        if top > edge * (1 + _rtol([arr])):
            law = "U(−a, a)" if t.family == "uniform" else "the truncated normal"
            raise CheckFailed(f"{call} returned max|w| = {top:.6g} beyond the edge {edge:.6g} "
                              f"of {law} (σ0² = {t.formula} = {t.var:.4g})",
                              "No value may exceed the edge: a = √3·σ0 for the uniform, "
                              "2σ' = 2σ0/0.8796 for the truncated normal.")


def _shape_dtype(function: str, student, rng) -> str:
    for shape, layout in _FIXED_VALID:
        _check_valid(function, student, shape, {"layout": layout}, _seed(rng))
    _check_valid(function, student, (8, 4), {}, None)  # rng=None: a fresh default_rng()
    for_all(_valid_call(function),
            _one_origin(lambda ex: _check_valid(function, student, *ex)), max_examples=50)
    return ""


def _expect_value_error(student, args: tuple, kw: dict, why: str, name: str) -> str | None:
    """None if the call raised ValueError, else what went wrong (for a message)."""
    result = student.call(*args, **kw)
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kw.items()])
    call = f"{name}({shown})"
    if result.raised is None:
        return f"{call} returned {describe(result.value)} instead of raising ValueError ({why})"
    if not result.raised.is_a("ValueError"):
        return (f"{call} raised {result.raised.type} instead of ValueError ({why})")
    return None


_BAD_DIMS = [(-1, "a negative dimension"), (4.0, "a float dimension, even 4.0"),
             (np.float64(4.0), "a NumPy float dimension"), (True, "a bool dimension"),
             (np.bool_(True), "a NumPy bool dimension"), ("4", "a string dimension"),
             (None, "a None dimension")]


def _bad_shapes(base: tuple[int, ...]):
    out = []
    for bad, why in _BAD_DIMS:
        out.append(((*base[:-1], bad), why))
    out += [([base[0], 2.5], "a float dimension"), (64, "a shape that is an int, not a tuple"),
            (None, "no shape"), ("64", "a shape that is a string")]
    return out


def _invalid_calls(function: str) -> list[tuple[tuple, dict, str]]:
    base = (8, 4)
    calls = [((shape,), {}, why) for shape, why in _bad_shapes(base)]
    calls += [((base,), {"layout": lay}, f"unknown layout {lay!r}")
              for lay in ("tf", "Torch", None)]
    torch_kw = {} if DEFAULTS[function]["layout"] == "torch" else {"layout": "torch"}
    calls += [(((8,),), torch_kw, "a torch-layout shape needs at least 2 dimensions"),
              (((),), torch_kw, "a torch-layout shape needs at least 2 dimensions")]
    if function.startswith("he"):
        calls += [((base,), {"mode": m}, f"mode must be 'fan_in' or 'fan_out', not {m!r}")
                  for m in ("fan_avg", "FAN_IN", None)]
        calls += [((base,), {"nonlinearity": "gelu"}, "unknown nonlinearity 'gelu'"),
                  ((base,), {"a": float("nan")}, "the slope a must be a finite number"),
                  ((base,), {"a": True}, "the slope a must be a number, not a bool")]
    if function == "variance_scaling":
        calls += [((base,), {"mode": m}, f"unknown mode {m!r}") for m in ("fan_sum", "FAN_IN")]
        calls += [((base,), {"distribution": d}, f"unknown distribution {d!r}")
                  for d in ("normal", "gaussian", "Uniform", "truncated")]
        calls += [((base,), {"scale": s}, f"scale must be > 0, got {s!r}") for s in (0, 0.0, -1.0)]
    return calls


@st.composite
def _bad_shape(draw, function: str):
    torch = DEFAULTS[function]["layout"] == "torch"
    dims = draw(st.lists(st.integers(0, 6), min_size=2 if torch else 1, max_size=4))
    i = draw(st.integers(0, len(dims) - 1))
    bad = draw(st.one_of(st.integers(-50, -1), st.floats(allow_nan=True, allow_infinity=True),
                         st.booleans()))
    dims[i] = bad
    return tuple(dims) if draw(st.booleans()) else dims


def _invalid_input(function: str, student, rng) -> str:
    problems = [p for args, kw, why in _invalid_calls(function)
                if (p := _expect_value_error(student, args, kw, why, function))]
    if problems:
        raise CheckFailed(f"{function} should raise ValueError for invalid input (SPEC §1): "
                          + _summary(problems, 4), _invalid_hint(function))

    def prop(shape):
        problem = _expect_value_error(student, (shape,), {}, "an invalid dimension", function)
        if problem:
            raise CheckFailed(problem, _invalid_hint(function))
    for_all(_bad_shape(function), _one_origin(prop), max_examples=30)
    return ""


def _invalid_hint(function: str) -> str:
    return ("Validate the arguments first: a shape is a tuple or list of ints >= 0 (not bool, "
            "not float), the layout 'torch' or 'keras'"
            + (", mode and distribution from the documented lists, scale > 0"
               if function == "variance_scaling" else "")
            + (", mode 'fan_in' or 'fan_out'" if function.startswith("he") else "")
            + "; raise ValueError otherwise.")


# --------------------------------------------------------------------------
# framework parity of the random functions
# --------------------------------------------------------------------------
def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # noqa: PLC0415 - lazily, only when the check runs

    return keras


def _torch_sample(case: Case, seed: int) -> np.ndarray:
    import torch  # noqa: PLC0415

    kw = {**DEFAULTS[case.function], **case.kw}
    t = torch.empty(case.shape, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    init = torch.nn.init
    if case.function == "xavier_uniform":
        init.xavier_uniform_(t, gain=kw["gain"], generator=g)
    elif case.function == "xavier_normal":
        init.xavier_normal_(t, gain=kw["gain"], generator=g)
    else:
        fn = init.kaiming_uniform_ if case.function == "he_uniform" else init.kaiming_normal_
        fn(t, a=kw["a"], mode=kw["mode"], nonlinearity=kw["nonlinearity"], generator=g)
    return t.numpy().ravel().copy()


def _keras_sample(case: Case, seed: int) -> np.ndarray:
    keras = _keras()
    kw = {**DEFAULTS[case.function], **case.kw}
    init = keras.initializers.VarianceScaling(scale=kw["scale"], mode=kw["mode"],
                                              distribution=kw["distribution"], seed=seed)
    return np.asarray(keras.ops.convert_to_numpy(init(case.shape, dtype="float64")),
                      dtype=np.float64).ravel()


def _parity(function: str, framework: str, student, rng) -> str:
    cases = PARITY_CASES[function]
    alpha = KS_ALPHA / len(cases)
    sample = _torch_sample if framework == "torch" else _keras_sample
    name = ("torch.nn.init" if framework == "torch" else "keras.initializers.VarianceScaling")
    failures, ds = [], []
    for case in cases:
        theirs = sample(case, _seed(rng))
        mine = np.asarray(_call(student, case, _seed(rng)), dtype=np.float64).ravel()
        v = stats.ks_two_sample(mine, theirs, alpha)
        ds.append(v.statistic)
        if not v.passed:
            failures.append(
                f"{case.label()}: {name} gives std {theirs.std():.4g}, max|w| "
                f"{np.abs(theirs).max():.4g}; yours std {mine.std():.4g}, max|w| "
                f"{np.abs(mine).max():.4g}; {v.sentence}")
    if failures:
        raise CheckFailed(f"{function} should draw from the same distribution as {name}. "
                          + _summary(failures),
                          "Compare your constants with the framework's docs; the .variance "
                          "and .support checks say which number is off.")
    return (f"two-sample KS distances to {name} ≤ {max(ds):.4f} (false-failure α = "
            f"{KS_ALPHA:.0e})")


# --------------------------------------------------------------------------
# compute_fans
# --------------------------------------------------------------------------
def _fans_value(value, what: str) -> tuple[int, int]:
    ok = (isinstance(value, tuple) and len(value) == 2
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                  for v in value))
    if not ok:
        raise CheckFailed(f"{what} should return a tuple of two ints (fan_in, fan_out); got "
                          f"{describe(value)}",
                          "Return `fan_in, fan_out` as ints (a tuple, not a list or floats).")
    return int(value[0]), int(value[1])


def _fans_hint(shape, layout: str, got) -> str:
    dims = tuple(int(d) for d in shape)
    if layout == "keras" and len(dims) < 2:
        return "Keras' convention: a 0-D shape has fans (1, 1), a 1-D shape (n,) has (n, n)."
    for name, alt in _alt_fans(dims, layout):
        if tuple(got) == tuple(alt):
            return f"Your answer is what {name} gives."
    return ("torch layout: (out, in, *kernel); keras layout: (*kernel, in, out); both fans "
            "are multiplied by prod(kernel).")


def _check_fans(student, shape, layout: str | None) -> None:
    kw = {} if layout is None else {"layout": layout}
    lay = layout or "torch"
    call = f"compute_fans({shape!r}{', layout=' + repr(layout) if layout else ''})"
    got = _fans_value(student(shape, **kw), call)
    want = ref.compute_fans(tuple(int(d) for d in shape), lay)
    if got != want:
        raise CheckFailed(f"{call} returned {got}; expected (fan_in, fan_out) = {want} in the "
                          f"{lay} layout", _fans_hint(shape, lay, got))


_TORCH_SHAPES = [(64, 100), (8, 4, 3, 3), (8, 4, 5), (16, 3, 2, 3, 5), (7, 0), (0, 3, 3, 3),
                 (5, 4, 0, 2), [6, 9], (np.int64(6), np.int32(9), 2)]
_KERAS_SHAPES = [(), (7,), (0,), (100, 64), (3, 3, 16, 32), (5, 4, 8), (2, 3, 5, 4, 6),
                 (3, 3, 0, 8), [4, 6], (np.int64(3), 2, 5)]


@st.composite
def _shape_strategy(draw, min_dims: int, max_dims: int = 5, max_dim: int = 7):
    dims = draw(st.lists(st.integers(0, max_dim), min_size=min_dims, max_size=max_dims))
    if draw(st.booleans()):
        dims = [np.int64(d) for d in dims]
    return tuple(dims) if draw(st.booleans()) else list(dims)


def _fans_layout(layout: str, student, rng) -> str:
    shapes = _TORCH_SHAPES if layout == "torch" else _KERAS_SHAPES
    for i, shape in enumerate(shapes):
        _check_fans(student, shape, None if layout == "torch" and i % 2 else layout)
    for_all(_shape_strategy(2 if layout == "torch" else 0),
            _one_origin(lambda shape: _check_fans(student, shape, layout)), max_examples=40)
    return ""


def _fans_invalid(student, rng) -> str:
    calls = [((shape,), {}, why) for shape, why in _bad_shapes((8, 4))]
    calls += [(((8,),), {}, "a torch-layout shape needs at least 2 dimensions"),
              (((),), {"layout": "torch"}, "a torch-layout shape needs at least 2 dimensions")]
    calls += [(((8, 4),), {"layout": lay}, f"unknown layout {lay!r}")
              for lay in ("tf", "Keras", None, 1)]
    calls += [(((3, 3, 2.0, 4),), {"layout": "keras"}, "a float dimension"),
              (((False,),), {"layout": "keras"}, "a bool dimension")]
    problems = [p for args, kw, why in calls
                if (p := _expect_value_error(student, args, kw, why, "compute_fans"))]
    if problems:
        raise CheckFailed("compute_fans should raise ValueError for invalid input (SPEC §1): "
                          + _summary(problems, 4),
                          "Check every dimension: int or NumPy integer, not bool, >= 0; and "
                          "the layout; raise ValueError otherwise.")

    def prop(shape):
        problem = _expect_value_error(student, (shape,), {"layout": "keras"},
                                      "an invalid dimension", "compute_fans")
        if problem:
            raise CheckFailed(problem, "Reject floats (even 3.0), bools and negative numbers.")
    for_all(_bad_shape("variance_scaling"), _one_origin(prop), max_examples=30)
    return ""


def _fans_torch_parity(student, rng) -> str:
    import torch  # noqa: PLC0415

    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans  # noqa: PLC0415

    def prop(shape):
        dims = tuple(int(d) for d in shape)
        try:
            want = tuple(int(v) for v in torch_fans(torch.empty(dims)))
        except ValueError:
            problem = _expect_value_error(student, (shape,), {"layout": "torch"},
                                          "torch.nn.init raises ValueError here", "compute_fans")
            if problem:
                raise CheckFailed(problem, "PyTorch needs at least 2 dimensions.") from None
            return
        call = f"compute_fans({shape!r}, layout='torch')"
        got = _fans_value(student(shape, layout="torch"), call)
        if got != want:
            raise CheckFailed(f"{call} returned {got}; torch.nn.init computes {want}",
                              _fans_hint(dims, "torch", got))
    for_all(_shape_strategy(0), _one_origin(prop), max_examples=40)
    return "agrees with torch.nn.init._calculate_fan_in_and_fan_out"


def _fans_keras_parity(student, rng) -> str:
    _keras()
    from keras.src.initializers.random_initializers import compute_fans as keras_fans  # noqa

    def prop(shape):
        dims = tuple(int(d) for d in shape)
        want = tuple(int(v) for v in keras_fans(dims))
        call = f"compute_fans({shape!r}, layout='keras')"
        got = _fans_value(student(shape, layout="keras"), call)
        if got != want:
            raise CheckFailed(f"{call} returned {got}; keras computes {want}",
                              _fans_hint(dims, "keras", got))
    for_all(_shape_strategy(0), _one_origin(prop), max_examples=40)
    return "agrees with keras' compute_fans"


# --------------------------------------------------------------------------
# calculate_gain
# --------------------------------------------------------------------------
def _gain_table() -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [(name, None) for name in NONLINEARITIES]
    rows += [("leaky_relu", p) for p in (0, 0.0, 0.2, -0.3, 1, 3, 0.01, np.float64(0.1))]
    rows += [("relu", 0.5), ("tanh", 2.0), ("selu", 0.0), ("linear", 1)]
    return rows


def _gain_value(value, call: str) -> float:
    ok = isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(
        value, (bool, np.bool_))
    if not ok:
        raise CheckFailed(f"{call} should return a float; got {describe(value)}")
    return float(value)


def _gain_hint(name: str, param, got: float) -> str:
    if name == "leaky_relu" and param is None and math.isclose(got, math.sqrt(2)):
        return "With param=None the slope is PyTorch's default 0.01, not 0."
    if name == "leaky_relu" and param is not None and float(param) == 0 and not math.isclose(
            got, math.sqrt(2)):
        return "param=0 is a slope of 0 (gain √2), not a missing value: test `param is None`."
    if name == "leaky_relu":
        return "gain = √(2/(1 + a²)) with a the negative slope."
    return {"tanh": "tanh's gain is 5/3.", "selu": "SELU's gain is 3/4.",
            "relu": "ReLU's gain is √2."}.get(name, "linear, conv* and sigmoid have gain 1.")


def _check_gain(student, name: str, param, want: float, source: str) -> None:
    args = (name,) if param is None else (name, param)
    call = f"calculate_gain({', '.join(repr(a) for a in args)})"
    got = _gain_value(student(*args), call)
    if not math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-15):
        raise CheckFailed(f"{call} returned {got!r}; expected {want!r} ({source})",
                          _gain_hint(name, param, got))


def _gain_values(student, rng) -> str:
    for name, param in _gain_table():
        _check_gain(student, name, param, ref.calculate_gain(name, param), "the SPEC table")
    return ""


def _gain_invalid(student, rng) -> str:
    calls = [((n,), {}, f"unknown nonlinearity {n!r}")
             for n in ("gelu", "ReLU", "", "leaky-relu", "Tanh")]
    calls += [(("leaky_relu", p), {}, f"param {p!r} is not a finite real number")
              for p in (float("nan"), float("inf"), float("-inf"), True, False, "0.2", [0.2])]
    calls += [((None,), {}, "the nonlinearity must be a string")]
    problems = [p for args, kw, why in calls
                if (p := _expect_value_error(student, args, kw, why, "calculate_gain"))]
    if problems:
        raise CheckFailed("calculate_gain should raise ValueError for invalid input (SPEC §1): "
                          + _summary(problems, 4),
                          "Raise ValueError for names outside the table and for a param that "
                          "is not a finite int/float (bool is rejected although True is an int).")
    return ""


def _gain_torch_parity(student, rng) -> str:
    import torch  # noqa: PLC0415

    for name, param in _gain_table():
        want = float(torch.nn.init.calculate_gain(name, param))
        _check_gain(student, name, param, want, "torch.nn.init.calculate_gain")
    return "agrees with torch.nn.init.calculate_gain"


# --------------------------------------------------------------------------
# the battery
# --------------------------------------------------------------------------
def _random_checks(function: str) -> list[Check]:
    p = f"initializers.{function}."
    framework = "tensorflow" if function == "variance_scaling" else "torch"
    parity_id = "keras_parity" if framework == "tensorflow" else "torch_parity"
    return [
        Check(p + "shape_dtype", "property", partial(_shape_dtype, function), weight=1.0),
        Check(p + "invalid_input", "property", partial(_invalid_input, function), weight=1.0),
        Check(p + "variance", "statistical", partial(_variance, function), weight=3.0),
        Check(p + "distribution", "statistical", partial(_distribution, function), weight=2.0),
        Check(p + "support", "statistical", partial(_support, function), weight=1.5),
        Check(p + "mean", "statistical", partial(_mean, function), weight=0.5),
        Check(p + "independence", "statistical", partial(_independence, function), weight=1.0),
        Check(p + "reproducible", "unit", partial(_reproducible, function), weight=0.5),
        Check(p + parity_id, "parity", partial(_parity, function,
                                               "torch" if framework == "torch" else "keras"),
              weight=1.0, requires=(framework,), timeout_s=60.0),
    ]


CHECKS: tuple[Check, ...] = (
    Check("initializers.compute_fans.torch_layout", "unit", partial(_fans_layout, "torch"),
          weight=2.0),
    Check("initializers.compute_fans.keras_layout", "unit", partial(_fans_layout, "keras"),
          weight=2.0),
    Check("initializers.compute_fans.invalid_input", "property", _fans_invalid, weight=1.5),
    Check("initializers.compute_fans.torch_parity", "parity", _fans_torch_parity, weight=1.0,
          requires=("torch",)),
    Check("initializers.compute_fans.keras_parity", "parity", _fans_keras_parity, weight=1.0,
          requires=("tensorflow",), timeout_s=60.0),
    Check("initializers.calculate_gain.values", "unit", _gain_values, weight=3.0),
    Check("initializers.calculate_gain.invalid_input", "property", _gain_invalid, weight=1.5),
    Check("initializers.calculate_gain.torch_parity", "parity", _gain_torch_parity, weight=1.0,
          requires=("torch",)),
    *(c for f in RANDOM for c in _random_checks(f)),
)
