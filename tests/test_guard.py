"""The tamper guard compares the guarded namespaces by identity, never with ``==``.

A stand-in whose ``__eq__`` says yes to anything made ``vars(numpy) == snapshot``
true, so a call that replaced ``numpy.mean`` (or ``numpy.shares_memory``, which
the worker's aliasing check then trusts) with one went unseen. The batch-level
case is ``patch_with_a_liar`` in ``tests/test_hostile.py``.

Where the interpreter versions its dictionaries (``worker.dict_versions``), the
guard compares nothing while no version has changed; every test of what it
catches runs both ways (``versioned``: as a worker here runs it; ``compared``: the
versions withheld, as on an interpreter without them).
"""
from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

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


@pytest.fixture(params=["versioned", "compared"])
def versions(request) -> bool:
    if request.param == "versioned" and worker.dict_versions([]) is None:
        pytest.skip("this interpreter has no dictionary versions to trust")
    return request.param == "versioned"


def _guard(versioned: bool = True) -> worker.Guard:
    """A guard taken once the modules a call imports are in (as a server has them);
    without ``versioned``, one that compares every entry every time."""
    worker.guarded_imports()
    for name in ("grader.contract", "grader.extract", "grader.materialize", "grader.testfns"):
        importlib.import_module(name)
    guard = worker.Guard()
    if not versioned:
        guard.versions = guard.seen = None
    return guard


def test_a_replacement_that_claims_equality_is_a_replacement(versions):
    guard, real = _guard(versions), np.mean
    try:
        np.mean = _Liar(real)
        assert guard.tampered() == ["numpy.mean"]
    finally:
        np.mean = real
    assert guard.tampered() == []


def test_a_call_that_plants_one_is_stopped(versions):
    guard, real = _guard(versions), np.shares_memory

    def aliasing(x):
        np.shares_memory = _Liar(lambda *a, **k: False)
        return x  # its own argument, which the aliasing check would now miss

    try:
        reply = worker.call_target(aliasing, {"args": [np.zeros(3)]}, "/nowhere", guard)
    finally:
        np.shares_memory = real
    assert reply["status"] == "raised" and reply["fatal"]
    assert "numpy.shares_memory" in reply["message"]


def test_names_swapped_behind_keys_that_claim_equality_are_seen(versions):
    """The last two names of a namespace re-entered in the same order of values, under
    keys that imitate each other's names: the same values in the same order, and keys
    that compare equal, but each name now finds the other's value."""
    space = vars(np)
    (a, va), (b, vb) = list(space.items())[-2:]
    guard = _guard(versions)
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


def test_a_name_added_is_allowed_and_does_not_blind_the_guard(versions):
    """An allowed change (a name added, a module imported) is looked at once; a
    replacement after it is caught all the same."""
    guard, real = _guard(versions), np.mean
    try:
        np.grader_test_added = 1
        assert guard.tampered() == []
        assert guard.unchanged() == versions  # seen, and remembered as allowed
        np.mean = _Liar(real)
        assert guard.tampered() == ["numpy.mean"]
    finally:
        np.mean = real
        del np.grader_test_added
    assert guard.tampered() == []


def test_a_module_replaced_in_sys_modules_is_seen(versions):
    guard, real = _guard(versions), sys.modules["numpy.linalg"]
    fake = type(real)("numpy.linalg")
    try:
        sys.modules["numpy.linalg"] = fake
        assert "numpy.linalg.norm" in guard.tampered()
    finally:
        sys.modules["numpy.linalg"] = real
    assert guard.tampered() == []


def test_a_version_follows_its_own_dictionary_only():
    """What the versioned guard rests on: a value replaced in place (the size
    unchanged) changes that dictionary's version and no other's."""
    mine, theirs = {"x": 1}, {"x": 1}
    readers = worker.dict_versions([mine, theirs])
    if readers is None:
        pytest.skip("this interpreter has no dictionary versions to trust")
    before = [r.value for r in readers]
    mine["x"] = 2
    after = [r.value for r in readers]
    assert after[0] != before[0] and after[1] == before[1]


def test_a_guard_taken_before_a_change_no_longer_fits():
    """A server's guard serves a worker only while nothing it guards has changed."""
    guard = _guard()
    if guard.versions is None:
        pytest.skip("this interpreter has no dictionary versions to trust")
    assert guard.unchanged()
    try:
        np.grader_test_added = 1
        assert not guard.unchanged()
    finally:
        del np.grader_test_added
