"""Invalid arguments every initializer must refuse with ``ValueError``."""
from __future__ import annotations

from functools import partial

import numpy as np
from hypothesis import strategies as st

from grader.check import describe
from grader.student import StudentRaised, called_wrongly

__all__ = ["expect_value_error", "expect_value_errors", "bad_shapes", "bad_shape",
           "shape_strategy"]

_BAD_DIMS = [(-1, "a negative dimension"), (4.0, "a float dimension, even 4.0"),
             (np.float64(4.0), "a NumPy float dimension"), (True, "a bool dimension"),
             (np.bool_(True), "a NumPy bool dimension"), ("4", "a string dimension"),
             (None, "a None dimension")]


def expect_value_error(student, args: tuple, kw: dict, why: str, name: str) -> str | None:
    """None if the call raised ValueError, else what went wrong (for a message)."""
    result = student.call(*args, _expected="ValueError", **kw)
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kw.items()])
    call = f"{name}({shown})"
    if result.raised is None:
        return f"{call} returned {describe(result.value)} instead of raising ValueError ({why})"
    if called_wrongly(result.raised):  # not a refusal: it cannot be called as SPEC says
        raise StudentRaised(result.raised, call)
    if not result.raised.is_a("ValueError"):
        return f"{call} raised {result.raised.type} instead of ValueError ({why})"
    return None


def expect_value_errors(student, calls: list[tuple[tuple, dict, str]], name: str
                        ) -> list[str]:
    """What went wrong in each of ``calls`` (``(args, kwargs, why)``; see
    :func:`expect_value_error`), in order. Each is one call whose arguments are fixed
    in advance, so they all go to the worker ahead (``StudentFunction.in_turn``)
    instead of one round trip each; a call that stops the list (one that cannot be
    made as SPEC says) stops the worker with what it ran ahead."""
    return [p for p in student.in_turn([partial(expect_value_error, student, args, kw, why,
                                                name) for args, kw, why in calls]) if p]


def bad_shapes(base: tuple[int, ...]) -> list[tuple[object, str]]:
    out = [((*base[:-1], bad), why) for bad, why in _BAD_DIMS]
    out += [([base[0], 2.5], "a float dimension"), (64, "a shape that is an int, not a tuple"),
            (None, "no shape"), ("64", "a shape that is a string")]
    return out


@st.composite
def bad_shape(draw, min_dims: int):
    """A shape with one invalid dimension (negative, float or bool)."""
    dims = draw(st.lists(st.integers(0, 6), min_size=max(1, min_dims), max_size=4))
    i = draw(st.integers(0, len(dims) - 1))
    dims[i] = draw(st.one_of(st.integers(-50, -1),
                             st.floats(allow_nan=True, allow_infinity=True), st.booleans()))
    return tuple(dims) if draw(st.booleans()) else dims


@st.composite
def shape_strategy(draw, min_dims: int, max_dims: int = 5, max_dim: int = 7):
    """A valid shape: a tuple or list of Python or NumPy integers."""
    dims = draw(st.lists(st.integers(0, max_dim), min_size=min_dims, max_size=max_dims))
    if draw(st.booleans()):
        dims = [np.int64(d) for d in dims]
    return tuple(dims) if draw(st.booleans()) else list(dims)
