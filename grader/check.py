"""What a check is: a plain function that grades one student function and one
property, and the few helpers checks share to say what they expected.

A check function has the signature ``run(student, rng) -> str``: ``student``
is a :class:`grader.student.StudentFunction`, ``rng`` a NumPy Generator seeded
from the grading seed and the check id. It returns a message for a pass
(usually ``""``) or raises :class:`CheckFailed` with what the function should
do, expected vs got, and the numbers. Problems of the student's code itself
(``NotImplementedError``, an exception, a timeout) propagate from ``student``
and become ``not_attempted``, ``error`` or ``timeout``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from grader.contract import POINTS
from grader.wire import Unsupported

__all__ = ["Check", "CheckFailed", "expect_array", "expect_float", "describe", "fmt_shape"]


class CheckFailed(Exception):
    """The student's function ran but does not have the property."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Check:
    """One check: id ``task.function.property``, a kind, a weight and a body.

    The points of a function (``grader.contract.POINTS``) are shared by its
    checks in proportion to ``weight``. ``requires`` names frameworks the
    grader itself needs for the check (``"torch"``, ``"tensorflow"``); when one
    is missing the check is ``skipped``.
    """

    id: str
    kind: str
    run: Callable
    weight: float = 1.0
    requires: tuple[str, ...] = ()
    timeout_s: float = 20.0  # at the default --timeout of 20 s; scaled with it
    hint: str = ""

    @property
    def task(self) -> str:
        return self.id.split(".")[0]

    @property
    def function(self) -> str:
        return self.id.split(".")[1]

    @property
    def prop(self) -> str:
        return self.id.split(".", 2)[2]

    def __post_init__(self) -> None:
        parts = self.id.split(".")
        if len(parts) != 3 or parts[0] not in POINTS or parts[1] not in POINTS[parts[0]]:
            raise ValueError(f"check id {self.id!r} is not task.function.property of SPEC")


def describe(value: object) -> str:
    """A short description of a returned value, for messages."""
    if isinstance(value, np.ndarray):
        return f"a numpy.ndarray of shape {fmt_shape(value.shape)} and dtype {value.dtype}"
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if value is None:
        return "None"
    return f"a {type(value).__name__} ({value!r:.60})"


def fmt_shape(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def expect_array(value: object, what: str, *, shape=None, floating: bool = True,
                 finite: bool = True) -> np.ndarray:
    """``value`` as a NumPy array with the expected shape, or :class:`CheckFailed`."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{what} should return a numpy.ndarray; got {describe(value)}",
                          "Return a NumPy array (np.asarray), not a list, tensor or scalar.")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise CheckFailed(f"{what} should return shape {fmt_shape(shape)}; "
                          f"got {fmt_shape(value.shape)}")
    if floating and value.dtype.kind != "f":
        raise CheckFailed(f"{what} should return a floating array; got dtype {value.dtype}",
                          "Sample or compute in floating point (e.g. float64).")
    if finite and value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
        bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
        raise CheckFailed(f"{what} returned {bad} non-finite values (NaN or inf)")
    return value


def expect_float(value: object, what: str, *, finite: bool = False) -> float:
    """``value`` as a Python float (NumPy floating scalars accepted)."""
    ok = isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(
        value, (bool, np.bool_))
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "fi":
        value, ok = value.item(), True
    if not ok:
        raise CheckFailed(f"{what} should return a float; got {describe(value)}")
    out = float(value)
    if finite and not np.isfinite(out):
        raise CheckFailed(f"{what} should return a finite float; got {out}")
    return out
