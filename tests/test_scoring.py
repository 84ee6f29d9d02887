"""Points are shared by weight in exact units of 0.0001 and add up exactly."""
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
    assert sorted(set(units.values())) == [17142, 17143]


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
