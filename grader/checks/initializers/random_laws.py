"""Checks of the five random initializers: their laws, and the rules around them.

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
``.shape_dtype``    exact shape, floating dtype, finite, within the bounds of
                    bounded laws, empty arrays for zero dimensions (fixed
                    calls and hypothesis).
``.invalid_input``  ValueError for invalid shapes, layouts, modes,
                    distributions, scales and slopes.
``.*_parity``       131,072 of the student's values against as many of
                    ``torch.nn.init`` (xavier_*, he_*) or
                    ``keras.initializers.VarianceScaling``: a two-sample KS
                    distance (two-sample DKW bound of Wei & Dudley, 1e-9) and
                    the ratio of mean squares (1e-9), each split over the
                    cases. The scale test catches every variance mistake of
                    the catalogue with the variance check's power
                    (``bench/initializer_design.py``).
==================  ==========================================================

Value checks compare values wherever they can be compared: any array of the
right number of values is a sample (only ``shape_dtype`` grades the shape and
dtype); the samples are i.i.d., so their arrangement does not matter to a law.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np
from hypothesis import strategies as st

from grader import stats
from grader.check import Check, CheckFailed, expect_array, grader_draw, summarize, values
from grader.checks.initializers import mistakes
from grader.checks.initializers.arguments import (bad_shape, bad_shapes, expect_value_error,
                                                  expect_value_errors)
from grader.checks.initializers.design import (CASES, CHECK_ALPHA, DEFAULTS, FAMILY_OF,
                                               FAMILY_TEXT, KS_ALPHA, KS_SAMPLES, MIN_SAMPLES,
                                               NONLINEARITIES, PARITY_CASES, PARITY_SAMPLES,
                                               SCALE_ALPHA, Case, Target, target)
from grader.oracles import initializers as oracle
from grader.properties import for_all, one_origin
from grader.wire import Rng

__all__ = ["random_checks", "framework_sample", "student_sample"]


# --------------------------------------------------------------------------
# drawing samples through the student's function
# --------------------------------------------------------------------------
def _seed(rng) -> int:
    return int(rng.integers(2**31))


def _call(student, case: Case, seed: int) -> tuple[np.ndarray, float]:
    """The values of one call (float64 of the case's shape) and the returned dtype's eps."""
    value = student(case.shape, **case.kw, rng=Rng((seed,)))
    arr = values(value, case.label(), case.shape, ordered=False)
    kind = getattr(value, "dtype", np.dtype(np.float64))
    eps = float(np.finfo(kind).eps) if np.dtype(kind).kind == "f" else 0.0
    return arr, max(1e-12, 8.0 * eps)


def student_sample(student, case: Case, rng, n_min: int = MIN_SAMPLES
                   ) -> tuple[np.ndarray, float]:
    """>= n_min values of ``case`` (float64, flattened) and the round-off of their dtype.

    The statistical checks of a function share one pool of samples per case
    (``student.shared``): the first check to need a case draws it, a later one
    that needs more draws the rest. Each test's false-failure bound holds for
    any correct sample, so sharing changes no bound; it saves most of the calls.
    """
    pool = student.shared.setdefault(("samples", case), [])
    have = sum(a.size for a, _ in pool)
    for _ in range(max(0, math.ceil((n_min - have) / case.size))):
        pool.append(_call(student, case, _seed(rng)))
    values_, eps = [], 0.0
    for a, e in pool:
        values_.append(a.ravel())
        eps = max(eps, e)
        if sum(v.size for v in values_) >= n_min:
            break
    return np.concatenate(values_), eps


def _ratio_text(ratio: float) -> str:
    return f"{ratio:.3g}×" if ratio > 0 else "0×"


# --------------------------------------------------------------------------
# statistical checks
# --------------------------------------------------------------------------
def _variance(function: str, student, rng) -> str:
    failures, found, ratios, evidence, bound, passed = [], [], [], [], 0.0, []
    for case in CASES[function]:
        t = case.target
        w, _ = student_sample(student, case, rng)
        v = stats.variance_ratio(w, t.var, t.family)
        bound += v.bound
        ratios.append(math.exp(v.statistic) if math.isfinite(v.statistic) else 0.0)
        if not v.passed:
            failures.append(f"{case.label()}: your samples' variance is "
                            f"{_ratio_text(ratios[-1])} the target σ0² = {t.formula} = "
                            f"{t.var:.4g}")
            found.append((case, ratios[-1]))
            evidence.append(v.sentence)
        else:
            passed.append(case)
    if failures:
        hint, mistake = mistakes.variance_hints(found, tuple(passed))
        raise CheckFailed(f"{function} should draw weights of variance σ0². "
                          + summarize(failures), hint, f"{evidence[0]}; seeds from --seed",
                          mistake)
    return (f"variance ratios {min(ratios):.3f}–{max(ratios):.3f} on {len(ratios)} shapes "
            f"(expected 1 ± 10 %; a correct solution fails with {stats.fmt_p(bound)})")


def _distribution(function: str, student, rng) -> str:
    cases = CASES[function]
    alpha = KS_ALPHA / len(cases)
    n_min = KS_SAMPLES.get(function, MIN_SAMPLES)
    failures, hints, evidence, ds = [], [], [], []
    for case in cases:
        t = case.target
        w, _ = student_sample(student, case, rng, n_min)
        z = w / t.std
        v = stats.ks_one_sample(z, t.family, alpha)
        ds.append(v.statistic)
        if not v.passed:
            failures.append(f"{case.label()} should follow a {FAMILY_TEXT[t.family]} law of "
                            f"variance {t.var:.4g}; the histogram of your values differs from "
                            f"it by up to {v.statistic:.3f} in cumulative probability (a "
                            f"correct solution stays below {v.high:.3f})")
            hints.append(mistakes.family_hint(z, t.family, alpha, function))
            evidence.append(v.sentence)
    if failures:
        hint, mistake = next((h for h in hints if h.hint), hints[0])
        raise CheckFailed(f"{function} draws from the wrong distribution. " + summarize(failures),
                          hint, evidence[0], mistake)
    return (f"KS distances ≤ {max(ds):.4f} on {len(ds)} shapes (DKW threshold, a correct "
            f"solution fails with p ≤ {KS_ALPHA:.0e})")


def _support_words(case: Case, v: stats.Verdict) -> str:
    t = case.target
    if t.family == "uniform":
        edge = math.sqrt(3.0) * t.std
        return (f"{case.label()}: your largest |w| is {v.statistic * edge:.5g}; U(−a, a) with "
                f"a = √3·σ0 = {edge:.5g} reaches within 0.2 % of a and never beyond it")
    if t.family == "truncated_normal":
        edge = 2.0 * t.std / stats.TRUNCATED_STD
        return (f"{case.label()}: your largest |w| is {v.statistic * edge:.5g}; the truncated "
                f"normal stops at 2σ' = {edge:.5g} and comes within 1 % of it")
    return (f"{case.label()}: your largest |w| is {v.statistic:.3g} σ0; an untruncated normal "
            f"of this many draws reaches beyond {stats.NORMAL_LOW:g} σ0 and stays below "
            f"{stats.NORMAL_HIGH:g} σ0")


def _support(function: str, student, rng) -> str:
    failures, hints, evidence, bound = [], [], [], 0.0
    for case in CASES[function]:
        t = case.target
        w, rtol = student_sample(student, case, rng)
        v = stats.support(w, t.std, t.family, rtol)
        bound += v.bound
        if not v.passed:
            failures.append(_support_words(case, v))
            hints.append(mistakes.support_hint(w, t, v.statistic, function))
            evidence.append(v.sentence)
    if failures:
        raise CheckFailed(f"{function} has values outside (or not reaching) the range of its "
                          "distribution. " + summarize(failures), hints[0].hint, evidence[0],
                          hints[0].mistake)
    return (f"the largest |w| is where it should be on every shape (a correct solution "
            f"fails with {stats.fmt_p(bound)})")


def _mean(function: str, student, rng) -> str:
    parts = []
    for case in CASES[function]:
        w, _ = student_sample(student, case, rng)
        parts.append(w / case.target.std)
    pooled = np.concatenate(parts)
    v = stats.symmetric_mean(pooled, CHECK_ALPHA)
    if not v.passed:
        raise CheckFailed(f"{function} should draw weights centred on 0; over its "
                          f"{len(parts)} shapes your values average {float(pooled.mean()):.3g} "
                          "standard deviations away from 0",
                          "Weights must be symmetric around 0: U(−a, a) or N(0, σ²), "
                          "with nothing added.", v.sentence)
    return v.sentence


def _axes(shape) -> list[int]:
    return [k for k, d in enumerate(shape) if d >= 2]


def _independence(function: str, student, rng) -> str:
    cases = CASES[function]
    n_stats = sum(len(_axes(c.shape)) for c in cases)
    unique_budget = sum(stats.unique_false_failure(c.size) for c in cases)
    alpha = (CHECK_ALPHA - unique_budget) / n_stats
    failures, hints, evidence = [], [], []
    for case in cases:
        w, _ = _call(student, case, _seed(rng))
        u = stats.unique_fraction(w)
        if not u.passed:
            failures.append(f"{case.label()}: only {100 * u.statistic:.1f} % of your values "
                            "are distinct")
            hints.append("Draw every entry independently from rng (no tiling, no clipping "
                         "onto the bounds, no rounding).")
            evidence.append(u.sentence)
        for k in _axes(case.shape):
            if np.all(w == w.take([0], axis=k)):
                failures.append(f"{case.label()}: every slice along axis {k} is the same")
                hints.append("Draw the whole shape at once (rng.uniform(..., size=shape)) "
                             "instead of repeating one row.")
                continue
            v = stats.lag1_correlation(w, k, alpha)
            if not v.passed:
                failures.append(f"{case.label()}: neighbouring values along axis {k} are "
                                "correlated")
                hints.append("Neighbouring weights must be independent draws.")
                evidence.append(v.sentence)
    seed_a, seed_b = _seed(rng), _seed(rng)
    while seed_b == seed_a:
        seed_b = _seed(rng)
    a, _ = _call(student, cases[0], seed_a)
    b, _ = _call(student, cases[0], seed_b)
    if np.array_equal(a, b):
        failures.append(f"{cases[0].label()} gave the same array for rng seeds {seed_a} and "
                        f"{seed_b}")
        hints.append("Draw from the rng argument; do not create a generator with a fixed seed.")
    if failures:
        raise CheckFailed(f"{function} should draw independent weights from rng. "
                          + summarize(failures), " ".join(dict.fromkeys(hints)),
                          evidence[0] if evidence else "")
    thr = stats.sign_threshold(alpha)
    return (f"distinct values, independent neighbours along every axis (lag-1 sign test, "
            f"|z| ≤ {thr:.2f}), different seeds differ (a correct solution fails with "
            f"p ≤ {CHECK_ALPHA:.0e})")


def _reproducible(function: str, student, rng) -> str:
    cases = CASES[function]
    for case in (cases[0], cases[2]):
        seed = _seed(rng)
        a, _ = _call(student, case, seed)
        b, _ = _call(student, case, seed)
        if not np.array_equal(a, b):
            diff = int(np.count_nonzero(a != b))
            raise CheckFailed(
                f"{case.label()} called twice with rng = numpy.random.default_rng([{seed}]) "
                f"gave different arrays ({diff} of {a.size} values differ): it must draw only "
                "from rng",
                "Use rng.uniform / rng.standard_normal / rng.normal; np.random.uniform, "
                "np.random.randn or a new default_rng() draw from another generator.")
    return "the same seed gives the same array"


# --------------------------------------------------------------------------
# shapes, dtypes and arguments
# --------------------------------------------------------------------------
def _edge(t: Target) -> float | None:
    if t.family == "uniform":
        return math.sqrt(3.0) * t.std
    if t.family == "truncated_normal":
        return 2.0 * t.std / stats.TRUNCATED_STD
    return None


def _maybe(draw, kw: dict, name: str, strategy) -> None:
    if draw(st.booleans()):
        kw[name] = draw(strategy)


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
        maybe(kw, "distribution", st.sampled_from(list(FAMILY_OF)))
    return shape, kw, draw(st.integers(0, 2**31 - 1))


#: valid calls every random function must answer: empty arrays, 0-D and 1-D Keras shapes,
#: lists and NumPy integers
_FIXED_VALID = [((0, 4), "torch"), ((4, 0, 3), "torch"), ((0, 0), "torch"), ((0,), "keras"),
                ((3, 3, 0, 8), "keras"), ((5,), "keras"), ((), "keras"),
                ([6, np.int32(4)], "torch"), ((np.int64(4), 6), "keras")]


def _check_valid(function: str, student, shape, kw: dict, seed: int | None) -> None:
    dims = tuple(int(d) for d in shape)
    call = f"{function}({shape!r}{''.join(f', {k}={v!r}' for k, v in kw.items())})"
    value = student(shape, **kw) if seed is None else student(shape, **kw, rng=Rng((seed,)))
    if dims == () and isinstance(value, np.floating):
        value = np.asarray(value)  # a NumPy scalar is a 0-D array in all but name
    arr = expect_array(value, call, shape=dims)
    if arr.size and not np.all(np.isfinite(arr)):
        raise CheckFailed(f"{call} returned values that are not finite (NaN or inf)")
    t = target(function, dims, kw)
    edge = _edge(t)
    if edge is not None and arr.size:
        top = float(np.max(np.abs(arr)))
        eps = float(np.finfo(arr.dtype).eps)
        if top > edge * (1 + max(1e-12, 8 * eps)):
            law = "U(−a, a)" if t.family == "uniform" else "the truncated normal"
            raise CheckFailed(f"{call} returned max|w| = {top:.6g} beyond the edge {edge:.6g} "
                              f"of {law} (σ0² = {t.formula} = {t.var:.4g})",
                              "No value may exceed the edge: a = √3·σ0 for the uniform, "
                              "2σ' = 2σ0/0.8796 for the truncated normal.")


def _shape_dtype(function: str, student, rng) -> str:
    # one call each, all known before the first: they go ahead; the last one passes no rng
    # (the function draws from a fresh default_rng())
    fixed = [partial(_check_valid, function, student, shape, {"layout": layout}, _seed(rng))
             for shape, layout in _FIXED_VALID]
    student.in_turn([*fixed, partial(_check_valid, function, student, (8, 4), {}, None)])
    for_all(_valid_call(function),
            one_origin(lambda ex: _check_valid(function, student, *ex)), rng, max_examples=50,
            memory=student.memory, student=student)
    return ""


def _invalid_calls(function: str) -> list[tuple[tuple, dict, str]]:
    base = (8, 4)
    calls = [((shape,), {}, why) for shape, why in bad_shapes(base)]
    calls += [((base,), {"layout": lay}, f"unknown layout {lay!r}")
              for lay in ("tf", "Torch", None)]
    torch_kw = {} if DEFAULTS[function]["layout"] == "torch" else {"layout": "torch"}
    calls += [(((8,),), torch_kw, "a torch-layout shape needs at least 2 dimensions"),
              (((0,),), torch_kw, "a torch-layout shape needs at least 2 dimensions, even "
                                  "when one of them is 0"),
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


def _invalid_hint(function: str) -> str:
    return ("Validate the arguments first: a shape is a tuple or list of ints >= 0 (not bool, "
            "not float), the layout 'torch' or 'keras', and a torch-layout shape has at least "
            "2 dimensions"
            + (", mode and distribution from the documented lists, scale > 0"
               if function == "variance_scaling" else "")
            + (", mode 'fan_in' or 'fan_out'" if function.startswith("he") else "")
            + "; raise ValueError otherwise.")


def _invalid_input(function: str, student, rng) -> str:
    problems = expect_value_errors(student, _invalid_calls(function), function)
    if problems:
        raise CheckFailed(f"{function} should raise ValueError for invalid input: "
                          + summarize(problems, 4), _invalid_hint(function))

    def prop(shape):
        problem = expect_value_error(student, (shape,), {}, "an invalid dimension", function)
        if problem:
            raise CheckFailed(problem, _invalid_hint(function))
    torch = DEFAULTS[function]["layout"] == "torch"
    for_all(bad_shape(2 if torch else 1), one_origin(prop), rng, max_examples=30,
            memory=student.memory, student=student)
    return ""


# --------------------------------------------------------------------------
# framework parity
# --------------------------------------------------------------------------
def framework_sample(case: Case, n: int, rng, framework=None) -> np.ndarray:
    """``n`` values of ``case`` from ``torch.nn.init`` or Keras' VarianceScaling.

    ``framework`` answers for Keras (``StudentFunction.framework``).
    """
    kw = {**DEFAULTS[case.function], **case.kw}
    calls = max(1, math.ceil(n / case.size))
    if case.function == "variance_scaling":
        sample = framework("variance_scaling", kw["scale"], kw["mode"], kw["distribution"],
                           tuple(case.shape), _seed(rng), calls)
        return np.asarray(sample, dtype=np.float64)
    sampler = getattr(oracle, case.function)  # torch.nn.init in the torch layout
    return np.concatenate([sampler(case.shape, **case.kw, rng=rng).ravel()
                           for _ in range(calls)])


def _framework_reference(case: Case, framework, rng) -> stats.Reference:
    """The framework's sample of ``case``, prepared for the two-sample tests."""
    return stats.reference(framework_sample(case, PARITY_SAMPLES, rng, framework))


def _parity(function: str, framework: str, student, rng) -> str:
    cases = PARITY_CASES[function]
    ks_alpha, scale_alpha = KS_ALPHA / len(cases), SCALE_ALPHA / len(cases)
    name = "torch.nn.init" if framework == "torch" else "keras.initializers.VarianceScaling"
    failures, evidence, found, ds, passed = [], [], [], [], []
    for case in cases:
        drawn = grader_draw(student, rng, ("parity", repr(case), PARITY_SAMPLES),
                            partial(_framework_reference, case, student.framework))
        mine, _ = student_sample(student, case, rng, PARITY_SAMPLES)
        n = min(mine.size, drawn.values.size)
        mine, ref = mine[:n], drawn.head(n)
        theirs = ref.values
        ks = stats.ks_two_sample(mine, ref, ks_alpha)
        scale = stats.scale_two_sample(mine, ref, case.target.family, scale_alpha)
        ds.append(ks.statistic)
        if not scale.passed:
            failures.append(f"{case.label()}: your values' variance is "
                            f"{_ratio_text(scale.statistic)} that of {name}'s (std "
                            f"{mine.std():.4g} vs {theirs.std():.4g})")
            evidence.append(scale.sentence)
            found.append((case, scale.statistic))
            continue
        passed.append(case)  # the right scale
        if not ks.passed:
            failures.append(f"{case.label()}: your values are distributed differently from "
                            f"{name}'s (largest |w| {np.abs(mine).max():.4g} vs "
                            f"{np.abs(theirs).max():.4g})")
            evidence.append(ks.sentence)
    if failures:
        hint, mistake = (mistakes.variance_hints(found, tuple(passed)) if found else (
            "The scale is right but not the shape of the distribution: compare which "
            "distribution you draw from (and any truncation) with the framework's.", ""))
        raise CheckFailed(f"{function} should draw from the same distribution as {name}. "
                          + summarize(failures), hint, evidence[0], mistake)
    return (f"two-sample KS distances to {name} ≤ {max(ds):.4f} and matching scales (a "
            f"correct solution fails with p ≤ {KS_ALPHA + SCALE_ALPHA:.0e})")


# --------------------------------------------------------------------------
# the checks of one random function
# --------------------------------------------------------------------------
def random_checks(function: str) -> tuple[Check, ...]:
    p = f"initializers.{function}."
    framework = "tensorflow" if function == "variance_scaling" else "torch"
    parity_id = "keras_parity" if framework == "tensorflow" else "torch_parity"
    needs = ("torch",)  # the oracles of compute_fans and calculate_gain
    return (
        Check(p + "shape_dtype", "property", partial(_shape_dtype, function), weight=1.0,
              requires=needs, gated=True),
        Check(p + "invalid_input", "property", partial(_invalid_input, function), weight=1.0,
              gated=True),
        Check(p + "variance", "statistical", partial(_variance, function), weight=3.0,
              requires=needs),
        Check(p + "distribution", "statistical", partial(_distribution, function), weight=2.0,
              requires=needs),
        Check(p + "support", "statistical", partial(_support, function), weight=1.5,
              requires=needs),
        Check(p + "mean", "statistical", partial(_mean, function), weight=0.5, requires=needs,
              gated=True),
        Check(p + "independence", "statistical", partial(_independence, function), weight=1.0),
        Check(p + "reproducible", "unit", partial(_reproducible, function), weight=0.5,
              gated=True),
        Check(p + parity_id, "parity", partial(_parity, function,
                                               "torch" if framework == "torch" else "keras"),
              weight=1.0, requires=tuple(dict.fromkeys(needs + (framework,))), timeout_s=60.0),
    )
