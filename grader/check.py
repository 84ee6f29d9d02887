"""What a check is: a plain function that grades one student function and one
property, and the few helpers checks share to say what they expected.

A check function has the signature ``run(student, rng) -> str``: ``student``
is a :class:`grader.student.StudentFunction`, ``rng`` a NumPy Generator seeded
from the grading seed and the check id. It returns a message for a pass
(usually ``""``) or raises :class:`CheckFailed` with what the function should
do, expected vs got, and the numbers; or :class:`CheckSkipped` when it cannot
grade here (the quiz's answers outside the instructor's grader). Problems of
the student's code itself (``NotImplementedError``, an exception, a timeout)
propagate from ``student`` and become ``not_attempted``, ``error`` or
``timeout``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from grader.contract import POINTS
from grader.wire import Unsupported

__all__ = ["KINDS", "VISIBILITIES", "Check", "CheckFailed", "CheckSkipped", "Diagnosis",
           "Figure", "expected", "grader_draw", "expect_array",
           "expect_float", "values", "number", "describe", "fmt_shape", "summarize"]

KINDS = ("statistical", "property", "parity", "unit", "experiment")
#: who sees a check's result on Gradescope (its ``visibility`` of a test)
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def expected(student, oracle: Callable, *args, **kwargs):
    """``oracle(*args, **kwargs)``: what the function should give, computed once by a
    process that grades many submissions (``student.memory``, ``grader.memory``)."""
    memory = student.memory
    return oracle(*args, **kwargs) if memory is None else memory.expected(oracle, *args,
                                                                           **kwargs)


def grader_draw(student, rng: np.random.Generator, key: tuple, draw: Callable):
    """``draw(rng)``, a draw of the grader's own (a framework's sample, a demo network),
    computed once by a process that grades many submissions; ``rng`` ends where the draw
    leaves it either way."""
    memory = student.memory
    return draw(rng) if memory is None else memory.draw(rng, key, draw)


class CheckFailed(Exception):
    """The student's function ran but does not have the property.

    ``message`` says it in plain words (what the function should do, expected
    vs got, the input); ``evidence`` is the statistic, bound or seed behind the
    verdict, in one clause; ``hint`` says what to do; ``mistake`` names the
    known mistake the check recognised, if any (the class's item analysis
    counts them).
    """

    def __init__(self, message: str, hint: str = "", evidence: str = "",
                 mistake: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.evidence = evidence
        self.mistake = mistake


class Diagnosis(NamedTuple):
    """A hint chosen from what a check observed, and the known mistake it names."""

    hint: str
    mistake: str = ""


@dataclass(frozen=True)
class Figure:
    """What a picture check returns instead of a message: plain data to draw.

    ``kind`` names the drawing (``grader.plots.draw``), ``data`` holds its
    numbers (lists and floats only), ``caption`` says what a correct solution
    would show.
    """

    kind: str
    title: str
    caption: str
    data: dict

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": self.title, "caption": self.caption,
                "data": self.data}


class CheckSkipped(Exception):
    """The check cannot grade here; no points, and ``message`` says why.

    ``pending``: the final grader will grade it (the quiz in the student release).
    """

    def __init__(self, message: str, hint: str = "", pending: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.pending = pending


@dataclass(frozen=True)
class Check:
    """One check: id ``task.function.property``, a kind, a weight and a body.

    The points of a function (``grader.contract.POINTS``) are shared by its
    checks in proportion to ``weight``. ``requires`` names frameworks the
    grader itself needs for the check (``"torch"``, ``"tensorflow"``); when one
    is missing the check is ``skipped``. A ``gated`` check tests a property
    that trivial code could satisfy (no mutation, reproducible, raising
    ``ValueError``, ...): it earns points only once its function passes the
    gate of its battery (correct values on basic inputs). ``visibility`` is
    what the Gradescope report does with it.
    """

    id: str
    kind: str
    run: Callable
    weight: float = 1.0
    requires: tuple[str, ...] = ()
    timeout_s: float = 20.0  # at the default --timeout of 20 s; scaled with it
    hint: str = ""
    gated: bool = False
    visibility: str = "visible"
    #: a picture for the report (kind ``experiment``, no points), run only when asked for
    figure: bool = False

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
            raise ValueError(f"check id {self.id!r} is not task.function.property of the "
                             "student API")
        if self.kind not in KINDS:
            raise ValueError(f"check {self.id}: unknown kind {self.kind!r}; one of {KINDS}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"check {self.id}: unknown visibility {self.visibility!r}; one "
                             f"of {VISIBILITIES}")
        if not self.weight >= 0:
            raise ValueError(f"check {self.id}: weight must be >= 0, got {self.weight!r}")
        if not callable(self.run):
            raise ValueError(f"check {self.id}: run must be callable")
        if self.figure and (self.weight != 0 or self.kind != "experiment"):
            raise ValueError(f"check {self.id}: a picture is an experiment worth no points")


def describe(value: object) -> str:
    """A short description of a returned value, for messages."""
    if isinstance(value, np.ndarray):
        return f"a numpy.ndarray of shape {fmt_shape(value.shape)} and dtype {value.dtype}"
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"the str {value!r:.60}"
    return f"a {type(value).__name__} ({value!r:.60})"


def number(value: object) -> float | None:
    """The number a returned scalar holds (an int, a float, a NumPy real scalar or a real
    array of one value), or None: a bool and anything else is not a number. An int too
    large for a float reads as inf of its sign."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        value = value.reshape(()).item()
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return None


