"""A refusal a check asks for comes back without its traceback.

An initializer must refuse an invalid shape with ``ValueError``, and the
invalid-input checks make it refuse hundreds of times a grading. The message
of such a check never shows the traceback of a ``ValueError`` (it passes), so
the worker does not format one (``StudentFunction.call(..., _expected=...)``);
every other exception, and the same one where no check asked for it, still
comes back with the student's own frames.
"""
from __future__ import annotations

import importlib.util

import pytest

from conftest import REFERENCE
from grader import worker
from grader.sandbox import Limits
from grader.student import StudentFunction

SOURCE = """\
def refuse(x):
    raise ValueError(f"no {x}")


def trip(x):
    raise TypeError(f"bad {x}")


class Odd(ValueError):
    pass


def refuse_oddly(x):
    raise Odd(f"odd {x}")
"""


@pytest.fixture
def module(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "refusing.py").write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("refusing", sub / "refusing.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, str(sub)


def _reply(fn, submission, **request):
    reply = worker.call_target(fn, {"args": [3], **request}, submission)
    assert reply["status"] == "raised"
    return reply


def test_the_refusal_asked_for_comes_back_without_its_traceback(module):
    mod, sub = module
    asked = _reply(mod.refuse, sub, expected="ValueError")
    assert (asked["type"], asked["message"], asked["traceback"]) == ("ValueError", "no 3", "")
    odd = _reply(mod.refuse_oddly, sub, expected="ValueError")  # a ValueError all the same
    assert "ValueError" in odd["mro"] and odd["traceback"] == ""


def test_any_other_exception_keeps_the_students_frames(module):
    mod, sub = module
    unasked = _reply(mod.refuse, sub)
    assert 'File "refusing.py", line 2, in refuse' in unasked["traceback"]
    assert unasked["traceback"].rstrip().endswith("ValueError: no 3")
    other = _reply(mod.trip, sub, expected="ValueError")
    assert 'File "refusing.py", line 6, in trip' in other["traceback"]
    # the same fields but the traceback, asked for or not
    assert {k: v for k, v in _reply(mod.refuse, sub, expected="ValueError").items()
            if k != "traceback"} == {k: v for k, v in unasked.items() if k != "traceback"}


def test_a_check_that_expects_a_refusal_asks_for_it_and_others_do_not():
    from standin import InProcessPool

    from grader.grading import load_batteries
    from grader.submission import locate

    battery = load_batteries(("initializers",))[0]
    pool = InProcessPool()
    student = StudentFunction("he_normal", pool.worker(locate(str(REFERENCE)), battery,
                                                       "he_normal", Limits()))
    asked = student.call((4, -1), _expected="ValueError").raised
    unasked = student.call((4, -1)).raised
    assert asked.is_a("ValueError") and asked.traceback == ""
    assert 'File "initializers.py"' in unasked.traceback
    assert (asked.type, asked.message) == (unasked.type, unasked.message)


def test_the_invalid_input_checks_ask_for_the_refusal(monkeypatch):
    from grader.checks.initializers import arguments

    seen = []

    class Recording:
        def call(self, *args, _expected=None, **kwargs):
            seen.append(_expected)
            raise StopIteration  # what the call returns does not matter here

    with pytest.raises(StopIteration):
        arguments.expect_value_error(Recording(), ((4, -1),), {}, "a negative dimension",
                                     "he_normal")
    assert seen == ["ValueError"]
