"""Checks of ``compute_fans`` and ``calculate_gain``: exact values and argument rules.

Expected values come from ``grader.oracles.initializers`` (``torch.nn.init``
behind the student API's argument rules) on fixed and hypothesis-generated
inputs (``.torch_layout``, ``.keras_layout``, ``.values``), and directly from
``torch.nn.init`` and Keras (``.torch_parity``, ``.keras_parity``); both must
raise ``ValueError`` on invalid input (``.invalid_input``). The value checks
compare numbers wherever they can be compared (fans returned as a list or as
floats are still compared); ``.shape_dtype`` alone asks for the exact types.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np

from grader.check import Check, CheckFailed, describe, number, summarize
from grader.checks.initializers.arguments import (bad_shape, bad_shapes, expect_value_error,
                                                  expect_value_errors, shape_strategy)
from grader.checks.initializers.design import NONLINEARITIES
from grader.checks.initializers.mistakes import fans_hint
from grader.oracles import initializers as oracle
from grader.properties import for_all, one_origin

__all__ = ["fans_checks", "gain_checks"]


def _fans_value(value, what: str) -> tuple[float, float]:
    pair = (list(value) if isinstance(value, (tuple, list))
            or (isinstance(value, np.ndarray) and value.ndim == 1) else None)
    numbers = [number(v) for v in pair] if pair is not None and len(pair) == 2 else None
    if numbers is None or None in numbers:
        raise CheckFailed(f"{what} should return the pair (fan_in, fan_out); got "
                          f"{describe(value)}", "Return `fan_in, fan_out`.")
    return numbers[0], numbers[1]


def _shown(got) -> str:
    return "(" + ", ".join(f"{v:g}" for v in got) + ")"


def _check_fans(student, shape, layout: str | None) -> None:
    kw = {} if layout is None else {"layout": layout}
    lay = layout or "torch"
    call = f"compute_fans({shape!r}{', layout=' + repr(layout) if layout else ''})"
    got = _fans_value(student(shape, **kw), call)
    want = oracle.compute_fans(tuple(int(d) for d in shape), lay)
    if got != want:
        hint, mistake = fans_hint(shape, lay, got)
        raise CheckFailed(f"{call} returned {_shown(got)}; expected (fan_in, fan_out) = {want} "
                          f"in the {lay} layout", hint, mistake=mistake)


_TORCH_SHAPES = [(64, 100), (8, 4, 3, 3), (8, 4, 5), (16, 3, 2, 3, 5), (7, 0), (0, 3, 3, 3),
                 (5, 4, 0, 2), [6, 9], (np.int64(6), np.int32(9), 2)]
_KERAS_SHAPES = [(), (7,), (0,), (100, 64), (3, 3, 16, 32), (5, 4, 8), (2, 3, 5, 4, 6),
                 (3, 3, 0, 8), [4, 6], (np.int64(3), 2, 5)]


def _fans_layout(layout: str, student, rng) -> str:
    shapes = _TORCH_SHAPES if layout == "torch" else _KERAS_SHAPES
    for i, shape in enumerate(shapes):
        _check_fans(student, shape, None if layout == "torch" and i % 2 else layout)
    for_all(shape_strategy(2 if layout == "torch" else 0),
            one_origin(lambda shape: _check_fans(student, shape, layout)), rng,
            max_examples=40, memory=student.memory, student=student)
    return ""


def _fans_types(student, rng) -> str:
    for shape, kw in (((64, 100), {}), ((3, 3, 16, 32), {"layout": "keras"}), ((7,),
                      {"layout": "keras"}), ((np.int64(6), 9), {})):
        value = student(shape, **kw)
        call = f"compute_fans({shape!r}{', layout=' + repr(kw['layout']) if kw else ''})"
        ok = (isinstance(value, tuple) and len(value) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) for v in value))
        if not ok:
            raise CheckFailed(f"{call} should return a tuple of two Python ints; got "
                              f"{describe(value)}"
                              + (f" holding {', '.join(type(v).__name__ for v in value)}"
                                 if isinstance(value, (tuple, list)) else ""),
                              "Return `int(fan_in), int(fan_out)`: a tuple of ints, not a list, "
                              "floats or NumPy integers.")
    return ""


def _fans_invalid(student, rng) -> str:
    calls = [((shape,), {}, why) for shape, why in bad_shapes((8, 4))]
    calls += [(((8,),), {}, "a torch-layout shape needs at least 2 dimensions"),
              (((0,),), {}, "a torch-layout shape needs at least 2 dimensions"),
              (((),), {"layout": "torch"}, "a torch-layout shape needs at least 2 dimensions")]
    calls += [(((8, 4),), {"layout": lay}, f"unknown layout {lay!r}")
              for lay in ("tf", "Keras", None, 1)]
    calls += [(((3, 3, 2.0, 4),), {"layout": "keras"}, "a float dimension"),
              (((False,),), {"layout": "keras"}, "a bool dimension")]
    problems = expect_value_errors(student, calls, "compute_fans")
    if problems:
        raise CheckFailed("compute_fans should raise ValueError for invalid input: "
                          + summarize(problems, 4),
                          "Check every dimension: int or NumPy integer, not bool, >= 0; and "
                          "the layout; raise ValueError otherwise.")

    def prop(shape):
        problem = expect_value_error(student, (shape,), {"layout": "keras"},
                                     "an invalid dimension", "compute_fans")
        if problem:
            raise CheckFailed(problem, "Reject floats (even 3.0), bools and negative numbers.")
    for_all(bad_shape(1), one_origin(prop), rng, max_examples=30, memory=student.memory,
            student=student)
    return ""


def _fans_torch_parity(student, rng) -> str:
    import torch  # noqa: PLC0415

    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans  # noqa: PLC0415

    def prop(shape):
        dims = tuple(int(d) for d in shape)
        try:
            want = tuple(int(v) for v in torch_fans(torch.empty(dims, device="meta")))
        except ValueError:
            problem = expect_value_error(student, (shape,), {"layout": "torch"},
                                         "torch.nn.init raises ValueError here", "compute_fans")
            if problem:
                raise CheckFailed(problem, "PyTorch needs at least 2 dimensions.") from None
            return
        call = f"compute_fans({shape!r}, layout='torch')"
        got = _fans_value(student(shape, layout="torch"), call)
        if got != want:
            hint, mistake = fans_hint(dims, "torch", got)
            raise CheckFailed(f"{call} returned {_shown(got)}; torch.nn.init computes {want}",
                              hint, mistake=mistake)
    for_all(shape_strategy(0), one_origin(prop), rng, max_examples=40, memory=student.memory,
            student=student)
    return "agrees with torch.nn.init._calculate_fan_in_and_fan_out"


def _fans_keras_parity(student, rng) -> str:
    def prop(shape):
        dims = tuple(int(d) for d in shape)
        want = tuple(int(v) for v in student.framework("compute_fans", dims))
        call = f"compute_fans({shape!r}, layout='keras')"
        got = _fans_value(student(shape, layout="keras"), call)
        if got != want:
            hint, mistake = fans_hint(dims, "keras", got)
            raise CheckFailed(f"{call} returned {_shown(got)}; keras computes {want}", hint,
                              mistake=mistake)
    for_all(shape_strategy(0), one_origin(prop), rng, max_examples=40, memory=student.memory,
            student=student)
    return "agrees with keras' compute_fans"


def fans_checks() -> tuple[Check, ...]:
    p = "initializers.compute_fans."
    torch = ("torch",)
    return (
        Check(p + "torch_layout", "unit", partial(_fans_layout, "torch"), weight=2.0,
              requires=torch),
        Check(p + "keras_layout", "unit", partial(_fans_layout, "keras"), weight=2.0,
              requires=torch),
        Check(p + "shape_dtype", "unit", _fans_types, weight=0.5, gated=True),
        Check(p + "invalid_input", "property", _fans_invalid, weight=1.5, gated=True),
        Check(p + "torch_parity", "parity", _fans_torch_parity, weight=1.0, requires=torch),
        Check(p + "keras_parity", "parity", _fans_keras_parity, weight=1.0,
              requires=("tensorflow",), timeout_s=60.0),
    )


# --------------------------------------------------------------------------
# calculate_gain
# --------------------------------------------------------------------------
def _gain_table() -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [(name, None) for name in NONLINEARITIES]
    rows += [("leaky_relu", p) for p in (0, 0.0, 0.2, -0.3, 1, 3, 0.01, np.float64(0.1))]
    rows += [("relu", 0.5), ("tanh", 2.0), ("selu", 0.0), ("linear", 1)]
    return rows


def _gain_value(value, call: str) -> float:
    got = number(value)
    if got is None:
        raise CheckFailed(f"{call} should return a number; got {describe(value)}",
                          "Return the gain as a float.")
    return got


def _gain_hint(name: str, param, got: float) -> str:
    if name == "leaky_relu" and param is None and math.isclose(got, math.sqrt(2)):
        return "With param=None the slope is PyTorch's default 0.01, not 0."
    if name == "leaky_relu" and param is not None and float(param) == 0 and not math.isclose(
            got, math.sqrt(2)):
        return "param=0 is a slope of 0 (gain √2), not a missing value: test `param is None`."
    if name == "leaky_relu" and param is not None and math.isclose(
            got, 2.0 / (1.0 + float(param) ** 2)):
        return "The gain is the square root of 2/(1 + a²)."
    if name == "leaky_relu":
        return "gain = √(2/(1 + a²)) with a the negative slope."
    if name in ("relu", "tanh", "selu", "linear") and param is not None:
        return f"{name} ignores param: its gain is the same whatever param is."
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
    student.in_turn([partial(_check_gain, student, name, param,  # one call each: ahead
                             oracle.calculate_gain(name, param), "the table of the docstring")
                     for name, param in _gain_table()])
    return ""


def _gain_types(student, rng) -> str:
    for name, param in (("tanh", None), ("leaky_relu", 0.2), ("linear", None)):
        args = (name,) if param is None else (name, param)
        value = student(*args)
        if isinstance(value, (bool, np.bool_, np.ndarray)) or not isinstance(
                value, (int, float, np.integer, np.floating)):
            raise CheckFailed(f"calculate_gain{args!r:.60} should return a plain number (a "
                              f"Python float); got {describe(value)}",
                              "Return float(gain), not an array or a tensor.")
    return ""


def _gain_invalid(student, rng) -> str:
    calls = [((n,), {}, f"unknown nonlinearity {n!r}")
             for n in ("gelu", "ReLU", "", "leaky-relu", "Tanh")]
    calls += [(("leaky_relu", p), {}, f"param {p!r} is not a finite real number")
              for p in (float("nan"), float("inf"), float("-inf"), True, False, "0.2", [0.2])]
    calls += [((None,), {}, "the nonlinearity must be a string")]
    problems = expect_value_errors(student, calls, "calculate_gain")
    if problems:
        raise CheckFailed("calculate_gain should raise ValueError for invalid input: "
                          + summarize(problems, 4),
                          "Raise ValueError for names outside the table and for a param that "
                          "is not a finite int/float (bool is rejected although True is an int).")
    return ""


def _gain_torch_parity(student, rng) -> str:
    import torch  # noqa: PLC0415

    g = np.random.default_rng(int(rng.integers(2**31)))
    slopes = [float(s) for s in g.uniform(-3.0, 3.0, 6)] + [int(g.integers(-4, 5))]
    for name, param in [(n, None) for n in NONLINEARITIES] + [("leaky_relu", s) for s in slopes]:
        want = float(torch.nn.init.calculate_gain(name, param))
        _check_gain(student, name, param, want, "torch.nn.init.calculate_gain")
    return "agrees with torch.nn.init.calculate_gain"


def gain_checks() -> tuple[Check, ...]:
    p = "initializers.calculate_gain."
    return (
        Check(p + "values", "unit", _gain_values, weight=3.0, requires=("torch",)),
        Check(p + "shape_dtype", "unit", _gain_types, weight=0.5, gated=True),
        Check(p + "invalid_input", "property", _gain_invalid, weight=1.5, gated=True),
        Check(p + "torch_parity", "parity", _gain_torch_parity, weight=1.0,
              requires=("torch",)),
    )