def fmt_shape(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _real_array(value) -> np.ndarray | None:
    """``value`` as a real NumPy array, or None when it holds no comparable numbers."""
    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, (list, tuple)) and all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            for v in value):
        arr = np.asarray(value)
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)):
        arr = np.asarray(value)
    else:
        return None
    if arr.dtype.kind not in "iuf":
        return None
    return arr


def _squeezed(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape if d != 1)


def values(value: object, what: str, shape, *, ordered: bool = True) -> np.ndarray:
    """The numbers ``value`` holds, as float64 of ``shape``, wherever they can be compared.

    A value check grades values, not containers: any real array (or list of
    numbers) of the right size is compared, and its exact shape and dtype are
    the business of the function's ``shape_dtype`` check alone (one mistake
    costs points in one place). With ``ordered`` (values tied to positions,
    such as a batch norm's output) the shape must be ``shape`` up to axes of
    length 1, the ``keepdims=True`` habit; otherwise (independent samples)
    any arrangement of the right number of values is accepted.
    """
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape, dtype=np.int64))
    arr = _real_array(value)
    if arr is None:
        raise CheckFailed(f"{what} should give {n} number{'s' if n != 1 else ''} in an array "
                          f"of shape {fmt_shape(shape)}; got {describe(value)}",
                          "Return a NumPy array (np.asarray), not a tensor, a dict or None.")
    if arr.size != n or (ordered and _squeezed(arr.shape) != _squeezed(shape)):
        raise CheckFailed(f"{what} should give an array of shape {fmt_shape(shape)} ({n} "
                          f"values); got shape {fmt_shape(arr.shape)} ({arr.size} values)",
                          _shape_hint(arr.shape, shape))
    return np.asarray(arr, dtype=np.float64).reshape(shape)


def _shape_hint(got, want) -> str:
    got, want = tuple(got), tuple(want)
    if sorted(got) == sorted(want):
        return "The axes are in the wrong order: keep the order of the shape you were given."
    if len(want) and got == want[1:]:
        return "The first axis is missing."
    return "Check which axes you reduce over and what shape you return."


def expect_array(value: object, what: str, *, shape=None, floating: bool = True) -> np.ndarray:
    """``value`` as exactly a NumPy array of ``shape`` and a floating dtype, or CheckFailed.

    This is what a function's ``shape_dtype`` check asks; value checks use
    :func:`values`.
    """
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{what} should return a numpy.ndarray; got {describe(value)}",
                          "Return a NumPy array (np.asarray), not a list, tensor or scalar.")
    if shape is not None and tuple(value.shape) != tuple(int(d) for d in shape):
        raise CheckFailed(f"{what} should return shape {fmt_shape(shape)}; got "
                          f"{fmt_shape(value.shape)}", _shape_hint(value.shape, shape))
    if floating and value.dtype.kind != "f":
        raise CheckFailed(f"{what} should return a floating array; got dtype {value.dtype}",
                          "Sample or compute in floating point (e.g. float64).")
    return value


def expect_float(value: object, what: str) -> float:
    """The number ``value`` holds (a float, an int, a NumPy scalar or a one-value array)."""
    arr = _real_array(value)
    if arr is None or arr.size != 1:
        raise CheckFailed(f"{what} should return a number (a Python float); got "
                          f"{describe(value)}", "Return float(...) of the result.")
    return float(arr.reshape(()))


def summarize(failures: list[str], limit: int = 3) -> str:
    """The first ``limit`` failures joined, and how many more there were."""
    more = f" (and {len(failures) - limit} more)" if len(failures) > limit else ""
    return "; ".join(failures[:limit]) + more
