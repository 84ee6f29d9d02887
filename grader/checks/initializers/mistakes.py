"""The catalogue of known initializer mistakes, and the hints that name them.

A mistake is known by what it does to the law of the samples: the variance
ratio it gives on a case (:func:`mistakes`), clipping onto an edge, a wrong
family. A check that observed a ratio or a shape of distribution looks it up
here, so that its hint names the mistake it saw, not a fixed sentence.
``bench/initializer_design.py`` shows the power of the variance and parity
checks against every entry.
"""
from __future__ import annotations

import math

import numpy as np

from grader import stats
from grader.check import Diagnosis
from grader.checks.initializers.design import (DEFAULTS, FAMILY_TEXT, Case, Target,
                                               receptive_field)
from grader.oracles import initializers as oracle

__all__ = ["alt_fans", "mistakes", "matching_mistakes", "variance_hints", "family_hint",
           "support_hint", "fans_hint"]

# every *_hint function returns a grader.check.Diagnosis: the hint and the mistake it names


def alt_fans(shape, layout):
    """(description, (fan_in, fan_out)) of the usual ways to get the fans wrong."""
    fi, fo = oracle.compute_fans(shape, layout)
    rf = receptive_field(shape, layout)
    out = [("fan_in and fan_out swapped", (fo, fi))]
    if rf > 1:
        out.append(("the receptive field (kernel size) left out of the fans", (fi // rf, fo // rf)))
    other = "keras" if layout == "torch" else "torch"
    try:
        out.append((f"the shape read in the {other} layout instead of the {layout} one",
                    oracle.compute_fans(shape, other)))
    except ValueError:
        pass
    return out


#: the framework convention a normal truncated at 2σ (and not rescaled) comes from
_TRUNCATION_MIXUP = {"xavier_normal": "Keras' truncated normal mixed up with PyTorch's normal",
                     "he_normal": "Keras' HeNormal mixed up with PyTorch's kaiming_normal_"}


def _unrescaled_truncation(function: str) -> str:
    """The name of one mistake four checks see: a normal truncated at 2σ, not rescaled.

    Its variance is 0.774·σ0² (the variance and parity checks) and its law bounded
    (the distribution and support checks): all of them name it alike, so that the
    class page counts it once.
    """
    return f"the normal truncated at 2σ without rescaling ({_TRUNCATION_MIXUP[function]})"


def mistakes(case: Case) -> list[tuple[float, str]]:
    """(variance ratio it gives, name) for the known mistakes that change this case."""
    f, kw, t = case.function, {**DEFAULTS[case.function], **case.kw}, case.target
    shape, layout = case.shape, kw["layout"]
    fi, fo = oracle.compute_fans(shape, layout)
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
        if f == "xavier_normal":
            out.append((stats.TRUNCATED_STD**2, _unrescaled_truncation(f)))
        for name, (a, b) in alt_fans(shape, layout):
            out.append((2.0 / max(1, a + b) / base, name))
    elif f.startswith("he"):
        g = oracle.calculate_gain(kw["nonlinearity"], kw["a"])
        fan = fi if kw["mode"] == "fan_in" else fo
        other = fo if kw["mode"] == "fan_in" else fi
        out += [(1 / (g * g), "gain ignored (std = 1/√fan)"),
                (g * g, "gain squared (gain multiplies the standard deviation)"),
                (2.0 * fan / (fi + fo), "Xavier's gain²·2/(fan_in+fan_out) used instead of "
                                        "He's gain²/fan"),
                (2.0 * fan / (fi + fo) / (g * g), "Xavier's 2/(fan_in+fan_out) used instead of "
                                                  "He's gain²/fan")]
        if f == "he_normal":
            out.append((stats.TRUNCATED_STD**2, _unrescaled_truncation(f)))
        if kw["mode"] == "fan_out":
            out.append((fan / other, "mode ignored (fan_in used for mode='fan_out')"))
        if kw["nonlinearity"] == "leaky_relu" and kw["a"] != 0:
            out.append((2.0 / (g * g), "the negative slope a ignored (gain √2 used)"))
        if kw["nonlinearity"] != "leaky_relu" and kw["nonlinearity"] != "relu":
            out.append((2.0 / (g * g), f"the ReLU gain √2 used for {kw['nonlinearity']!r}"))
        for name, (a, b) in alt_fans(shape, layout):
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
        for name, (a, b) in alt_fans(shape, layout):
            alt = {"fan_in": a, "fan_out": b, "fan_avg": (a + b) / 2}[kw["mode"]]
            out.append((n / max(1.0, alt), name))
    band = stats.VARIANCE_BAND
    return [(r, name) for r, name in out if r > 0 and abs(math.log(r)) > band]


def matching_mistakes(case: Case, ratio: float) -> list[str]:
    return list(dict.fromkeys(name for r, name in mistakes(case)
                              if abs(math.log(ratio / r)) <= stats.VARIANCE_BAND))


def _variance_hint(case: Case, ratio: float, ruled_out: frozenset = frozenset()) -> Diagnosis:
    if not ratio > 0:
        return Diagnosis("All weights are zero: sample them from rng.", "all weights zero")
    names = [n for n in matching_mistakes(case, ratio) if n not in ruled_out]
    if names:  # several mistakes give this ratio: the hint lists them, none is named
        return Diagnosis(f"A ratio of {ratio:.3g} is what this mistake gives: "
                         + "; or ".join(names) + ".", names[0] if len(names) == 1 else "")
    return Diagnosis("Compare your variance formula with the docstring: Var(W) = "
                     + case.target.formula + ".")


def variance_hints(found: list[tuple[Case, float]], passed: tuple[Case, ...] = ()) -> Diagnosis:
    """The mistakes that explain every failing case, else the first case's hint.

    A mistake that would have changed the variance of a case in ``passed`` (whose
    variance was right) is ruled out: on a case with mode='fan_out', ignoring the mode
    and swapping the fans give one ratio, but a swap also fails the fan_in cases.
    """
    ruled_out = frozenset(name for case in passed for _, name in mistakes(case))
    common = None
    for case, ratio in found:
        names = set(matching_mistakes(case, ratio)) - ruled_out if ratio > 0 else set()
        common = names if common is None else common & names
    if common:
        ordered = [n for n in matching_mistakes(*found[0]) if n in common]
        return Diagnosis("The variance of every failing shape is off by what this mistake "
                         "gives: " + "; or ".join(ordered) + ".",
                         ordered[0] if len(ordered) == 1 else "")
    return _variance_hint(*found[0], ruled_out)


#: the range of max|w| / rms of each law at the checks' sample sizes (a hint, not a grade)
_REACH = {"uniform": (1.70, 1.76), "truncated_normal": (2.20, 2.32), "normal": (3.0, math.inf)}


def _reached(reach: float, families) -> list[str]:
    """The laws of ``families`` whose max|w| / rms range holds ``reach``."""
    return [f for f in families if _REACH[f][0] <= reach <= _REACH[f][1]]


def _other_law(looks: str, family: str, ratio: float, function: str) -> Diagnosis:
    """Samples that look like law ``looks`` where ``family`` belongs; ``ratio`` is their
    variance over the target's (0.774 for a normal truncated at 2σ and not rescaled)."""
    if (looks == "truncated_normal" and family == "normal" and function in _TRUNCATION_MIXUP
            and abs(math.log(ratio / stats.TRUNCATED_STD**2)) <= stats.VARIANCE_BAND):
        return Diagnosis("Your values look like a normal cut at 2σ and not rescaled (variance "
                         f"× {ratio:.3g}): this function draws an untruncated normal, as "
                         "PyTorch does (rng.standard_normal, nothing redrawn); the truncated "
                         "normal is Keras'.",
                         _unrescaled_truncation(function))
    return Diagnosis(f"Your values look {FAMILY_TEXT[looks]}, not {FAMILY_TEXT[family]}: "
                     "check which rng method you call.",
                     f"a {FAMILY_TEXT[looks]} law instead of a {FAMILY_TEXT[family]} one")


def family_hint(z: np.ndarray, family: str, alpha: float, function: str) -> Diagnosis:
    """What the standardised samples ``z`` of ``function`` look like, when they are not
    ``family``."""
    rms = math.sqrt(float(np.mean(z * z))) or 1.0
    top = float(np.max(np.abs(z)))
    if top == 0:
        return Diagnosis("All weights are zero: sample them from rng.", "all weights zero")
    at_edge = np.abs(z) >= top * (1 - 1e-12)
    piled = float(np.mean(at_edge))
    # draws of a continuous law repeat no value: a pile at the edge is clipping only when
    # the values inside are distinct (a repeated row piles its largest value too)
    inside = z[~at_edge]
    distinct = np.unique(inside).size / inside.size if inside.size else 1.0
    if distinct < 0.99:
        return Diagnosis(f"Only {100 * np.unique(z).size / z.size:.1f} % of your values are "
                         "distinct, so they cannot follow a continuous law: see the "
                         "independence check.")
    if piled > 0.005:
        return Diagnosis(f"{100 * piled:.1f} % of your values sit exactly at ±max|w|: values "
                         "beyond the edge are clipped; they must be drawn again instead.",
                         "values clipped onto the edge instead of redrawn")
    # a law is recognised by its shape at unit variance and by its reach: max|w| / rms is
    # sqrt(3) for a uniform, 2/0.8796 for the truncated normal, beyond 3 for >= 16,384
    # normal draws; at these sizes the KS test alone can mistake one normal for the other
    reach = top / rms
    looks = [f for f in _reached(reach, stats.FAMILIES)
             if stats.ks_one_sample(z / rms, f, alpha).passed]
    if family in looks:
        return Diagnosis(f"The shape of the distribution is right but the scale is not "
                         f"(variance × {rms * rms:.3g}); see the variance check.")
    if looks:
        return _other_law(looks[0], family, rms * rms, function)
    if family == "truncated_normal":
        return Diagnosis("Draw N(0, σ'²) with σ' = σ0/0.87962566103423978 and redraw every "
                         "value beyond 2σ' until none is left (do not clip).")
    return Diagnosis("Compare the rng method you call with the distribution the docstring "
                     "names.")


def support_hint(w: np.ndarray, t: Target, statistic: float, function: str) -> Diagnosis:
    rms = math.sqrt(float(np.mean(w * w)))
    spread = float(np.max(np.abs(w))) / rms if rms > 0 else 0.0
    # max|w| / rms of the target law (uniform: √3; truncated normal: 2/c·c = about 2.27)
    shape_edge = {"uniform": math.sqrt(3.0), "truncated_normal": 2.0 / stats.TRUNCATED_STD}
    edge = shape_edge.get(t.family)
    right_shape = (spread > stats.NORMAL_LOW if edge is None
                   else abs(spread / edge - 1.0) <= 0.02)
    if right_shape:
        return Diagnosis(f"The edge sits where your spread puts it, but the spread is off "
                         f"(variance × {rms * rms / t.var:.3g}); see the variance check.")
    if t.family == "uniform":
        return Diagnosis(f"Draw U(−a, a) with a = √3·σ0, where σ0² = {t.formula}.")
    if t.family == "truncated_normal":
        return Diagnosis("Keras' truncated normal has nominal std σ' = σ0/0.8796 and no value "
                         "beyond 2σ': redraw those (do not clip), and keep the 1/0.8796 "
                         "factor.")
    if statistic <= stats.NORMAL_LOW:
        # bounded values: the reach of a bounded law names it (as in family_hint)
        bounded = _reached(spread, ("uniform", "truncated_normal"))
        if bounded:
            return _other_law(bounded[0], "normal", rms * rms / t.var, function)
        return Diagnosis("This normal must not be truncated (that is Keras' truncated_normal, "
                         "not this function).", "a normal truncated where none belongs")
    return Diagnosis("Values far beyond a normal's range: draw from a normal.")


def fans_hint(shape, layout: str, got) -> Diagnosis:
    dims = tuple(int(d) for d in shape)
    if layout == "keras" and len(dims) < 2:
        return Diagnosis("Keras' convention: a 0-D shape has fans (1, 1), a 1-D shape (n,) has "
                         "(n, n).", "Keras' 0-D and 1-D fans")
    for name, alt in alt_fans(dims, layout):
        if tuple(got) == tuple(alt):
            return Diagnosis(f"Your answer is what this mistake gives: {name}.", name)
    return Diagnosis("torch layout: (out, in, *kernel); keras layout: (*kernel, in, out); both "
                     "fans are multiplied by prod(kernel).")
