"""The wire's stand-in tags made real: ``Rng(seed)`` and ``Fn(name, params)``.

Used where plain data meets code: in the worker, before a student function is
called, and in the grader, before an oracle is called on the same inputs.
"""
from __future__ import annotations

import numpy as np

from grader import testfns
from grader.wire import Fn, Rng

__all__ = ["materialize"]


_PLAIN = (float, int, str, bool, type(None), np.ndarray)  # the common leaves, at once


def materialize(value):
    """``value`` with every Rng and Fn replaced by the object it stands for."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Rng):
        return np.random.default_rng(list(value.seed))
    if isinstance(value, Fn):
        return testfns.make(value.name, value.params)
    if isinstance(value, list):
        return [materialize(v) for v in value]
    if isinstance(value, tuple):
        return tuple(materialize(v) for v in value)
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    return value
