"""The module's other SPEC functions while one of them is graded: the grader answers.

While a student's function is graded, the other SPEC functions of its module
(its *helpers*) are the grader's oracles, so that a bug in a helper costs
points once, in the helper. The oracles never run in the worker: there, each
helper is a stand-in that sends its call to the grader as a question
(``grader.worker.asking``), and :meth:`Helpers.answer` computes the answer
here. So the worker holds none of the grader's oracles, and the student's
code cannot reach the one of the function being graded (through
``sys.modules``, ``gc.get_objects`` or a stand-in's closure); and the grader
answers only for the module's other functions, whatever a forged question
asks.

A question is plain data (``grader.wire``). A NumPy ``Generator`` among its
arguments travels as its state (``wire.RngState``) and comes back advanced,
as if the helper had drawn from it in the worker. A worker remembers the
small answers of the deterministic helpers (``compute_fans`` is asked the
same question dozens of times a grading) and asks each question once. The grader computes an
answer of at most :data:`MAX_ELEMENTS` array elements (the arrays given, and
the array a shape asks for): a larger one could not travel back, and a
student's question must not take the grader's memory.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass

import numpy as np

from grader import wire
from grader.contract import POINTS

__all__ = ["Helpers", "MAX_ELEMENTS"]

#: the most array elements a question may give or ask for (256 MB of float64, a frame's
#: largest: ``wire.MAX_FRAME_BYTES``)
MAX_ELEMENTS = wire.MAX_FRAME_BYTES // 8
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_TEXT_CAP = 2000


class _Refused(Exception):
    """A question the grader does not answer; ``kind`` is what the worker raises."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Helpers:
    """The helpers of one graded function: ``module`` (the task's oracles) answers for
    ``names``, the module's other SPEC functions it defines; those of ``deterministic``
    answer the same question the same way (the module's ``DETERMINISTIC``), so that a
    worker may remember their answers."""

    module: str
    names: frozenset[str]
    deterministic: frozenset[str] = frozenset()

    @classmethod
    def of(cls, task: str, module: str | None, target: str) -> "Helpers | None":
        """The helpers of ``target`` in ``task`` (None when the task has no oracles)."""
        if not module:
            return None
        oracles = importlib.import_module(module)
        names = frozenset(n for n in POINTS[task] if n != target and hasattr(oracles, n))
        same = names & frozenset(getattr(oracles, "DETERMINISTIC", ()))
        return cls(module, names, same) if names else None

    def answer(self, question: dict) -> dict:
        """The answer to a worker's ``question`` (``{"name", "args", "kwargs"}``), as the
        fields of the frame that goes back: ``status`` ``ok`` with ``value`` and the
        generators' ``states``, or ``raised`` with the exception's ``type`` and
        ``message``."""
        try:
            oracle, args, kwargs, generators = self._read(question)
        except _Refused as refused:
            return {"status": "raised", "type": refused.kind, "message": str(refused)}
        try:
            value = oracle(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the oracle's ValueError is SPEC's answer
            return {"status": "raised", "type": type(exc).__name__,
                    "message": str(exc)[:_TEXT_CAP]}
        return {"status": "ok", "value": value,
                "states": [wire.RngState(g.bit_generator.state) for g in generators]}

    def _read(self, question: dict):
        name, args, kwargs = question.get("name"), question.get("args"), question.get("kwargs")
        if type(name) is not str or name not in self.names:
            raise _Refused("RuntimeError", f"the grader answers for {', '.join(sorted(self.names))}"
                           f" while this function is graded, not for {name!r}")
        if type(args) is not list or type(kwargs) is not dict or \
                not all(type(k) is str for k in kwargs):
            raise _Refused("RuntimeError", f"a malformed call of {name}")
        generators: list = []
        args = [_given(name, a, generators) for a in args]
        kwargs = {k: _given(name, v, generators) for k, v in kwargs.items()}
        size = sum(_elements(v) for v in (*args, *kwargs.values()))
        if size > MAX_ELEMENTS:
            raise _Refused("MemoryError", f"{name} was asked for arrays of {size} elements; "
                           f"the grader answers helpers for up to {MAX_ELEMENTS}")
        return getattr(importlib.import_module(self.module), name), args, kwargs, generators


def _given(name: str, value, generators: list):
    """One argument as the oracle takes it: a generator rebuilt from its state."""
    if isinstance(value, wire.RngState):
        kind = value.state.get("bit_generator")
        if kind not in _BIT_GENERATORS:
            raise _Refused("TypeError", f"{name} cannot be given a generator of {kind!r}")
        bit_generator = getattr(np.random, kind)()
        try:
            bit_generator.state = value.state
        except Exception as exc:  # noqa: BLE001 - whatever NumPy makes of a forged state
            raise _Refused("TypeError", f"{name} was given a generator in a state NumPy "
                           f"refuses: {exc}") from None
        generator = np.random.Generator(bit_generator)
        generators.append(generator)
        return generator
    if _holds_unsupported(value):
        raise _Refused("TypeError", f"{name} was given a value that is not plain data (pass "
                       "numbers, strings, tuples, lists, dicts, NumPy arrays and generators)")
    return value


def _holds_unsupported(value) -> bool:
    if isinstance(value, wire.Unsupported):
        return True
    if isinstance(value, (list, tuple, frozenset)):
        return any(map(_holds_unsupported, value))
    if isinstance(value, dict):
        return any(map(_holds_unsupported, value.values()))
    return False


def _elements(value) -> int:
    """The array elements ``value`` gives, or asks for when it may be a shape (integers
    in a sequence or a 1-D array: an initializer draws an array of their product)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.dtype.kind in "iu":
            return value.size + _shape_size(value.tolist())
        return value.size
    if isinstance(value, (list, tuple)):
        if value and all(_integer(v) for v in value):
            return _shape_size(value)
        return sum(map(_elements, value))
    if isinstance(value, dict):
        return sum(map(_elements, value.values()))
    return 0


def _integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _shape_size(dims) -> int:
    return math.prod(max(int(d), 0) for d in dims)
