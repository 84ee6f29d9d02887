"""The stand-ins of a module's other functions ask the grader, which answers here.

A stand-in (``grader.worker.asking``) and the grader's ``Helpers`` are joined
by the in-process pool's ``exchange``, which packs and unpacks each question
and answer as the socket does: what a student's function gets from a helper
is what it would get from the oracle in its own process, generators advanced
included; the grader answers for no other function, and no question may take
its memory.
"""
from __future__ import annotations

import time
from functools import partial

import numpy as np
import pytest

from standin import exchange as travelling
from grader import wire
from grader.helpers import MAX_ELEMENTS, Helpers
from grader.oracles import initializers as oracle
from grader.worker import asking

INIT = "grader.oracles.initializers"


def _stand_in(name: str, target: str = "he_normal"):
    return asking(name, partial(travelling, Helpers.of("initializers", INIT, target)))


def test_the_grader_answers_for_the_other_functions_only():
    helpers = Helpers.of("initializers", INIT, "he_normal")
    assert "he_normal" not in helpers.names and {"compute_fans", "xavier_normal"} <= helpers.names
    for name in ("he_normal", "_he", "__import__", 5):
        answer = helpers.answer({"name": name, "args": [[3, 4]], "kwargs": {}})
        assert answer["status"] == "raised" and answer["type"] == "RuntimeError", name
        assert "not for" in answer["message"]
    assert Helpers.of("frameworks", None, "build_torch_model") is None


@pytest.mark.parametrize("kind", ["PCG64", "MT19937", "Philox"])
def test_a_generator_comes_back_advanced_as_if_drawn_from_here(kind):
    mine = np.random.Generator(getattr(np.random, kind)(7))
    theirs = np.random.Generator(getattr(np.random, kind)(7))
    stand_in = _stand_in("xavier_normal")
    for shape in ((30, 20), (4, 3, 2)):
        got = stand_in(shape, 1.5, rng=mine)
        expected = oracle.xavier_normal(shape, 1.5, rng=theirs)
        np.testing.assert_array_equal(got, expected)
    assert repr(mine.bit_generator.state) == repr(theirs.bit_generator.state)
    assert mine.random() == theirs.random()


def test_the_oracles_refusal_is_raised_in_the_students_code():
    with pytest.raises(ValueError, match="2"):
        _stand_in("compute_fans")((3,))
    assert _stand_in("compute_fans")((3,), layout="keras") == (3, 3)
    assert _stand_in("calculate_gain")("leaky_relu", 0) == np.sqrt(2.0)


def test_a_question_that_would_take_the_graders_memory_is_refused_at_once():
    start = time.monotonic()
    for shape in ((10**5, 10**5), np.array([10**5, 10**5]), [np.int64(10**5)] * 2):
        with pytest.raises(MemoryError, match=str(MAX_ELEMENTS)):
            _stand_in("xavier_normal")(shape)
    assert time.monotonic() - start < 5.0  # refused, never drawn


def test_what_cannot_travel_or_be_rebuilt_is_a_type_error():
    helpers = Helpers.of("initializers", INIT, "he_normal")
    for state in ({"bit_generator": "Evil"}, {"bit_generator": "PCG64", "state": "x"},
                  {"bit_generator": "PCG64", "state": {"state": 2**300, "inc": 1},
                   "has_uint32": 0, "uinteger": 0}):
        answer = helpers.answer({"name": "xavier_normal", "args": [[3, 4]],
                                 "kwargs": {"rng": wire.RngState(state)}})
        assert (answer["status"], answer["type"]) == ("raised", "TypeError"), state
    with pytest.raises(TypeError, match="plain data"):
        _stand_in("xavier_normal")((3, 4), rng=np.random.RandomState(0))


def test_a_deterministic_helper_asks_each_question_once():
    """compute_fans is asked the same question dozens of times a grading: the stand-in
    remembers the answer (and a refusal); a random helper asks every time."""
    helpers = Helpers.of("initializers", INIT, "he_normal")
    assert helpers.deterministic == {"compute_fans", "calculate_gain"}
    asked = []

    def exchange(question):
        asked.append(question["name"])
        return travelling(helpers, question)
    fans = asking("compute_fans", exchange, {})
    assert [fans((4, 3)) for _ in range(5)] == [(3, 4)] * 5
    assert fans((4, 3, 2)) == (6, 8) and fans([4, 3]) == (3, 4)  # another question each
    for _ in range(3):
        with pytest.raises(ValueError):
            fans((3,))
    assert asked == ["compute_fans"] * 4
    draw = asking("xavier_normal", exchange, None)
    first, second = draw((3, 4)), draw((3, 4))
    assert asked.count("xavier_normal") == 2 and not np.array_equal(first, second)
