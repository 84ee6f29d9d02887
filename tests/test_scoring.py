"""Points are shared by weight in sixteenths of a point and add up exactly, even as floats."""
from __future__ import annotations

from grader.check import Check
from grader.contract import POINTS, TASKS
from grader.grading import load_batteries
from grader.scoring import allocate, to_points


def _noop(student, rng):
    return ""


def test_largest_remainder_keeps_the_sum():
    checks = [Check(f"batchnorm.batchnorm_forward.c{i}", "unit", _noop, weight=1.0)
              for i in range(7)]
    units = allocate(checks, POINTS)
    assert sum(units.values()) == 12 * 10000
    # 192 sixteenths over 7 checks: 27 each and 3 left over, to the first three
    assert [u // 625 for u in units.values()] == [28, 28, 28, 27, 27, 27, 27]


def test_float_sums_of_the_shares_are_exact_in_any_order():
    """With shares in steps of 0.0001 the reference's batchnorm checks summed to 20.000000000000004."""
    import itertools
    import random

    batteries = load_batteries(TASKS)
    units = allocate([c for b in batteries for c in b.checks], POINTS)
    points = [to_points(u) for u in units.values()]
    rng = random.Random(0)
    for _ in range(200):
        rng.shuffle(points)
        assert sum(points) == 100.0
        assert list(itertools.accumulate(points))[-1] == 100.0
    for b in batteries:
        shares = [to_points(units[c.id]) for c in b.checks]
        assert sum(shares) == sum(POINTS[b.task].values())
        assert sum(reversed(shares)) == sum(POINTS[b.task].values())


def test_a_weighted_check_never_gets_nothing():
    weights = [100.0] + [0.001] * 5 + [0.0]
    checks = [Check(f"quiz.q1.c{i}", "unit", _noop, weight=w) for i, w in enumerate(weights)]
    units = allocate(checks, POINTS)  # q1 is worth 2 points: 32 sixteenths
    assert [u // 625 for u in units.values()] == [27, 1, 1, 1, 1, 1, 0]
    assert sum(units.values()) == 2 * 10000


def test_more_weighted_checks_than_sixteenths_is_refused():
    import pytest

    checks = [Check(f"quiz.q1.c{i}", "unit", _noop, weight=1.0) for i in range(33)]
    with pytest.raises(ValueError, match="33 checks that carry a weight but only 32 sixteenths"):
        allocate(checks, POINTS)


def test_every_function_and_task_adds_up_exactly():
    batteries = load_batteries(TASKS)
    units = allocate([c for b in batteries for c in b.checks], POINTS)
    assert sum(units.values()) == 100 * 10000
    for b in batteries:
        for f in b.functions:
            got = sum(units[c.id] for c in b.checks if c.function == f)
            assert got == round(POINTS[b.task][f] * 10000), (b.task, f)
    assert to_points(sum(units.values())) == 100


def test_zero_weight_checks_get_nothing():
    checks = [Check("quiz.q1.answer", "unit", _noop, weight=0.0)]
    assert allocate(checks, POINTS) == {"quiz.q1.answer": 0}
