"""Points: each function's points shared among its checks, in exact units.

A function is worth a fixed number of points (``grader.contract.POINTS``);
its checks share them in proportion to their weights. Scores are kept as
integer *units* of 0.0001 point: the shares are rounded down and the units
left over go, one each, to the checks with the largest remainders (ties to
the earlier check), so a function's checks add up exactly to its points, a
task's to the task's and the report's to 100 (SPEC: multiples of 0.0001 that
add up exactly).
"""
from __future__ import annotations

from fractions import Fraction

__all__ = ["UNIT", "UNITS_PER_POINT", "allocate", "to_points", "to_units"]

UNITS_PER_POINT = 10_000
UNIT = 1 / UNITS_PER_POINT


def to_units(points: float) -> int:
    return int(round(points * UNITS_PER_POINT))


def to_points(units: int) -> float:
    """A float whose shortest repr has at most four decimals."""
    return round(units / UNITS_PER_POINT, 4)


def allocate(checks, points: dict[str, dict[str, float]]) -> dict[str, int]:
    """check id -> its units, for every check of ``checks``.

    ``points`` is the points table (task -> function -> points). A function
    whose checks all weigh 0 gives each of them 0.
    """
    by_function: dict[tuple[str, str], list] = {}
    for c in checks:
        by_function.setdefault((c.task, c.function), []).append(c)
    out: dict[str, int] = {}
    for (task, function), group in by_function.items():
        total_units = to_units(points[task][function])
        weights = [Fraction(c.weight).limit_denominator(10**6) for c in group]
        total = sum(weights)
        if total == 0:
            out.update({c.id: 0 for c in group})
            continue
        exact = [w * total_units / total for w in weights]
        units = [int(e) for e in exact]
        order = sorted(range(len(group)), key=lambda i: (-(exact[i] - units[i]), i))
        for i in order[: total_units - sum(units)]:
            units[i] += 1
        out.update({c.id: u for c, u in zip(group, units)})
    return out
