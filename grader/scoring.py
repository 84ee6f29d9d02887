"""Points: each function's points shared among its checks, in exact shares.

A function is worth a fixed number of points (``grader.contract.POINTS``);
its checks share them in proportion to their weights. Scores are kept as
integer *units* of 0.0001 point (SPEC: every score is a multiple of 0.0001),
and a function's points are shared out in *quanta* of 1/16 point (625
units): the shares are rounded down and the quanta left over go, one each,
to the checks with the largest remainders (ties to the earlier check); a
check with a weight that would get none takes one from the check with the
most. A multiple of 1/16 is exact in binary floating point, so however a
reader sums the JSON (a float each, in any order) a function's checks add up
exactly to its points, a task's to the task's and the report's to 100. With
steps of 0.0001 they would not: 0.1 + 0.2 is 0.30000000000000004 in floats,
and the reference's batchnorm checks summed to 20.000000000000004.
"""
from __future__ import annotations

from fractions import Fraction

__all__ = ["UNIT", "UNITS_PER_POINT", "QUANTUM_UNITS", "allocate", "to_points", "to_units"]

UNITS_PER_POINT = 10_000
UNIT = 1 / UNITS_PER_POINT
#: the step in which points are shared: 1/16 point, a multiple of 0.0001 exact in floats
QUANTUM_UNITS = UNITS_PER_POINT // 16


def to_units(points: float) -> int:
    return int(round(points * UNITS_PER_POINT))


def to_points(units: int) -> float:
    """A float whose shortest repr has at most four decimals."""
    return round(units / UNITS_PER_POINT, 4)


def _share(weights: list[Fraction], quanta: int, where: str) -> list[int]:
    """``quanta`` shared in proportion to ``weights`` (largest remainders), none left at 0."""
    positive = sum(1 for w in weights if w > 0)
    if positive > quanta:
        raise ValueError(f"{where} has {positive} checks that carry a weight but only "
                         f"{quanta} sixteenths of a point to share: give it fewer checks "
                         "or give some of them weight 0")
    total = sum(weights)
    exact = [w * quanta / total for w in weights]
    shares = [int(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: quanta - sum(shares)]:
        shares[i] += 1
    starved = [i for i, w in enumerate(weights) if w > 0 and shares[i] == 0]
    for i in starved:  # the richest holds two or more: quanta >= positive checks
        richest = max(range(len(shares)), key=lambda j: (shares[j], -j))
        shares[richest] -= 1
        shares[i] = 1
    return shares


def allocate(checks, points: dict[str, dict[str, float]]) -> dict[str, int]:
    """check id -> its units (a multiple of :data:`QUANTUM_UNITS`), for every check of ``checks``.

    ``points`` is the points table (task -> function -> points, each a
    multiple of 1/16). A function whose checks all weigh 0 gives each of them 0.
    """
    by_function: dict[tuple[str, str], list] = {}
    for c in checks:
        by_function.setdefault((c.task, c.function), []).append(c)
    out: dict[str, int] = {}
    for (task, function), group in by_function.items():
        total_units = to_units(points[task][function])
        if total_units % QUANTUM_UNITS:
            raise ValueError(f"{task}.{function} is worth {points[task][function]} points, "
                             "which is not a multiple of 1/16")
        weights = [Fraction(c.weight).limit_denominator(10**6) for c in group]
        if sum(weights) == 0:
            out.update({c.id: 0 for c in group})
            continue
        shares = _share(weights, total_units // QUANTUM_UNITS, f"{task}.{function}")
        out.update({c.id: s * QUANTUM_UNITS for c, s in zip(group, shares)})
    return out
