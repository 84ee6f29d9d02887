"""The statistical design of the initializer checks: what is sampled, and the law expected.

The five random initializers are sampled through the student's function with
a seeded ``rng`` on non-square shapes whose fans differ by 4x or 8x, dense and
convolutional, in both layouts (:data:`CASES`; every case has >= 32,768
values per call). The law each call should follow (:func:`target`) comes from
the grader's oracles of ``compute_fans`` and ``calculate_gain``
(``grader.oracles.initializers``, i.e. ``torch.nn.init``) and the variance
formulas of the student API:

===================  =====================================================
function             target variance sigma0^2
===================  =====================================================
variance_scaling     scale / max(1, n), n = fan_in, fan_out or their mean
xavier_*             gain^2 * 2 / (fan_in + fan_out)
he_*                 calculate_gain(nonlinearity, a)^2 / fan (mode's fan)
===================  =====================================================

Every statistical check fails a correct implementation with probability at
most :data:`CHECK_ALPHA` (2e-9); ``grader.stats`` holds the tests and their
bounds, ``bench/initializer_design.py`` the Monte-Carlo evidence and the power
against every mistake of ``grader.checks.initializers.mistakes``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from grader.check import fmt_shape
from grader.oracles import initializers as oracle

__all__ = ["RANDOM", "CHECK_ALPHA", "KS_ALPHA", "SCALE_ALPHA", "KS_SAMPLES", "MIN_SAMPLES",
           "PARITY_SAMPLES", "NONLINEARITIES", "DEFAULTS", "FAMILY_OF", "FAMILY_TEXT",
           "Target", "target", "Case", "CASES", "PARITY_CASES", "receptive_field"]

RANDOM = ("variance_scaling", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal")
#: the false-failure budget of every statistical check
CHECK_ALPHA = 2e-9
#: the KS checks spend 1e-9 of it (split over their cases); parity spends the rest on scale
KS_ALPHA = 1e-9
SCALE_ALPHA = 1e-9
#: KS sample size per case: variance_scaling must tell uniform from truncated normal
KS_SAMPLES = {"variance_scaling": 65536}
MIN_SAMPLES = 16384
#: parity compares this many of the student's values with as many of the framework's
PARITY_SAMPLES = 131072

NONLINEARITIES = oracle.NONLINEARITIES

DEFAULTS = {
    "variance_scaling": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
                         "layout": "keras"},
    "xavier_uniform": {"gain": 1.0, "layout": "torch"},
    "xavier_normal": {"gain": 1.0, "layout": "torch"},
    "he_uniform": {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu", "layout": "torch"},
    "he_normal": {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu", "layout": "torch"},
}

FAMILY_OF = {"truncated_normal": "truncated_normal", "untruncated_normal": "normal",
             "uniform": "uniform"}
FAMILY_TEXT = {"normal": "normal", "uniform": "uniform",
               "truncated_normal": "truncated normal (redrawn beyond 2σ')"}


@dataclass(frozen=True)
class Target:
    family: str  # a grader.stats.FAMILIES member
    var: float  # target variance sigma0^2
    formula: str  # how var follows from the arguments, with the numbers

    @property
    def std(self) -> float:
        return math.sqrt(self.var)


def receptive_field(shape, layout) -> int:
    dims = tuple(int(d) for d in shape)
    kernel = dims[2:] if layout == "torch" else dims[:-2]
    return math.prod(kernel) if len(dims) >= 2 else 1


def target(function: str, shape, kwargs: dict) -> Target:
    """The law the student API asks of ``function(shape, **kwargs)``."""
    kw = {**DEFAULTS[function], **kwargs}
    fan_in, fan_out = oracle.compute_fans(tuple(int(d) for d in shape), kw["layout"])
    if function == "variance_scaling":
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[kw["mode"]]
        var = float(kw["scale"]) / max(1.0, n)
        return Target(FAMILY_OF[kw["distribution"]], var,
                      f"scale/max(1, {kw['mode']}) = {float(kw['scale']):g}/{n:g}")
    if function.startswith("xavier"):
        g = float(kw["gain"])
        var = g * g * 2.0 / max(1, fan_in + fan_out)
        return Target("uniform" if function.endswith("uniform") else "normal", var,
                      f"gain²·2/(fan_in+fan_out) = {g:.4g}²·2/({fan_in}+{fan_out})")
    g = oracle.calculate_gain(kw["nonlinearity"], kw["a"])
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
    def layout(self) -> str:
        return {**DEFAULTS[self.function], **self.kw}["layout"]

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
