"""The tamper guard compares the guarded namespaces by identity, never with ``==``.

A stand-in whose ``__eq__`` says yes to anything made ``vars(numpy) == snapshot``
true, so a call that replaced ``numpy.mean`` (or ``numpy.shares_memory``, which
the worker's aliasing check then trusts) with one went unseen. The batch-level
case is ``patch_with_a_liar`` in ``tests/test_hostile.py``.
"""
from __future__ import annotations

import importlib

import numpy as np

from grader import worker


class _Liar:
    def __init__(self, wrapped, name=None) -> None:
        self.wrapped, self.name = wrapped, name

    def __call__(self, *args, **kwargs):
        return self.wrapped(*args, **kwargs)

    def __eq__(self, other) -> bool:
        return True

    def __hash__(self) -> int:  # as a key, it passes for the name it imitates
        return hash(self.name)


def _guard() -> worker.Guard:
    """A guard taken once the modules a call imports are in (as a server has them)."""
    for name in ("grader.contract", "grader.extract", "grader.materialize", "grader.testfns"):
        importlib.import_module(name)
    return worker.Guard()


def test_a_replacement_that_claims_equality_is_a_replacement():
    guard, real = _guard(), np.mean
    try:
        np.mean = _Liar(real)
        assert guard.tampered() == ["numpy.mean"]
    finally:
        np.mean = real
    assert guard.tampered() == []


def test_a_call_that_plants_one_is_stopped():
    guard, real = _guard(), np.shares_memory

    def aliasing(x):
        np.shares_memory = _Liar(lambda *a, **k: False)
        return x  # its own argument, which the aliasing check would now miss

    try:
        reply = worker.call_target(aliasing, {"args": [np.zeros(3)]}, "/nowhere", guard)
    finally:
        np.shares_memory = real
    assert reply["status"] == "raised" and reply["fatal"]
    assert "numpy.shares_memory" in reply["message"]


def test_names_swapped_behind_keys_that_claim_equality_are_seen():
    """The last two names of a namespace re-entered in the same order of values, under
    keys that imitate each other's names: the same values in the same order, and keys
    that compare equal, but each name now finds the other's value."""
    space = vars(np)
    (a, va), (b, vb) = list(space.items())[-2:]
    guard = _guard()
    try:
        del space[a], space[b]
        space[_Liar(None, b)] = va
        space[_Liar(None, a)] = vb
        assert set(guard.tampered()) == {f"numpy.{a}", f"numpy.{b}"}
    finally:
        for key in [k for k in space if isinstance(k, _Liar)]:
            del space[key]
        space[a], space[b] = va, vb
    assert guard.tampered() == []
