"""Gates: properties that a trivial implementation could satisfy earn points
only once the function gives a correct result on a basic input.

``return np.zeros(shape)`` is reproducible and has mean 0; ``raise
ValueError`` raises on every invalid input; a function that returns a
constant never mutates its arguments and never imports torch. Such checks are
declared ``gated`` (a field of :class:`~grader.check.Check`): before the
first of them runs, the runner calls the function's gate once (the battery
names it), and if the gate fails they fail too, saying why. Value checks are
never gated, so partial credit stays where the maths is partly right.

A gate is a plain function ``gate(student, rng) -> None`` that raises
:class:`~grader.check.CheckFailed` (or lets a student problem propagate).
This module builds the two kinds NumPy tasks use:

* :func:`matches_oracle`: on the battery's basic inputs, the student's values
  equal the oracle's (relative 1e-6, absolute 1e-12: far above float64
  round-off of these few operations, far below any real bug), compared
  wherever they can be compared (a ``(1, C)`` array holds ``C`` values);
* :func:`random_array`: an array of the requested size, finite and not
  constant.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from grader.check import CheckFailed, describe, number, values
from grader.materialize import materialize

__all__ = ["matches_oracle", "random_array", "first_difference"]

_RTOL, _ATOL = 1e-6, 1e-12


def first_difference(got, expected, path: str = "result") -> str | None:
    """Where ``got`` first differs from ``expected``, in words, or None."""
    if isinstance(expected, np.ndarray):
        try:
            arr = values(got, path, expected.shape)
        except CheckFailed as failure:
            return failure.message
        if not np.allclose(arr, expected, rtol=_RTOL, atol=_ATOL, equal_nan=True):
            bad = ~np.isclose(arr, expected, rtol=_RTOL, atol=_ATOL, equal_nan=True)
            i = np.unravel_index(int(np.argmax(bad)), expected.shape) if expected.ndim else ()
            where = f" at index {tuple(int(k) for k in i)}" if expected.ndim else ""
            return (f"{path}{where} is {arr[i]:.6g}, expected {expected[i]:.6g} "
                    f"({int(bad.sum())} of {bad.size} values differ)")
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"{path} is {describe(got)}, expected a sequence of {len(expected)} items"
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
        return (None if isinstance(got, str) and got == expected
                else f"{path} is {describe(got)}, expected {expected!r}")
    e, g = float(expected), number(got)
    if g is None:
        return f"{path} is {describe(got)}, expected the number {e:.6g}"
    if math.isnan(e) and math.isnan(g):
        return None
    if not abs(g - e) <= _ATOL + _RTOL * abs(e):
        return f"{path} is {g:.10g}, expected {e:.10g}"
    return None


def _describe_call(function: str, args, kwargs) -> str:
    def short(v):
        if isinstance(v, np.ndarray):
            return f"an array of shape {tuple(v.shape)}"
        if isinstance(v, list) and v and isinstance(v[0], np.ndarray):
            return f"{len(v)} arrays"
        text = repr(v)
        return text if len(text) <= 30 else text[:27] + "..."
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()
                                        if k != "rng"]
    return f"{function}({', '.join(parts)})"


def _call(student, function: str, args, kwargs):
    from grader.student import StudentRaised

    call = student.call(*args, **kwargs)
    if call.raised is not None:
        raise StudentRaised(call.raised, f"{_describe_call(function, args, kwargs)}, a basic "
                                         "valid call,")
    return call.value


def matches_oracle(function: str, calls, oracle: Callable) -> Callable:
    """The gate of a deterministic function: its values on ``calls`` equal ``oracle``'s."""
    def gate(student, rng) -> None:
        for args, kwargs in calls:
            got = _call(student, function, args, kwargs)
            expected = oracle(*materialize(args), **materialize(kwargs))
            diff = first_difference(got, expected)
            if diff:
                raise CheckFailed(f"{_describe_call(function, args, kwargs)}: {diff}")
    return gate


def random_array(function: str, calls) -> Callable:
    """The gate of a random initializer: the right number of finite, varied values."""
    def gate(student, rng) -> None:
        for args, kwargs in calls:
            shape = args[0]
            got = _call(student, function, args, kwargs)
            arr = values(got, _describe_call(function, args, kwargs), shape, ordered=False)
            if not np.all(np.isfinite(arr)):
                raise CheckFailed(f"{_describe_call(function, args, kwargs)} returned values "
                                  "that are not finite (NaN or inf)")
            if arr.size > 1 and np.all(arr == arr.flat[0]):
                raise CheckFailed(f"{_describe_call(function, args, kwargs)} returned the "
                                  f"same value {arr.flat[0]:.6g} everywhere")
    return gate
